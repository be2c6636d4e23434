//! The tables under the plots: verdicts with their evidence, the
//! availability and latency measures, the fault windows, and any panics.

use super::bands::fault_colour;
use super::view::{self, AvailabilityNumbers};
use super::{escape, RunReport, MAX_EVIDENCE_LINES};
use crate::check::Status;
use crate::plan::FaultWindow;
use crate::record::{RunRecord, TraceEvent, TraceKind};
use std::fmt::Write;
use std::time::Duration;

pub(super) fn verdicts(out: &mut String, report: &RunReport, record: &RunRecord) {
    out.push_str("<section>\n<h2>Verdicts</h2>\n<table class=\"verdicts\">\n");
    out.push_str("<tr><th>invariant</th><th>status</th><th>summary</th></tr>\n");
    for v in &report.verdicts {
        let status = v.status.as_str();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><span class=\"badge small {status}\">{status}</span></td><td>{}</td></tr>",
            escape(&v.invariant),
            escape(&v.summary)
        );
        if v.status == Status::Pass {
            continue;
        }
        let mut detail = String::new();
        if let Some(expected) = &v.expected {
            let _ = write!(detail, "<p><b>Expected:</b> {}</p>", escape(expected));
        }
        if !v.evidence.is_empty() {
            let shown = v.evidence.len().min(MAX_EVIDENCE_LINES);
            let lines: Vec<String> = v.evidence[..shown].iter().map(view::history_line).collect();
            // The evidence and what the target logged meanwhile, side by
            // side; its operations are outlined on the timeline.
            let _ = write!(
                detail,
                "<div class=\"evidence-side\"><div><p><b>Evidence</b> ({shown} of {} history events, outlined on the timeline):</p><pre>{}</pre></div><div>{}</div></div>",
                v.evidence.len(),
                escape(&lines.join("\n")),
                super::evidence::log_block(v, record)
            );
        }
        if !detail.is_empty() {
            let _ = writeln!(
                out,
                "<tr class=\"evidence\"><td></td><td colspan=\"2\">{detail}</td></tr>"
            );
        }
    }
    out.push_str("</table>\n");
    for v in report.verdicts.iter().filter(|v| !v.details.is_empty()) {
        let json = serde_json::to_string_pretty(&v.details).expect("verdict details serialise");
        let _ = writeln!(
            out,
            "<details><summary>{} measurements (JSON)</summary><pre>{}</pre></details>",
            escape(&v.invariant),
            escape(&json)
        );
    }
    out.push_str("</section>\n");
}

pub(super) fn measures(out: &mut String, numbers: &AvailabilityNumbers) {
    out.push_str("<section>\n<h2>Availability and latency</h2>\n<div class=\"side\">\n<table>\n");
    out.push_str("<tr><th>measure</th><th>value</th></tr>\n");
    for (label, value) in &numbers.measures {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(label),
            escape(value)
        );
    }
    out.push_str("</table>\n");
    if !numbers.latency.is_empty() {
        out.push_str("<table>\n<tr><th>ok operation</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n");
        for l in &numbers.latency {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&l.kind),
                l.count,
                view::ms_label(l.p50_ms),
                view::ms_label(l.p90_ms),
                view::ms_label(l.p99_ms),
                view::ms_label(l.max_ms)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</div>\n</section>\n");
}

pub(super) fn faults(out: &mut String, windows: &[FaultWindow]) {
    out.push_str("<section>\n<h2>Faults</h2>\n");
    if windows.is_empty() {
        out.push_str("<p>No faults in this plan.</p>\n</section>\n");
        return;
    }
    out.push_str("<table>\n<tr><th>start</th><th>end</th><th>fault</th></tr>\n");
    for w in windows {
        let end = w
            .end
            .map_or_else(|| "not healed".to_string(), view::time_label);
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td><i class=\"sw\" style=\"background:{};opacity:0.55\"></i>{}</td></tr>",
            view::time_label(w.start),
            escape(&end),
            fault_colour(&w.label),
            escape(&w.label)
        );
    }
    out.push_str("</table>\n</section>\n");
}

pub(super) fn panics(out: &mut String, trace: &[TraceEvent]) {
    let panics: Vec<&TraceEvent> = trace
        .iter()
        .filter(|t| t.kind == TraceKind::Panic)
        .collect();
    if panics.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Panics</h2>\n");
    for p in panics.iter().take(super::super::markdown::MAX_PANICS_SHOWN) {
        let _ = writeln!(
            out,
            "<p>{} on <code>{}</code>:</p><pre>{}</pre>",
            view::time_label(Duration::from_nanos(p.time_ns)),
            escape(&p.source),
            escape(&p.message)
        );
    }
    if panics.len() > super::super::markdown::MAX_PANICS_SHOWN {
        let _ = writeln!(
            out,
            "<p class=\"note\">… and {} more in report.json's run.</p>",
            panics.len() - super::super::markdown::MAX_PANICS_SHOWN
        );
    }
    out.push_str("</section>\n");
}
