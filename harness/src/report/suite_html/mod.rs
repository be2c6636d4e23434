//! `summary.html`: a suite run on one self-contained page, a view of
//! `summary.json` as `summary.md` is.
//!
//! What it shows: the verdict and seed counts per scenario, the seeds that
//! did not pass (with their replay commands and a link to each seed's own
//! page), and for scenarios that measure recovery the per-fault-kind table
//! of times to detect and recover (p50 / p90 / p99 / max) and availability,
//! with a chart per scenario of the reliability curve R(t). Like the run
//! page it loads nothing (no scripts, fonts or stylesheets: the only links
//! are relative ones to the seeds' reports beside it), escapes every piece
//! of text and prints every number with a fixed precision, so the same
//! summary gives the same bytes.

mod curve;

pub use curve::MAX_CHART_KINDS;

use super::html::escape;
use super::recovery_md::{kind_row, percent};
use super::recovery_tally::ScenarioRecoverySummary;
use super::summary::SuiteSummary;
use super::text::status_word;
use super::{replay_command, HARNESS_VERSION};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Failing seeds listed; `summary.json` has them all.
pub const MAX_FAILURE_ROWS: usize = 100;

const STYLE: &str = "
:root{--ok:#2f9e44;--fail:#e03131;--info:#f08c00;--ink:#1d232a;--muted:#5b6570;--line:#d5dbe1;--soft:#f4f6f8}
body{margin:0;color:var(--ink);background:#fff;font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}
header{padding:14px 24px 10px;border-top:6px solid var(--muted);background:var(--soft)}
header.pass{border-top-color:var(--ok)}header.fail{border-top-color:var(--fail)}header.unknown{border-top-color:var(--info)}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:22px 0 6px}h3{font-size:15px;margin:14px 0 4px}
main{padding:0 24px 16px;max-width:1240px}footer{padding:12px 24px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
.badge{display:inline-block;padding:1px 10px;border-radius:4px;color:#fff;font-size:15px;vertical-align:2px}
.badge.small{font-size:12px;padding:0 7px;vertical-align:0}
.badge.pass{background:var(--ok)}.badge.fail{background:var(--fail)}.badge.unknown{background:var(--info)}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;background:#e9edf1;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;margin:6px 16px 6px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:600;background:var(--soft)}
.note{color:var(--muted);font-size:12.5px;margin:2px 0}
svg.curve{display:block;width:100%;max-width:640px;height:auto;margin:4px 0}
svg text{font-size:11px;fill:#39424c}svg .axis-title{fill:var(--muted)}
svg .grid{stroke:#e3e7eb;stroke-width:1}svg .axis{stroke:#8a949e;stroke-width:1}
";

/// The summary of a suite run as a page.
pub fn render(summary: &SuiteSummary) -> String {
    let status = summary.status();
    let class = status.as_str();
    let t = &summary.total;
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>{} · chaos suite · {} of {} seeds passed</title>",
        status_word(status),
        t.passed,
        t.seeds
    );
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(
        out,
        "<header class=\"{class}\">\n<h1><span class=\"badge {class}\">{}</span> chaos suite · {} of {} seeds passed</h1>",
        status_word(status),
        t.passed,
        t.seeds
    );
    for reason in summary.not_green_because() {
        let _ = writeln!(out, "<p><b>Not green:</b> {}.</p>", escape(&reason));
    }
    out.push_str("</header>\n<main>\n");
    scenarios(&mut out, summary);
    failures(&mut out, summary);
    recovery(&mut out, &summary.recovery);
    let _ = writeln!(
        out,
        "</main>\n<footer>chaos harness {}. summary.json beside this page is the canonical summary; this page and summary.md are views of it.</footer>\n</body>\n</html>",
        escape(HARNESS_VERSION)
    );
    out
}

fn scenarios(out: &mut String, summary: &SuiteSummary) {
    out.push_str("<section>\n<h2>Scenarios</h2>\n<table>\n");
    out.push_str(
        "<tr><th>scenario</th><th>seeds</th><th>passed</th><th>failed</th><th>unknown</th></tr>\n",
    );
    let row = |out: &mut String, name: &str, s: &super::summary::ScenarioTally, class: &str| {
        let _ = writeln!(
            out,
            "<tr{class}><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(name),
            s.seeds,
            s.passed,
            s.failed,
            s.unknown
        );
    };
    for (name, s) in &summary.scenarios {
        row(out, name, s, "");
    }
    row(out, "total", &summary.total, " class=\"total\"");
    out.push_str("</table>\n</section>\n");
}

fn failures(out: &mut String, summary: &SuiteSummary) {
    if summary.failures.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Seeds that did not pass</h2>\n<table>\n");
    out.push_str("<tr><th>scenario</th><th>seed</th><th>status</th><th>first problem</th><th>replay</th></tr>\n");
    for f in summary.failures.iter().take(MAX_FAILURE_ROWS) {
        let status = f.status.as_str();
        // The seed's own page sits beside this one: <scenario>/seed-<S>/.
        let link = format!("{}/seed-{}/report.html", f.scenario, f.seed);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\"><a href=\"{}\">{}</a></td><td><span class=\"badge small {status}\">{}</span></td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&f.scenario),
            escape(&link),
            f.seed,
            status_word(f.status),
            escape(f.problems.first().map(String::as_str).unwrap_or("")),
            escape(&replay_command(&f.replay))
        );
    }
    out.push_str("</table>\n");
    if summary.failures.len() > MAX_FAILURE_ROWS {
        let _ = writeln!(
            out,
            "<p class=\"note\">… and {} more; summary.json lists every one.</p>",
            summary.failures.len() - MAX_FAILURE_ROWS
        );
    }
    out.push_str("</section>\n");
}

fn recovery(out: &mut String, recovery: &BTreeMap<String, ScenarioRecoverySummary>) {
    if recovery.values().all(|s| s.kinds.is_empty()) {
        return;
    }
    out.push_str("<section>\n<h2>Recovery per fault kind</h2>\n");
    out.push_str(
        "<p class=\"note\">Times from each fault's start: to the first detection signal the target reported, and to the first recovery window back at the after-heal ok ratio; p50 / p90 / p99 / max over the faults that got there. Ok during: the ok ratio of operations invoked while a fault of that kind was active. R(t): the fraction of a kind's faults not yet recovered t after they began.</p>\n",
    );
    out.push_str("<table>\n<tr><th>scenario</th><th>fault kind</th><th>faults</th><th>detected</th><th>time to detect</th><th>recovered</th><th>time to recover</th><th>ok during</th></tr>\n");
    for (name, s) in recovery.iter().filter(|(_, s)| !s.kinds.is_empty()) {
        for (kind, k) in &s.kinds {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td>",
                escape(name),
                escape(kind)
            );
            for value in kind_row(k) {
                let _ = write!(out, "<td class=\"num\">{}</td>", escape(&value));
            }
            out.push_str("</tr>\n");
        }
        let _ = writeln!(
            out,
            "<tr class=\"total\"><td>{}</td><td colspan=\"6\">all faults, {} seeds: availability {} overall; during any fault</td><td class=\"num\">{}</td></tr>",
            escape(name),
            s.seeds,
            percent(s.ok_ratio),
            percent(s.ok_ratio_during_faults)
        );
    }
    out.push_str("</table>\n");
    for (name, s) in recovery.iter().filter(|(_, s)| !s.kinds.is_empty()) {
        let _ = writeln!(out, "<h3>R(t) · {}</h3>", escape(name));
        curve::chart(out, name, &s.kinds);
    }
    out.push_str("</section>\n");
}
