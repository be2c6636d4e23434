//! Markdown: the summary a person pastes into a pull request or an issue.
//!
//! It answers, in reading order: did the run pass, which invariant broke
//! and which history lines prove it, which faults ran when, how available
//! and how fast the system was, and how to replay the run. Text that comes
//! from a scenario or a checker is escaped, so it can neither break a table
//! nor smuggle HTML into the page that renders it.

use super::evidence_log;
pub use super::md_text::{cell, inline};
use super::view::{self, AvailabilityNumbers};
use super::{replay_command, RunReport};
use crate::assertions::AssertionRecord;
use crate::check::Status;
use crate::record::{RunRecord, TraceKind};
use std::fmt::Write;
use std::time::Duration;

mod suite;
pub use suite::render_suite;

/// History lines shown per failed invariant; the JSON report has them all.
pub const MAX_EVIDENCE_LINES: usize = 12;
/// Panics shown from the trace; a run that panics usually panics once, and
/// a flood of them says nothing more.
pub const MAX_PANICS_SHOWN: usize = 10;
/// Seeds listed in a suite summary. A pull request comment has a size
/// limit, and past this many the pattern is clear: `summary.json` has all.
pub const MAX_SUITE_FAILURES_SHOWN: usize = 50;
/// Assertions listed in a suite summary, over all scenarios; past this
/// many, `summary.json` has the rest.
pub const MAX_SUITE_ASSERTIONS_SHOWN: usize = 100;

/// The summary of one run.
pub fn render(report: &RunReport, record: &RunRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## {} · {} · seed {}",
        badge(report.status),
        code_span(&report.scenario.name),
        report.seed
    );
    out.push('\n');
    if !report.scenario.description.trim().is_empty() {
        for line in report.scenario.description.trim().lines() {
            let _ = writeln!(out, "> {}", inline(line));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} simulated · {} operations · run {} · trace {} · harness {}",
        view::time_label(report.run.simulated),
        report.history.operations,
        inline(&report.run.end.describe()),
        code_span(&report.trace_hash),
        inline(&report.harness_version)
    );

    out.push_str("\n### Verdicts\n\n");
    out.push_str("| invariant | status | summary |\n| --- | --- | --- |\n");
    for v in &report.verdicts {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cell(&v.invariant),
            badge(v.status),
            cell(&v.summary)
        );
    }

    let problems = report.failed_invariants();
    if !problems.is_empty() {
        out.push_str("\n### What went wrong\n");
        for v in problems {
            let _ = writeln!(
                out,
                "\n#### {}: {}\n",
                code_span(&v.invariant),
                v.status.as_str()
            );
            out.push_str(&block_or_line(&v.summary));
            if let Some(expected) = &v.expected {
                let _ = writeln!(out, "\n**Expected:** {}", inline(expected));
            }
            if !v.evidence.is_empty() {
                let shown = v.evidence.len().min(MAX_EVIDENCE_LINES);
                if shown < v.evidence.len() {
                    let _ = writeln!(
                        out,
                        "\nEvidence (the first {shown} of {} history events; report.json has all):\n",
                        v.evidence.len()
                    );
                } else {
                    let _ = writeln!(out, "\nEvidence ({shown} history events):\n");
                }
                let lines: Vec<String> =
                    v.evidence[..shown].iter().map(view::history_line).collect();
                out.push_str(&fenced("text", &lines.join("\n")));
            }
            target_log(&mut out, v, record);
        }
    }

    out.push_str("\n### Faults\n\n");
    let windows = view::fault_windows(report);
    if windows.is_empty() {
        out.push_str("No faults in this plan.\n");
    } else {
        out.push_str("| start | end | fault |\n| ---: | ---: | --- |\n");
        for w in &windows {
            let end = w
                .end
                .map_or_else(|| "not healed".to_string(), view::time_label);
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                view::time_label(w.start),
                cell(&end),
                cell(&w.label)
            );
        }
    }

    let (roles, more) = view::role_rows(record);
    if !roles.is_empty() {
        out.push_str("\n### Roles\n\n| role | host | from | to |\n| --- | --- | ---: | ---: |\n");
        for [role, host, from, to] in &roles {
            let _ = writeln!(out, "| {} | {} | {from} | {to} |", cell(role), cell(host));
        }
        if more > 0 {
            let _ = writeln!(out, "\n({more} more role spans not shown)");
        }
    }

    if let Some(verdict) = view::availability(report) {
        let numbers = AvailabilityNumbers::of(verdict);
        out.push_str("\n### Availability and latency\n\n");
        out.push_str("| measure | value |\n| --- | --- |\n");
        for (label, value) in &numbers.measures {
            let _ = writeln!(out, "| {} | {} |", cell(label), cell(value));
        }
        if !numbers.latency.is_empty() {
            out.push_str("\nLatency of operations that ended `ok`:\n\n");
            out.push_str("| operation | count | p50 | p90 | p99 | max |\n");
            out.push_str("| --- | ---: | ---: | ---: | ---: | ---: |\n");
            for l in &numbers.latency {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    cell(&l.kind),
                    l.count,
                    view::ms_label(l.p50_ms),
                    view::ms_label(l.p90_ms),
                    view::ms_label(l.p99_ms),
                    view::ms_label(l.max_ms)
                );
            }
        }
    }

    if let Some(recovery) = &report.recovery {
        super::recovery_md::run_table(&mut out, recovery);
    }

    if !report.assertions.is_empty() {
        out.push_str("\n### Assertions\n\n");
        out.push_str("| assertion | kind | hits | passes | failures | evidence |\n");
        out.push_str("| --- | --- | ---: | ---: | ---: | --- |\n");
        for a in &report.assertions {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&a.message),
                a.kind.as_str(),
                a.hits,
                a.passes,
                a.failures,
                cell(&run_evidence(a))
            );
        }
    }

    let panics: Vec<_> = record
        .trace
        .iter()
        .filter(|t| t.kind == TraceKind::Panic)
        .collect();
    if !panics.is_empty() {
        out.push_str("\n### Panics\n\n");
        for p in panics.iter().take(MAX_PANICS_SHOWN) {
            let _ = writeln!(
                out,
                "- {} on {}:",
                view::time_label(Duration::from_nanos(p.time_ns)),
                code_span(&p.source)
            );
            out.push_str(&indent(&fenced("text", &p.message), "  "));
        }
        if panics.len() > MAX_PANICS_SHOWN {
            let _ = writeln!(out, "- … and {} more", panics.len() - MAX_PANICS_SHOWN);
        }
    }

    out.push_str("\n### Replay\n\n");
    out.push_str(&fenced("sh", &replay_command(&report.replay)));
    out
}

/// The target's log in a failed verdict's evidence window, as a text
/// block under the evidence; nothing when the verdict quotes no history
/// event.
fn target_log(out: &mut String, v: &crate::check::Verdict, record: &RunRecord) {
    let Some(log) = evidence_log::of(v, record) else {
        return;
    };
    if log.lines.is_empty() {
        let _ = writeln!(
            out,
            "\nTarget log ({}): the target logged nothing in the evidence window.",
            log.range
        );
        return;
    }
    let _ = writeln!(
        out,
        "\nTarget log ({}, {} of {} events):\n",
        log.range,
        log.lines.len(),
        log.total
    );
    out.push_str(&fenced("text", &log.lines.join("\n")));
    if log.total > log.lines.len() {
        out.push_str("\nThe rest: `replay --trace` prints every event.\n");
    }
}

/// What a run's record of one assertion shows: when it first failed, or
/// first held for the kinds that want to hold once.
fn run_evidence(a: &AssertionRecord) -> String {
    let (what, occurrence) = match (&a.first_failure, &a.first_pass) {
        (Some(f), _) if a.violated() => ("failed", f),
        (_, Some(p)) if a.kind.wants_once() => ("held", p),
        _ if a.kind.wants_once() => return "never held".into(),
        _ => return String::new(),
    };
    let mut text = format!(
        "first {what} at {}",
        view::time_label(Duration::from_nanos(occurrence.time_ns))
    );
    if let Some(host) = &occurrence.host {
        let _ = write!(text, " on {host}");
    }
    if !occurrence.details.is_null() {
        let _ = write!(text, ": {}", occurrence.details);
    }
    text
}

fn badge(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅ PASS",
        Status::Fail => "❌ FAIL",
        Status::Unknown => "❓ UNKNOWN",
    }
}

/// A code span in a table cell. Inside code spans backslashes are literal,
/// except that GitHub's tables still need `\|` for a pipe.
fn cell_code(text: &str) -> String {
    code_span(&text.replace(['\r', '\n'], " ")).replace('|', "\\|")
}

/// A code span that survives backticks in its text.
fn code_span(text: &str) -> String {
    let longest = longest_run(text, '`');
    if longest == 0 {
        return format!("`{text}`");
    }
    let ticks = "`".repeat(longest + 1);
    format!("{ticks} {text} {ticks}")
}

/// A fenced code block whose fence is longer than any run of backticks in
/// its text, so the text cannot close it early.
fn fenced(info: &str, text: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    format!("{fence}{info}\n{}\n{fence}\n", text.trim_end_matches('\n'))
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for x in text.chars() {
        run = if x == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// A one-line text as a paragraph; a multi-line one (a panic message with
/// its location) as a code block, which keeps its lines.
fn block_or_line(text: &str) -> String {
    if text.trim().contains('\n') {
        fenced("text", text.trim())
    } else {
        format!("{}\n", inline(text.trim()))
    }
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|l| format!("{prefix}{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{SeedResult, SuiteSummary};

    #[test]
    fn cells_cannot_end_the_cell_or_the_row_or_inject_html() {
        assert_eq!(cell("a | b\nc"), "a \\| b<br>c");
        assert_eq!(
            cell("<script>alert(1)</script>"),
            "&lt;script>alert(1)&lt;/script>"
        );
        assert_eq!(
            inline("ok ratio 0.2 < 0.5, >= 3 & &amp;"),
            "ok ratio 0.2 < 0.5, >= 3 & &amp;amp;"
        );
        assert_eq!(inline("> not a quote"), "&gt; not a quote");
        assert_eq!(cell("2*3 `x`"), "2\\*3 \\`x\\`");
    }

    #[test]
    fn code_survives_backticks() {
        assert_eq!(code_span("a`b"), "`` a`b ``");
        assert!(fenced("text", "```\nx").starts_with("````text\n"));
        assert_eq!(
            cell_code("chaos replay a|b --seed 1"),
            "`chaos replay a\\|b --seed 1`"
        );
    }

    #[test]
    fn a_suite_summary_lists_unknown_seeds_with_their_replay_command() {
        let results = vec![
            SeedResult {
                scenario: "s".into(),
                seed: 0,
                status: Status::Pass,
                problems: vec![],
                failed: Vec::new(),
                trace_hash: "00".into(),
                replay: "replay s.toml --seed 0".into(),
                fault_kinds: Vec::new(),
                reached: Vec::new(),
                assertions: Vec::new(),
                recovery: None,
            },
            SeedResult {
                scenario: "s".into(),
                seed: 1,
                status: Status::Unknown,
                problems: vec!["linearizable: budget | exhausted".into()],
                failed: Vec::new(),
                trace_hash: "01".into(),
                replay: "replay s.toml --seed 1".into(),
                fault_kinds: Vec::new(),
                reached: Vec::new(),
                assertions: Vec::new(),
                recovery: None,
            },
        ];
        let md = render_suite(&SuiteSummary::from_results(
            &results,
            &Default::default(),
            0,
        ));
        assert!(
            md.starts_with("## ❓ UNKNOWN · chaos suite · 1 of 2 seeds passed\n"),
            "{md}"
        );
        assert!(md.contains(
            "| s | 1 | ❓ UNKNOWN | linearizable: budget \\| exhausted | `chaos replay s.toml --seed 1` |"
        ));
    }

    #[test]
    fn the_target_log_in_the_evidence_window_is_listed_under_the_evidence() {
        let (report, record) = crate::report::evidence_log::fixture::sample();
        let md = render(&report, &record);
        let block = md
            .split("Target log (")
            .nth(1)
            .expect("a target log block")
            .split("\n```\n")
            .next()
            .unwrap();
        assert!(
            block.starts_with("200ms to 210ms, 1 of 1 events):"),
            "{block}"
        );
        assert!(
            block.contains("205ms server INFO register: inside term=3"),
            "{block}"
        );
        assert!(
            !block.contains("before") && !block.contains("after"),
            "{block}"
        );
    }
}
