//! The recovery measures in Markdown: one row per fault in a run's
//! `report.md`, one row per scenario and fault kind in `summary.md`.

use super::md_text::cell;
use super::recovery_tally::{KindSummary, Quantiles, ScenarioRecoverySummary};
use super::view::time_label;
use crate::check::recovery::RecoveryReport;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

/// Faults listed in a run's table; report.json has them all.
pub const MAX_FAULT_ROWS: usize = 50;

fn ns(v: u64) -> String {
    time_label(Duration::from_nanos(v))
}

/// `### Recovery per fault` of a run.
pub fn run_table(out: &mut String, report: &RecoveryReport) {
    if report.faults.is_empty() {
        return;
    }
    out.push_str("\n### Recovery per fault\n\n");
    let signals: Vec<String> = report.signals.iter().map(|s| s.to_string()).collect();
    let _ = writeln!(
        out,
        "Detected by: {}. Recovered: the first {} window back at ok ratio {}.\n",
        if signals.is_empty() {
            "no signals (the target declares none)".to_string()
        } else {
            cell(&signals.join(", "))
        },
        time_label(report.recovery_window),
        report.recovered_ratio
    );
    out.push_str(
        "| fault | kind | start | end | detect | impact | recover | after heal | ok during |\n",
    );
    out.push_str("| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: |\n");
    for f in report.faults.iter().take(MAX_FAULT_ROWS) {
        let detect = f.detected.as_ref().map_or("not detected".to_string(), |d| {
            let host = d
                .host
                .as_deref()
                .map(|h| format!(" on {h}"))
                .unwrap_or_default();
            format!("{} ({}{host})", ns(d.time_to_detect_ns), d.signal)
        });
        let impact = f.impact.as_ref().map_or("no impact".to_string(), |i| {
            format!(
                "{} ({} {})",
                ns(i.time_to_impact_ns),
                i.f.as_str(),
                i.error.as_deref().unwrap_or("failed")
            )
        });
        let (recover, after) = match &f.recovered {
            Some(r) => (
                ns(r.time_to_recover_ns),
                r.after_heal_ns.map_or("–".to_string(), ns),
            ),
            None => ("not recovered".to_string(), "–".to_string()),
        };
        let ok = if f.ops_during == 0 {
            "–".to_string()
        } else {
            format!("{}/{}", f.ok_during, f.ops_during)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&format!("{} {}", f.fault, f.label)),
            cell(&f.kind),
            ns(f.start_ns),
            f.end_ns.map_or("not healed".to_string(), ns),
            cell(&detect),
            cell(&impact),
            recover,
            after,
            ok
        );
    }
    if report.faults.len() > MAX_FAULT_ROWS {
        let _ = writeln!(
            out,
            "\n… and {} more faults; report.json lists every one.",
            report.faults.len() - MAX_FAULT_ROWS
        );
    }
}

pub(super) fn quantiles(q: &Option<Quantiles>) -> String {
    match q {
        None => "–".into(),
        Some(q) => format!(
            "{} / {} / {} / {}",
            ms(q.p50_ms),
            ms(q.p90_ms),
            ms(q.p99_ms),
            ms(q.max_ms)
        ),
    }
}

fn ms(v: f64) -> String {
    time_label(Duration::from_nanos((v * 1e6).round() as u64))
}

/// The numbers of one scenario's row for one fault kind, shared by this
/// table and the HTML suite page: faults, detected, time to detect,
/// recovered, time to recover, ok ratio during.
pub(super) fn kind_row(k: &KindSummary) -> [String; 6] {
    let count = |q: &Option<Quantiles>| q.as_ref().map_or(0, |q| q.count);
    [
        k.faults.to_string(),
        count(&k.time_to_detect).to_string(),
        quantiles(&k.time_to_detect),
        count(&k.time_to_recover).to_string(),
        quantiles(&k.time_to_recover),
        percent(k.ok_ratio_during),
    ]
}

pub(super) fn percent(r: Option<f64>) -> String {
    r.map_or("–".into(), |r| format!("{:.1}%", r * 100.0))
}

/// `### Recovery` of a suite: per scenario and fault kind.
pub fn suite_table(out: &mut String, recovery: &BTreeMap<String, ScenarioRecoverySummary>) {
    if recovery.values().all(|s| s.kinds.is_empty()) {
        return;
    }
    out.push_str("\n### Recovery per fault kind\n\n");
    out.push_str(
        "Times from each fault's start: to the first detection signal, and to the first recovery window back at the after-heal ok ratio (p50 / p90 / p99 / max, over the faults that got there). Availability is the ok ratio of operations invoked during that kind's faults; overall and during any fault per scenario.\n\n",
    );
    out.push_str("| scenario | fault kind | faults | detected | time to detect | recovered | time to recover | ok during |\n");
    out.push_str("| --- | --- | ---: | ---: | --- | ---: | --- | ---: |\n");
    for (name, s) in recovery {
        for (kind, k) in &s.kinds {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(name),
                cell(kind),
                kind_row(k).join(" | ")
            );
        }
        let _ = writeln!(
            out,
            "| {} | **all** ({} seeds) | | | | | | {} during, {} overall |",
            cell(name),
            s.seeds,
            percent(s.ok_ratio_during_faults),
            percent(s.ok_ratio)
        );
    }
}
