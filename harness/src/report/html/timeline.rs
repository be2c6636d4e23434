//! The timeline: a trace row (faults applied, host changes, logs), one
//! row per logical client and one for the final reads, each operation a
//! bar from invocation to completion coloured by outcome, under the fault
//! bands and their labels.

use super::bands::{
    after_run_end, band_extent, band_title, bands, fault_colour, label_lanes, label_text,
};
use super::evidence::EvidenceOps;
use super::scale::{time_axis, TimeScale};
use super::{
    escape, n, op_class, op_title, sample, sampled_note, view, AXIS_HEIGHT, CHAR_WIDTH,
    LANE_HEIGHT, MAX_CLIENT_ROWS, MAX_OP_MARKS, MAX_TRACE_MARKS, PLOT_LEFT, PLOT_RIGHT, ROW_HEIGHT,
    WIDTH,
};
use crate::history::{Operation, FINAL_READER_PROCESS};
use crate::plan::FaultWindow;
use crate::record::{TraceEvent, TraceKind};
use std::fmt::Write;
use std::time::Duration;

/// What the rows of the timeline show.
pub(super) struct Rows<'a> {
    pub ops: &'a [Operation],
    /// The operations of failed invariants' evidence, outlined and always
    /// drawn (never sampled away).
    pub evidence: &'a EvidenceOps,
    pub trace: &'a [TraceEvent],
    pub clients: u32,
}

pub(super) fn timeline(
    out: &mut String,
    scale: &TimeScale,
    windows: &[FaultWindow],
    rows_of: &Rows<'_>,
    recovery: Option<&crate::check::recovery::RecoveryReport>,
) {
    let Rows {
        ops,
        evidence,
        trace,
        clients,
    } = *rows_of;
    let client_rows = (clients as usize).clamp(1, MAX_CLIENT_ROWS);
    let has_final = ops.iter().any(|o| o.process >= FINAL_READER_PROCESS);
    let row_of = |process: u64| -> usize {
        if process >= FINAL_READER_PROCESS {
            client_rows
        } else {
            (process % u64::from(clients.max(1))) as usize % client_rows
        }
    };
    let (lanes, lane_count) = label_lanes(scale, windows);
    let lanes_height = lane_count as f64 * LANE_HEIGHT;
    let trace_top = lanes_height + 4.0;
    let rows_top = trace_top + ROW_HEIGHT;
    let rows = client_rows + usize::from(has_final);
    let bottom = rows_top + rows as f64 * ROW_HEIGHT;
    let height = bottom + AXIS_HEIGHT;

    let _ = writeln!(
        out,
        "<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"operations and faults over simulated time\">",
        n(WIDTH),
        n(height)
    );
    // Row stripes first, then the fault bands over them, then the marks.
    for row in 0..=rows {
        let y = trace_top + row as f64 * ROW_HEIGHT;
        if row % 2 == 0 {
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"stripe\"/>",
                n(PLOT_LEFT),
                n(y),
                n(PLOT_RIGHT - PLOT_LEFT),
                n(ROW_HEIGHT)
            );
        }
        let label = match row {
            0 => "trace".to_string(),
            r if r <= client_rows => format!("client {}", r - 1),
            _ => "final reads".to_string(),
        };
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            n(PLOT_LEFT - 8.0),
            n(y + ROW_HEIGHT / 2.0 + 4.0),
            escape(&label)
        );
    }
    bands(out, scale, windows, 0.0, bottom);
    if let Some(recovery) = recovery {
        super::markers::recovery_markers(out, scale, recovery, trace_top, bottom);
    }
    after_run_end(out, scale, trace_top, bottom);
    for (w, lane) in windows.iter().zip(&lanes) {
        let (x, width) = band_extent(scale, w);
        let y = *lane as f64 * LANE_HEIGHT;
        let text = label_text(scale, w);
        let label_width = (text.chars().count() as f64 * CHAR_WIDTH + 8.0).max(width);
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.55\" rx=\"2\"><title>{}</title></rect>\
             <text x=\"{}\" y=\"{}\" class=\"band-label\">{}</text>",
            n(x),
            n(y + 1.0),
            n(label_width.min(WIDTH - x)),
            n(LANE_HEIGHT - 2.0),
            fault_colour(&w.label),
            escape(&band_title(w)),
            n(x + 4.0),
            n(y + LANE_HEIGHT - 5.5),
            escape(&text)
        );
    }
    if windows.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" class=\"note\">no faults in this plan</text>",
            n(PLOT_LEFT + 4.0),
            n(trace_top - 6.0)
        );
    }

    // The trace row: faults and host changes first, since they explain the
    // bands; logs fill whatever the cap leaves.
    let mut marks: Vec<&TraceEvent> = trace.iter().filter(|t| t.kind != TraceKind::Log).collect();
    marks.extend(trace.iter().filter(|t| t.kind == TraceKind::Log));
    let drawn = marks.len().min(MAX_TRACE_MARKS);
    for t in &marks[..drawn] {
        let class = match t.kind {
            TraceKind::Fault => "t-fault",
            TraceKind::Host => "t-host",
            TraceKind::Log => "t-log",
            TraceKind::Panic => "t-panic",
            TraceKind::Role => "t-host",
        };
        let fields: String = t.fields.iter().map(|(k, v)| format!(" {k}={v}")).collect();
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"2\" height=\"{}\" class=\"{class}\"><title>{} {} {}{}</title></rect>",
            n(scale.x(t.time_ns) - 1.0),
            n(trace_top + 3.0),
            n(ROW_HEIGHT - 6.0),
            view::time_label(Duration::from_nanos(t.time_ns)),
            escape(&t.source),
            escape(&t.message),
            escape(&fields)
        );
    }

    let (shown, stride) = sample(ops, MAX_OP_MARKS);
    let draw = |out: &mut String, op: &Operation, outlined: bool| {
        let x0 = scale.x(op.invoke_ns);
        // An operation that never completed runs to the end of the run,
        // drawn fainter: nobody saw it end.
        let (x1, open) = match op.complete_ns {
            Some(done) => (scale.x(done), ""),
            None => (scale.x(scale.run_end_ns.max(op.invoke_ns)), " open"),
        };
        let y = rows_top + row_of(op.process) as f64 * ROW_HEIGHT + 5.0;
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"{}{open}{}\"><title>{}{}</title></rect>",
            n(x0),
            n(y),
            n((x1 - x0).max(1.5)),
            n(ROW_HEIGHT - 10.0),
            op_class(op),
            if outlined { " evidence" } else { "" },
            escape(&op_title(op)),
            if outlined { " (in the evidence)" } else { "" }
        );
    };
    for op in shown.iter().filter(|op| !evidence.contains(op)) {
        draw(out, op, false);
    }
    // The evidence last, so it is drawn on top, whatever the sampling.
    let in_evidence: Vec<&Operation> = ops.iter().filter(|op| evidence.contains(op)).collect();
    for op in in_evidence.iter().take(MAX_OP_MARKS) {
        draw(out, op, true);
    }
    for &(start_ns, end_ns) in &evidence.windows {
        let (x0, x1) = (scale.x(start_ns), scale.x(end_ns));
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"evidence-span\"><title>evidence window: {} to {}</title></rect>",
            n(x0 - 2.0),
            n(rows_top + 1.0),
            n((x1 - x0).max(0.0) + 4.0),
            n(bottom - rows_top - 2.0),
            view::time_label(Duration::from_nanos(start_ns)),
            view::time_label(Duration::from_nanos(end_ns))
        );
    }
    time_axis(out, scale, lanes_height, bottom);
    out.push_str("</svg>\n");
    sampled_note(out, "operation", stride, shown.len(), ops.len());
    if !in_evidence.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">Outlined: the {} operations in the evidence of the invariants that did not pass (always drawn); the dashed box spans each one's evidence window.</p>",
            in_evidence.len()
        );
    }
    if marks.len() > drawn {
        let _ = writeln!(
            out,
            "<p class=\"note\">Trace row: the first {drawn} of {} events (faults and host changes first).</p>",
            marks.len()
        );
    }
    if clients as usize > MAX_CLIENT_ROWS {
        let _ = writeln!(
            out,
            "<p class=\"note\">{clients} clients share {MAX_CLIENT_ROWS} rows: client i is drawn in row i mod {MAX_CLIENT_ROWS}.</p>"
        );
    }
}
