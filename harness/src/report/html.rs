//! HTML: one self-contained page that shows *when* a run went wrong.
//!
//! Jepsen's habit, kept here: faults drawn as shaded, labelled bands across
//! a timeline of operations, and a latency plot under the same bands, so the
//! eye connects a partition with the failures and the slow requests it
//! caused. The page loads nothing — no scripts, fonts or stylesheets from
//! anywhere — so it can be attached to a CI run and still open years later.
//! Every piece of text goes through [`escape`], and every number is
//! formatted with a fixed precision, so the same report gives the same
//! bytes.
//!
//! The timeline has one row per logical client (a client replaced after an
//! `info` keeps its row, as Jepsen's process numbering intends), plus one
//! for the final reads. Browsers slow down on tens of thousands of SVG
//! elements, so marks are capped; beyond a cap a fixed stride of them is
//! drawn and the page says so.

use super::view::{self, AvailabilityNumbers};
use super::{replay_command, RunReport};
use crate::check::Status;
use crate::history::{Operation, Outcome, FINAL_READER_PROCESS};
use crate::plan::FaultWindow;
use crate::record::{RunRecord, TraceEvent, TraceKind};
use std::fmt::Write;
use std::time::Duration;

/// Most operations drawn on the timeline.
pub const MAX_OP_MARKS: usize = 4_000;
/// Most points drawn on the latency plot.
pub const MAX_LATENCY_POINTS: usize = 4_000;
/// Most trace events (faults applied, host changes, logs) drawn as ticks.
pub const MAX_TRACE_MARKS: usize = 400;
/// Most client rows; clients beyond it share rows (client `i` is drawn in
/// row `i % MAX_CLIENT_ROWS`).
pub const MAX_CLIENT_ROWS: usize = 32;
/// History lines shown per failed invariant.
pub const MAX_EVIDENCE_LINES: usize = 40;

// Geometry of both plots, in SVG user units; the SVGs scale to the page.
const WIDTH: f64 = 1200.0;
const PLOT_LEFT: f64 = 100.0;
const PLOT_RIGHT: f64 = 1165.0;
const LANE_HEIGHT: f64 = 18.0;
const ROW_HEIGHT: f64 = 22.0;
const AXIS_HEIGHT: f64 = 36.0;
const LATENCY_PLOT_HEIGHT: f64 = 280.0;
/// Average width of a label character at the 11px font, for keeping fault
/// labels from overlapping without measuring text.
const CHAR_WIDTH: f64 = 7.0;

/// The report of one run as a page.
pub fn render(report: &RunReport, record: &RunRecord) -> String {
    let status = report.status.as_str();
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>{} {} seed {} · chaos report</title>",
        super::text::status_word(report.status),
        escape(&report.scenario.name),
        report.seed
    );
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");

    let _ = writeln!(out, "<header class=\"{status}\">");
    let _ = writeln!(
        out,
        "<h1><span class=\"badge {status}\">{}</span> {} <span class=\"seed\">seed {}</span></h1>",
        super::text::status_word(report.status),
        escape(&report.scenario.name),
        report.seed
    );
    if !report.scenario.description.trim().is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"description\">{}</p>",
            escape(report.scenario.description.trim())
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"facts\">{} simulated · {} operations · run {} · trace <code>{}</code> · harness {}</p>",
        view::time_label(report.run.simulated),
        report.history.operations,
        escape(&report.run.end.describe()),
        escape(&report.trace_hash),
        escape(&report.harness_version)
    );
    let _ = writeln!(
        out,
        "<p class=\"replay\">Replay: <code>{}</code></p>\n</header>\n<main>",
        escape(&replay_command(&report.replay))
    );

    let ops = record.history.operations();
    let scale = TimeScale::of(report, record);
    let windows = &report.plan.fault_windows;

    out.push_str("<section>\n<h2>Timeline</h2>\n");
    out.push_str(&legend(windows));
    match &ops {
        Ok(ops) => timeline(
            &mut out,
            &scale,
            windows,
            ops,
            &record.trace,
            report.plan.workload.clients,
        ),
        Err(err) => {
            let _ = writeln!(
                out,
                "<p class=\"note\">The history is malformed ({}), so no operations are drawn.</p>",
                escape(&err.to_string())
            );
        }
    }
    out.push_str("</section>\n");

    out.push_str("<section>\n<h2>Latency</h2>\n");
    if let Ok(ops) = &ops {
        latency_plot(&mut out, &scale, windows, ops);
    }
    out.push_str("</section>\n");

    verdicts(&mut out, report);
    if let Some(verdict) = view::availability(report) {
        measures(&mut out, &AvailabilityNumbers::of(verdict));
    }
    faults(&mut out, windows);
    panics(&mut out, &record.trace);

    out.push_str("</main>\n<footer>");
    let _ = write!(
        out,
        "chaos harness {}. report.json beside this page is the canonical report; this page is a view of it.",
        escape(&report.harness_version)
    );
    out.push_str("</footer>\n</body>\n</html>\n");
    out
}

/// Escapes text for HTML element content and attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// SVG coordinates with one decimal: fine enough for any screen, and a
/// fixed spelling for deterministic output.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// Maps simulated time to x.
struct TimeScale {
    end_ns: u64,
    /// When the simulation stopped; before `end_ns` when it stopped early
    /// (a panic, a failed host) with faults still planned.
    run_end_ns: u64,
}

impl TimeScale {
    /// From zero to whatever happened last: the run's end, the planned
    /// duration, a fault, or an operation.
    fn of(report: &RunReport, record: &RunRecord) -> TimeScale {
        let plan = &report.plan;
        let mut end = record.elapsed.max(plan.duration).as_nanos() as u64;
        for w in &plan.fault_windows {
            end = end.max(w.end.unwrap_or(w.start).as_nanos() as u64);
        }
        if let Some(last) = record.history.events.last() {
            end = end.max(last.time_ns);
        }
        TimeScale {
            end_ns: end.max(1_000_000),
            run_end_ns: record.elapsed.as_nanos() as u64,
        }
    }

    fn x(&self, ns: u64) -> f64 {
        PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (ns.min(self.end_ns) as f64 / self.end_ns as f64)
    }

    fn x_of(&self, d: Duration) -> f64 {
        self.x(d.as_nanos() as u64)
    }

    /// Tick times: 1, 2 or 5 times a power of ten, at most about a dozen.
    fn ticks(&self) -> Vec<u64> {
        let step = nice_step(self.end_ns as f64 / 12.0) as u64;
        (0..)
            .map(|i| i * step)
            .take_while(|t| *t <= self.end_ns)
            .collect()
    }
}

/// An axis label in the shortest exact spelling: `0`, `250us`, `1ms`,
/// `2.5s`. Tick values are round numbers, so trailing zeros would only be
/// noise.
fn axis_label(ms: f64) -> String {
    let trimmed = |v: f64, unit: &str| {
        let text = format!("{v:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("{text}{unit}")
    };
    if ms == 0.0 {
        "0".to_string()
    } else if ms >= 1000.0 {
        trimmed(ms / 1e3, "s")
    } else if ms >= 1.0 {
        trimmed(ms, "ms")
    } else {
        trimmed(ms * 1e3, "us")
    }
}

/// The smallest of 1, 2, 5 × 10^k that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(f64::MIN_POSITIVE);
    let mut power = 10f64.powf(raw.log10().floor());
    loop {
        for m in [1.0, 2.0, 5.0] {
            if m * power >= raw {
                return m * power;
            }
        }
        power *= 10.0;
    }
}

/// Fault kinds get their own hue, so a partition and a latency spike read
/// differently at a glance. The kind is the first word of the label.
fn fault_colour(label: &str) -> &'static str {
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

fn outcome_class(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "ok",
        Outcome::Fail => "fail",
        Outcome::Info => "info",
    }
}

/// Every `stride`-th item, with a stride that keeps at most `limit`.
fn sample<T>(items: &[T], limit: usize) -> (Vec<&T>, usize) {
    let stride = items.len().div_ceil(limit.max(1)).max(1);
    (items.iter().step_by(stride).collect(), stride)
}

fn sampled_note(out: &mut String, what: &str, stride: usize, shown: usize, total: usize) {
    if stride > 1 {
        let _ = writeln!(
            out,
            "<p class=\"note\">Drawn: 1 in every {stride} {what}s ({shown} of {total}), a cap that \
             keeps this page fast; every count and verdict uses all of them.</p>"
        );
    }
}

fn legend(windows: &[FaultWindow]) -> String {
    let mut out = String::from("<p class=\"legend\">");
    for (class, text) in [
        ("ok", "ok: it happened"),
        ("fail", "fail: it did not happen"),
        ("info", "info: unknown"),
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
fn band_extent(scale: &TimeScale, w: &FaultWindow) -> (f64, f64) {
    let x0 = scale.x_of(w.start);
    let x1 = w.end.map_or(PLOT_RIGHT, |end| scale.x_of(end));
    (x0, (x1 - x0).max(2.0))
}

fn band_title(w: &FaultWindow) -> String {
    let end = w
        .end
        .map_or_else(|| "never healed".to_string(), view::time_label);
    format!("{}: {} to {}", w.label, view::time_label(w.start), end)
}

/// Greys out the planned time the simulation never reached, so faults
/// drawn there read as planned, not applied.
fn after_run_end(out: &mut String, scale: &TimeScale, top: f64, bottom: f64) {
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
fn bands(out: &mut String, scale: &TimeScale, windows: &[FaultWindow], top: f64, bottom: f64) {
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
fn label_lanes(scale: &TimeScale, windows: &[FaultWindow]) -> (Vec<usize>, usize) {
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
fn label_text(scale: &TimeScale, w: &FaultWindow) -> String {
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

fn time_axis(out: &mut String, scale: &TimeScale, top: f64, bottom: f64) {
    for t in scale.ticks() {
        let x = scale.x(t);
        // A label centred on the last tick would run off the right edge.
        let anchor = if x > PLOT_RIGHT - 20.0 {
            "end"
        } else {
            "middle"
        };
        let x = n(x);
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" class=\"grid\"/>\
             <text x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            n(top),
            n(bottom + 4.0),
            n(bottom + 16.0),
            axis_label(t as f64 / 1e6)
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"axis-title\">simulated time</text>",
        n(PLOT_LEFT),
        n(bottom),
        n(PLOT_RIGHT),
        n(bottom),
        n(PLOT_RIGHT),
        n(bottom + 31.0)
    );
}

fn op_title(op: &Operation) -> String {
    let mut title = format!("p{} {}", view::process_label(op.process), op.f.as_str());
    if let Some(key) = &op.key {
        let _ = write!(title, " {key}");
    }
    let _ = write!(title, " {} → {}", op.input, outcome_class(op.outcome));
    if op.outcome == Outcome::Ok && !op.output.is_nil() && op.output != op.input {
        let _ = write!(title, " {}", op.output);
    }
    if let Some(error) = &op.error {
        let _ = write!(title, " ({error})");
    }
    match op.latency_ns() {
        Some(l) => {
            let _ = write!(
                title,
                " after {}",
                view::time_label(Duration::from_nanos(l))
            );
        }
        None => title.push_str(", never completed"),
    }
    let _ = write!(
        title,
        "; invoked at {}",
        view::time_label(Duration::from_nanos(op.invoke_ns))
    );
    title
}

fn timeline(
    out: &mut String,
    scale: &TimeScale,
    windows: &[FaultWindow],
    ops: &[Operation],
    trace: &[TraceEvent],
    clients: u32,
) {
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
    for op in &shown {
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
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"{}{open}\"><title>{}</title></rect>",
            n(x0),
            n(y),
            n((x1 - x0).max(1.5)),
            n(ROW_HEIGHT - 10.0),
            outcome_class(op.outcome),
            escape(&op_title(op))
        );
    }
    time_axis(out, scale, lanes_height, bottom);
    out.push_str("</svg>\n");
    sampled_note(out, "operation", stride, shown.len(), ops.len());
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
            while t <= self.hi * 1.0001 {
                ticks.push(t);
                t *= 10.0;
            }
            ticks
        } else {
            let step = nice_step(self.hi / 5.0);
            (0..)
                .map(|i| i as f64 * step)
                .take_while(|t| *t <= self.hi * 1.0001)
                .collect()
        }
    }
}

fn latency_plot(out: &mut String, scale: &TimeScale, windows: &[FaultWindow], ops: &[Operation]) {
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
                outcome_class(op.outcome),
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

fn verdicts(out: &mut String, report: &RunReport) {
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
            let _ = write!(
                detail,
                "<p><b>Evidence</b> ({shown} of {} history events):</p><pre>{}</pre>",
                v.evidence.len(),
                escape(&lines.join("\n"))
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

fn measures(out: &mut String, numbers: &AvailabilityNumbers) {
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

fn faults(out: &mut String, windows: &[FaultWindow]) {
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

fn panics(out: &mut String, trace: &[TraceEvent]) {
    let panics: Vec<&TraceEvent> = trace
        .iter()
        .filter(|t| t.kind == TraceKind::Panic)
        .collect();
    if panics.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Panics</h2>\n");
    for p in panics.iter().take(super::markdown::MAX_PANICS_SHOWN) {
        let _ = writeln!(
            out,
            "<p>{} on <code>{}</code>:</p><pre>{}</pre>",
            view::time_label(Duration::from_nanos(p.time_ns)),
            escape(&p.source),
            escape(&p.message)
        );
    }
    if panics.len() > super::markdown::MAX_PANICS_SHOWN {
        let _ = writeln!(
            out,
            "<p class=\"note\">… and {} more in report.json's run.</p>",
            panics.len() - super::markdown::MAX_PANICS_SHOWN
        );
    }
    out.push_str("</section>\n");
}

const STYLE: &str = "
:root{--ok:#2f9e44;--fail:#e03131;--info:#f08c00;--ink:#1d232a;--muted:#5b6570;--line:#d5dbe1;--soft:#f4f6f8}
body{margin:0;color:var(--ink);background:#fff;font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}
header{padding:14px 24px 10px;border-top:6px solid var(--muted);background:var(--soft)}
header.pass{border-top-color:var(--ok)}header.fail{border-top-color:var(--fail)}header.unknown{border-top-color:var(--info)}
h1{font-size:22px;margin:0 0 6px}h1 .seed{color:var(--muted);font-weight:normal}
h2{font-size:17px;margin:22px 0 6px}
header p{margin:4px 0}.description{font-size:15px}.facts{color:var(--muted)}
main{padding:0 24px 16px;max-width:1240px}
footer{padding:12px 24px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
.badge{display:inline-block;padding:1px 10px;border-radius:4px;color:#fff;font-size:15px;vertical-align:2px;letter-spacing:.03em}
.badge.small{font-size:12px;padding:0 7px;vertical-align:0}
.badge.pass{background:var(--ok)}.badge.fail{background:var(--fail)}.badge.unknown{background:var(--info)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\",monospace;font-size:12.5px}
code{background:#e9edf1;padding:1px 4px;border-radius:3px}
pre{background:var(--soft);padding:8px 10px;overflow-x:auto;border-radius:4px;margin:4px 0}
table{border-collapse:collapse;margin:6px 16px 6px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.evidence td{background:#fffafa}tr.evidence p{margin:2px 0}
.side{display:flex;flex-wrap:wrap;align-items:flex-start}
details{margin:4px 0}summary{cursor:pointer;color:var(--muted)}
svg{display:block;width:100%;height:auto;max-width:1200px;margin:4px 0}
svg text{font-size:11px;fill:#39424c}
svg .axis-title{fill:var(--muted)}svg .band-label{fill:#fff;font-weight:600}
svg .grid{stroke:#e3e7eb;stroke-width:1}svg .axis{stroke:#8a949e;stroke-width:1}
svg .stripe{fill:#f6f8fa}svg .open{fill-opacity:.4}
svg .not-run{fill:#1d232a;fill-opacity:.06}svg .run-end{stroke:#1d232a;stroke-width:1.5;stroke-dasharray:4 3}svg .run-end-label{fill:#1d232a}
svg .ok{fill:var(--ok)}svg .fail{fill:var(--fail)}svg .info{fill:var(--info)}
svg circle{fill-opacity:.75}
svg .t-fault{fill:#1d232a}svg .t-host{fill:#6741d9}svg .t-log{fill:#adb5bd}svg .t-panic{fill:var(--fail)}
.legend span{margin-right:16px;white-space:nowrap}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;vertical-align:-1px;margin-right:5px}
.sw.ok{background:var(--ok)}.sw.fail{background:var(--fail)}.sw.info{background:var(--info)}
.note{color:var(--muted);font-size:12.5px;margin:2px 0}
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;
    use crate::history::{Event, EventType, Op, OpKind, Value};
    use crate::plan;
    use crate::record::{RunEnd, RunLog};
    use crate::scenario::{FaultEventSpec, ScenarioBuilder, Topology};

    /// A run with `ops` reads, one every 10ms (wrapping at 9s) from four
    /// processes, unknown while the server is isolated from 2s to 4s.
    fn run(description: &str, ops: u64) -> (RunReport, RunRecord) {
        let scenario = ScenarioBuilder::new("html-test", "register")
            .description(description)
            .clients(4)
            .duration(Duration::from_secs(10))
            .fault(FaultEventSpec::Isolate {
                at: Duration::from_secs(2),
                duration: Some(Duration::from_secs(2)),
                host: "server".into(),
            })
            .build();
        let topology = Topology {
            servers: vec!["server".into()],
            clients: vec!["client-0".into()],
        };
        let plan = plan::expand(&scenario, &topology, 7);
        let mut log = RunLog::new(usize::MAX, 1000);
        for i in 0..ops {
            let t = i * 10_000_000 % 9_000_000_000;
            let down = (2_000_000_000..4_000_000_000).contains(&t);
            let event = |kind, time_ns| Event {
                time_ns,
                process: i % 4,
                kind,
                op: Op {
                    f: OpKind::Read,
                    key: Some("k0".into()),
                    value: Value::Nil,
                },
                attempts: 1,
                degraded: false,
                error: down.then(|| "timeout".to_string()),
            };
            log.push_event(event(EventType::Invoke, t));
            log.push_event(event(
                if down { EventType::Info } else { EventType::Ok },
                t + 2_000_000,
            ));
        }
        let record = log.finish(RunEnd::Completed, Duration::from_secs(10), 10_000);
        let verdicts = vec![
            Verdict::pass("run", "completed"),
            Verdict::fail("availability", "ok ratio 0.8 < 0.9 <b>")
                .with_expected("ok ratio >= 0.9 overall")
                .with_evidence(record.history.events.iter().take(4).cloned().collect()),
        ];
        let report = RunReport::new(&scenario, None, &[], &plan, &record, verdicts);
        (report, record)
    }

    #[test]
    fn escapes_text_from_the_scenario_and_checkers() {
        let (report, record) = run("<script>alert('x')</script> & more", 100);
        let html = render(&report, &record);
        assert!(
            !html.contains("<script"),
            "a description must not become a script"
        );
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(html.contains("ok ratio 0.8 &lt; 0.9 &lt;b&gt;"));
        assert_eq!(
            escape("\"a\" <b> & 'c'"),
            "&quot;a&quot; &lt;b&gt; &amp; &#39;c&#39;"
        );
    }

    #[test]
    fn the_page_loads_nothing_from_anywhere() {
        let (report, record) = run("plain", 100);
        let html = render(&report, &record);
        for needle in [
            "<script", "<link", "src=", "href=", "url(", "@import", "http:", "https:",
        ] {
            assert!(!html.contains(needle), "found {needle}");
        }
    }

    #[test]
    fn draws_bands_marks_and_points_and_is_deterministic() {
        let (report, record) = run("plain", 300);
        let html = render(&report, &record);
        assert_eq!(html, render(&report, &record));
        assert!(html.contains("partition [server] | [client-0]"));
        assert!(
            html.contains("fill-opacity=\"0.16\""),
            "a shaded fault band"
        );
        assert_eq!(
            html.matches("<circle ").count(),
            300,
            "one latency point per completed op"
        );
        assert!(html.matches("class=\"info\"><title>").count() > 0);
        assert!(
            !html.contains("Drawn: 1 in"),
            "nothing sampled under the cap"
        );
    }

    #[test]
    fn caps_the_marks_and_says_so() {
        let (report, record) = run("plain", 10_000);
        let html = render(&report, &record);
        let rects = html.matches("class=\"ok\"><title>").count()
            + html.matches("class=\"info\"><title>").count()
            + html.matches("class=\"fail\"><title>").count();
        let circles = html.matches("<circle ").count();
        assert!(circles <= MAX_LATENCY_POINTS, "{circles}");
        assert!(rects - circles <= MAX_OP_MARKS, "{rects}");
        assert!(
            html.contains("Drawn: 1 in every 3 operations (3334 of 10000)"),
            "the page says it sampled"
        );
    }

    #[test]
    fn axis_labels_drop_trailing_zeros() {
        assert_eq!(axis_label(0.0), "0");
        assert_eq!(axis_label(0.25), "250us");
        assert_eq!(axis_label(1.0), "1ms");
        assert_eq!(axis_label(2500.0), "2.5s");
        assert_eq!(axis_label(10_000.0), "10s");
    }

    #[test]
    fn nice_steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(830_000_000.0), 1_000_000_000.0);
    }
}
