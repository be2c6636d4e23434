//! The latency plot: each completed operation at the time it was
//! invoked, by how long it took, on a linear or a log scale, under the
//! same fault bands as the timeline.

use super::bands::{after_run_end, bands};
use super::scale::{axis_label, nice_step, time_axis, TimeScale, MAX_TICKS};
use super::{
    escape, n, op_class, op_title, sample, sampled_note, AXIS_HEIGHT, LATENCY_PLOT_HEIGHT,
    MAX_LATENCY_POINTS, PLOT_LEFT, PLOT_RIGHT, WIDTH,
};
use crate::history::{Operation, Outcome};
use crate::plan::FaultWindow;
use std::fmt::Write;

/// Latency in milliseconds on a linear or a log scale.
struct LatencyScale {
    log: bool,
    lo: f64,
    hi: f64,
    top: f64,
    bottom: f64,
}

impl LatencyScale {
    /// Log when latencies span more than a factor of 20 (a timeout next to
    /// millisecond answers would flatten everything else); linear from 0
    /// otherwise.
    fn of(latencies_ms: &[f64], top: f64, bottom: f64) -> LatencyScale {
        let max = latencies_ms.iter().copied().fold(0.0, f64::max).max(0.001);
        let min = latencies_ms
            .iter()
            .copied()
            .filter(|l| *l > 0.0)
            .fold(max, f64::min);
        if max / min > 20.0 {
            let lo = 10f64.powf(min.log10().floor());
            let mut hi = 10f64.powf(max.log10().ceil());
            if hi <= lo {
                hi = lo * 10.0;
            }
            LatencyScale {
                log: true,
                lo,
                hi,
                top,
                bottom,
            }
        } else {
            let step = nice_step(max / 5.0);
            let hi = (max / step).ceil().max(1.0) * step;
            LatencyScale {
                log: false,
                lo: 0.0,
                hi,
                top,
                bottom,
            }
        }
    }

    fn y(&self, ms: f64) -> f64 {
        let f = if self.log {
            let ms = ms.max(self.lo);
            (ms.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            ms / self.hi
        };
        self.bottom - (self.bottom - self.top) * f.clamp(0.0, 1.0)
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let mut ticks = Vec::new();
            let mut t = self.lo;
            while t <= self.hi * 1.0001 && ticks.len() < MAX_TICKS as usize {
                ticks.push(t);
                t *= 10.0;
            }
            ticks
        } else {
            let step = nice_step(self.hi / 5.0);
            (0..MAX_TICKS)
                .map(|i| i as f64 * step)
                .take_while(|t| *t <= self.hi * 1.0001)
                .collect()
        }
    }
}

pub(super) fn latency_plot(
    out: &mut String,
    scale: &TimeScale,
    windows: &[FaultWindow],
    ops: &[Operation],
) {
    let completed: Vec<&Operation> = ops.iter().filter(|o| o.complete_ns.is_some()).collect();
    if completed.is_empty() {
        out.push_str(
            "<p class=\"note\">No operation completed, so there is no latency to plot.</p>\n",
        );
        return;
    }
    let latency_ms = |o: &Operation| o.latency_ns().unwrap_or(0) as f64 / 1e6;
    let all: Vec<f64> = completed.iter().map(|o| latency_ms(o)).collect();
    let top = 10.0;
    let bottom = LATENCY_PLOT_HEIGHT - AXIS_HEIGHT;
    let y_scale = LatencyScale::of(&all, top, bottom);
    let _ = writeln!(
        out,
        "<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"latency of each completed operation over simulated time\">",
        n(WIDTH),
        n(LATENCY_PLOT_HEIGHT)
    );
    bands(out, scale, windows, top, bottom);
    after_run_end(out, scale, top, bottom);
    for t in y_scale.ticks() {
        let y = n(y_scale.y(t));
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            n(PLOT_LEFT),
            n(PLOT_RIGHT),
            n(PLOT_LEFT - 8.0),
            n(y_scale.y(t) + 4.0),
            axis_label(t)
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\" class=\"axis-title\">latency ({} scale)</text>",
        n((top + bottom) / 2.0),
        n((top + bottom) / 2.0),
        if y_scale.log { "log" } else { "linear" }
    );
    let (shown, stride) = sample(&completed, MAX_LATENCY_POINTS);
    // Successes first, so the rarer failures and unknowns are drawn on top.
    for outcome in [Outcome::Ok, Outcome::Fail, Outcome::Info] {
        for op in shown.iter().filter(|o| o.outcome == outcome) {
            let _ = writeln!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"2.6\" class=\"{}\"><title>{}</title></circle>",
                n(scale.x(op.invoke_ns)),
                n(y_scale.y(latency_ms(op))),
                op_class(op),
                escape(&op_title(op))
            );
        }
    }
    time_axis(out, scale, top, bottom);
    out.push_str("</svg>\n");
    let _ = writeln!(
        out,
        "<p class=\"note\">Each completed operation at the time it was invoked, by how long it took; \
         the shaded bands are the faults above.</p>"
    );
    sampled_note(
        out,
        "completed operation",
        stride,
        shown.len(),
        completed.len(),
    );
}
