//! The suite summary in Markdown: the verdict and seed counts per
//! scenario, the seeds that did not pass with their replay commands, the
//! recovery and coverage tables and the assertions.

use super::{badge, cell, cell_code, inline, MAX_SUITE_ASSERTIONS_SHOWN, MAX_SUITE_FAILURES_SHOWN};
use crate::report::replay_command;
use crate::report::summary::SuiteSummary;
use std::fmt::Write;

/// The summary of a suite run: a table per scenario, then every seed that
/// did not pass with the command that replays it.
pub fn render_suite(summary: &SuiteSummary) -> String {
    let t = &summary.total;
    let status = summary.status();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## {} · chaos suite · {} of {} seeds passed",
        badge(status),
        t.passed,
        t.seeds
    );
    if summary.total.seeds == 0 || summary.not_run > 0 || summary.interrupted {
        out.push('\n');
        for reason in summary.not_green_because() {
            if !summary.coverage_failures.contains(&reason) {
                let _ = writeln!(out, "**Not green: {reason}.**");
            }
        }
    }
    out.push_str("\n| scenario | seeds | passed | failed | unknown |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: |\n");
    for (name, s) in &summary.scenarios {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(name),
            s.seeds,
            s.passed,
            s.failed,
            s.unknown
        );
    }
    let _ = writeln!(
        out,
        "| **total** | {} | {} | {} | {} |",
        t.seeds, t.passed, t.failed, t.unknown
    );
    if !summary.coverage_failures.is_empty() {
        out.push_str("\n### Coverage requirements not met\n\n");
        for f in &summary.coverage_failures {
            let _ = writeln!(out, "- {}", inline(f));
        }
    }
    crate::report::recovery_md::suite_table(&mut out, &summary.recovery);
    suite_assertions(&mut out, summary);
    if !summary.failures.is_empty() {
        out.push_str("\n### Seeds that did not pass\n\n");
        out.push_str("| scenario | seed | status | problems | replay |\n");
        out.push_str("| --- | ---: | --- | --- | --- |\n");
        for f in summary.failures.iter().take(MAX_SUITE_FAILURES_SHOWN) {
            let problems: Vec<String> = f.problems.iter().map(|p| cell(p)).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&f.scenario),
                f.seed,
                badge(f.status),
                problems.join("<br>"),
                cell_code(&replay_command(&f.replay))
            );
        }
        if summary.failures.len() > MAX_SUITE_FAILURES_SHOWN {
            let _ = writeln!(
                out,
                "\n… and {} more; `summary.json` lists every one.",
                summary.failures.len() - MAX_SUITE_FAILURES_SHOWN
            );
        }
    }
    let _ = writeln!(out, "\nharness {}", inline(&summary.harness_version));
    out
}

/// The suite's assertions: per scenario, how many seeds reached each, how
/// many it held in, and whether it did what its kind asks.
fn suite_assertions(out: &mut String, summary: &SuiteSummary) {
    let total: usize = summary.assertions.values().map(Vec::len).sum();
    if total == 0 {
        return;
    }
    out.push_str("\n### Assertions\n\n");
    out.push_str(
        "| scenario | assertion | kind | seeds reached | seeds held | hits | passes | failures | result |\n",
    );
    out.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    let rows = summary
        .assertions
        .iter()
        .flat_map(|(scenario, tallies)| tallies.iter().map(move |t| (scenario, t)));
    for (scenario, t) in rows.take(MAX_SUITE_ASSERTIONS_SHOWN) {
        let result = if t.kind.fails_seed() && t.violated_seeds > 0 {
            format!("❌ broken in {} seeds", t.violated_seeds)
        } else if t.never_satisfied() {
            "⚠️ never held".to_string()
        } else {
            "✅".to_string()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(scenario),
            cell(&t.message),
            t.kind.as_str(),
            t.seeds,
            t.satisfied_seeds,
            t.hits,
            t.passes,
            t.failures,
            result
        );
    }
    if total > MAX_SUITE_ASSERTIONS_SHOWN {
        let _ = writeln!(
            out,
            "\n… and {} more; `summary.json` lists every one.",
            total - MAX_SUITE_ASSERTIONS_SHOWN
        );
    }
}
