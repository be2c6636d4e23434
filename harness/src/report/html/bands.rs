//! Faults as shaded bands: one hue per fault kind, a band over every plot
//! for each fault window, labels stacked in lanes so they never overlap,
//! and the planned time the run never reached greyed out.

use super::scale::TimeScale;
use super::{escape, n, view, CHAR_WIDTH, PLOT_RIGHT, WIDTH};
use crate::plan::FaultWindow;
use std::fmt::Write;
use std::time::Duration;

/// Fault kinds get their own hue, so a partition and a latency spike read
/// differently at a glance. The kind is the first word of the label.
pub(super) fn fault_colour(label: &str) -> &'static str {
    match label.split_whitespace().next().unwrap_or("") {
        "partition" | "partition-oneway" => "#4c7bd9",
        "latency" => "#9b59b6",
        "loss" => "#16a596",
        "crash" => "#8a6d3b",
        "pause" => "#6b7f99",
        "bounce" => "#34495e",
        "disk-error" | "disk-full" | "disk-corrupt" | "disk-slow" => "#c0392b",
        "clock-jump" | "clock-drift" => "#d68910",
        _ => "#7f8c8d",
    }
}

pub(super) fn legend(windows: &[FaultWindow]) -> String {
    let mut out = String::from("<p class=\"legend\">");
    for (class, text) in [
        ("ok", "ok: it happened"),
        (
            "answered",
            "fail, answered: a definite no (a cas whose value did not match)",
        ),
        ("fail", "fail: an error; it did not happen"),
        ("info", "info: unknown"),
        ("evidence", "outlined: in a failed invariant's evidence"),
    ] {
        let _ = write!(out, "<span><i class=\"sw {class}\"></i>{text}</span>");
    }
    let mut kinds: Vec<&str> = windows
        .iter()
        .map(|w| w.label.split_whitespace().next().unwrap_or(""))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let _ = write!(
            out,
            "<span><i class=\"sw\" style=\"background:{};opacity:0.5\"></i>{} (fault)</span>",
            fault_colour(kind),
            escape(kind)
        );
    }
    out.push_str("</p>\n");
    out
}

/// A fault window's horizontal extent; an open window runs to the end, and
/// an instantaneous one (a bounce) still gets a visible sliver.
pub(super) fn band_extent(scale: &TimeScale, w: &FaultWindow) -> (f64, f64) {
    let x0 = scale.x_of(w.start);
    let x1 = w.end.map_or(PLOT_RIGHT, |end| scale.x_of(end));
    (x0, (x1 - x0).max(2.0))
}

pub(super) fn band_title(w: &FaultWindow) -> String {
    let end = w
        .end
        .map_or_else(|| "never healed".to_string(), view::time_label);
    format!("{}: {} to {}", w.label, view::time_label(w.start), end)
}

/// Greys out the planned time the simulation never reached, so faults
/// drawn there read as planned, not applied.
pub(super) fn after_run_end(out: &mut String, scale: &TimeScale, top: f64, bottom: f64) {
    let x = scale.x(scale.run_end_ns);
    if PLOT_RIGHT - x < 1.0 {
        return;
    }
    let _ = writeln!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"not-run\"/>\
         <line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"run-end\"/>\
         <text x=\"{}\" y=\"{}\" class=\"run-end-label\">run ended at {}</text>",
        n(x),
        n(top),
        n(PLOT_RIGHT - x),
        n(bottom - top),
        n(x),
        n(top),
        n(x),
        n(bottom),
        n(x + 4.0),
        n(bottom - 6.0),
        view::time_label(Duration::from_nanos(scale.run_end_ns))
    );
}

/// Shaded bands from `top` to `bottom`, behind whatever is drawn next.
pub(super) fn bands(
    out: &mut String,
    scale: &TimeScale,
    windows: &[FaultWindow],
    top: f64,
    bottom: f64,
) {
    for w in windows {
        let (x, width) = band_extent(scale, w);
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.16\"><title>{}</title></rect>",
            n(x),
            n(top),
            n(width),
            n(bottom - top),
            fault_colour(&w.label),
            escape(&band_title(w))
        );
    }
}

/// Assigns each window's label a lane so labels never overlap: the first
/// lane whose last label ends before this one starts.
pub(super) fn label_lanes(scale: &TimeScale, windows: &[FaultWindow]) -> (Vec<usize>, usize) {
    let mut lane_ends: Vec<f64> = Vec::new();
    let mut lanes = Vec::with_capacity(windows.len());
    for w in windows {
        let (x, width) = band_extent(scale, w);
        let label_end =
            x + (label_text(scale, w).chars().count() as f64 * CHAR_WIDTH + 8.0).max(width);
        let lane = match lane_ends.iter().position(|end| *end <= x) {
            Some(lane) => lane,
            None => {
                lane_ends.push(0.0);
                lane_ends.len() - 1
            }
        };
        lane_ends[lane] = label_end;
        lanes.push(lane);
    }
    let count = lane_ends.len();
    (lanes, count)
}

/// A band's label, cut with `…` where it would run off the right edge
/// (the band's tooltip has it whole).
pub(super) fn label_text(scale: &TimeScale, w: &FaultWindow) -> String {
    let full = if w.end.is_none() {
        format!("{} (not healed)", w.label)
    } else {
        w.label.clone()
    };
    let room = ((WIDTH - 4.0 - scale.x_of(w.start) - 8.0) / CHAR_WIDTH).max(1.0) as usize;
    if full.chars().count() <= room {
        full
    } else {
        let cut: String = full.chars().take(room.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
