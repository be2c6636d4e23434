//! Short human summaries for the terminal.

use super::RunReport;
use crate::check::Status;
use crate::duration::human;
use crate::record::{RunRecord, TraceKind};
use std::fmt::Write;
use std::time::Duration;

pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Unknown => "UNKNOWN",
    }
}

/// The status word in the terminal's colours when `colour` is on: PASS
/// green, FAIL red, UNKNOWN yellow (ANSI escapes, bold).
pub fn painted(status: Status, colour: bool) -> String {
    paint(status, status_word(status), colour)
}

/// `text` in the colour of `status` when `colour` is on.
pub fn paint(status: Status, text: &str, colour: bool) -> String {
    if !colour {
        return text.to_string();
    }
    let code = match status {
        Status::Pass => "32",
        Status::Fail => "31",
        Status::Unknown => "33",
    };
    format!("\x1b[1;{code}m{text}\x1b[0m")
}

/// A few lines: status, run end, each verdict.
pub fn summary(report: &RunReport) -> String {
    summary_in(report, false)
}

/// [`summary`] with the status words coloured when `colour` is on.
pub fn summary_in(report: &RunReport, colour: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} seed {} ({} simulated, {} ops, trace {})",
        painted(report.status, colour),
        report.scenario.name,
        report.seed,
        human(report.run.simulated),
        report.history.operations,
        report.trace_hash
    );
    for v in &report.verdicts {
        // Padded before painting, so the escapes do not upset the columns.
        let word = format!("{:<8}", status_word(v.status));
        let _ = writeln!(
            out,
            "  {} {:<14} {}",
            paint(v.status, &word, colour),
            v.invariant,
            v.summary
        );
        if v.status == Status::Fail {
            if let Some(expected) = &v.expected {
                let _ = writeln!(out, "           expected: {expected}");
            }
        }
    }
    out
}

/// The timeline of faults, host changes and operations, for `--trace`.
pub fn timeline(record: &RunRecord) -> String {
    enum Line<'a> {
        Trace(&'a crate::record::TraceEvent),
        Op(&'a crate::history::Event),
    }
    let mut lines: Vec<(u64, usize, Line)> = Vec::new();
    for (i, t) in record.trace.iter().enumerate() {
        lines.push((t.time_ns, i, Line::Trace(t)));
    }
    let offset = record.trace.len();
    for (i, e) in record.history.events.iter().enumerate() {
        lines.push((e.time_ns, offset + i, Line::Op(e)));
    }
    lines.sort_by_key(|(t, i, _)| (*t, *i));
    let mut out = String::new();
    for (t, _, line) in lines {
        let time = format!("{:>10}", human(Duration::from_nanos(t)));
        match line {
            Line::Trace(e) => {
                let kind = match e.kind {
                    TraceKind::Fault => "FAULT",
                    TraceKind::Host => "HOST ",
                    TraceKind::Log => "log  ",
                    TraceKind::Panic => "PANIC",
                    TraceKind::Role => "ROLE ",
                };
                let fields: String = e.fields.iter().map(|(k, v)| format!(" {k}={v}")).collect();
                let _ = writeln!(out, "{time} {kind} {:<10} {}{fields}", e.source, e.message);
            }
            Line::Op(e) => {
                let key = e.op.key.as_deref().unwrap_or("");
                let _ = writeln!(
                    out,
                    "{time} op    p{:<9} {:<6} {:<6} {key} {}",
                    e.process,
                    e.kind.as_str(),
                    e.op.f.as_str(),
                    e.op.value
                );
            }
        }
    }
    if record.trace_dropped > 0 {
        let _ = writeln!(
            out,
            "({} trace events beyond the limit not shown)",
            record.trace_dropped
        );
    }
    out
}
