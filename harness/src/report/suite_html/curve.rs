//! The reliability curve R(t) as a small SVG: for one scenario, a step
//! line per fault kind, the fraction of that kind's faults not yet
//! recovered t after they began. R starts at 1 and falls at each recovery;
//! a kind whose faults never recovered stays at 1 across the chart.
//!
//! The curve points come from the summary ([`KindSummary::reliability`]),
//! already bounded in number; every coordinate is printed with one
//! decimal, so the same summary draws the same bytes.

use super::super::html::escape;
use super::super::recovery_tally::KindSummary;
use super::super::view::ms_label;
use std::collections::BTreeMap;
use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 230.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 500.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 196.0;

/// Line colours, one per kind in sorted order (wrapping past the end).
const PALETTE: [&str; 8] = [
    "#4c7bd9", "#e8590c", "#2f9e44", "#9b59b6", "#c0392b", "#16a596", "#d68910", "#6b7f99",
];

/// Most kinds drawn in one chart; the table lists every kind.
pub const MAX_CHART_KINDS: usize = PALETTE.len();

fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// The chart of one scenario's kinds, or nothing if it has none.
pub(super) fn chart(out: &mut String, scenario: &str, kinds: &BTreeMap<String, KindSummary>) {
    if kinds.is_empty() {
        return;
    }
    // The time axis runs to the latest recovery any kind reached, plus a
    // margin so the last step is visible; 1s when nothing recovered.
    let last_ms = kinds
        .values()
        .flat_map(|k| k.reliability.iter().map(|p| p[0]))
        .fold(0.0_f64, f64::max);
    let t_max = if last_ms > 0.0 {
        last_ms * 1.08
    } else {
        1000.0
    };
    let x = |t_ms: f64| LEFT + (t_ms / t_max).clamp(0.0, 1.0) * (RIGHT - LEFT);
    let y = |r: f64| BOTTOM - r.clamp(0.0, 1.0) * (BOTTOM - TOP);
    let _ = writeln!(
        out,
        "<svg class=\"curve\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"reliability curve of {}\">",
        n(WIDTH),
        n(HEIGHT),
        escape(scenario)
    );
    for i in 0..=4 {
        let r = f64::from(i) / 4.0;
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" class=\"grid\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{r:.2}</text>",
            n(LEFT),
            n(RIGHT),
            n(LEFT - 6.0),
            n(y(r) + 4.0),
            y = n(y(r)),
        );
        let t = t_max * f64::from(i) / 4.0;
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" class=\"axis\"/><text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            n(BOTTOM),
            n(BOTTOM + 4.0),
            n(BOTTOM + 16.0),
            ms_label(t),
            x = n(x(t)),
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"axis-title\">time since the fault began</text>\
         <text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\" class=\"axis-title\">R(t) not yet recovered</text>",
        n((LEFT + RIGHT) / 2.0),
        n(HEIGHT - 4.0),
        n((TOP + BOTTOM) / 2.0),
        n((TOP + BOTTOM) / 2.0)
    );
    for (i, (kind, k)) in kinds.iter().take(MAX_CHART_KINDS).enumerate() {
        let colour = PALETTE[i];
        let mut path = String::new();
        for (j, p) in k.reliability.iter().enumerate() {
            if j == 0 {
                let _ = write!(path, "M{} {}", n(x(p[0])), n(y(p[1])));
            } else {
                // A step: R holds until the next recovery, then drops.
                let _ = write!(path, " H{} V{}", n(x(p[0])), n(y(p[1])));
            }
        }
        if path.is_empty() {
            continue;
        }
        let _ = write!(path, " H{}", n(RIGHT));
        let _ = writeln!(
            out,
            "<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"><title>{}: {} faults</title></path>",
            escape(kind),
            k.faults
        );
        let ly = TOP + 8.0 + i as f64 * 18.0;
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"3\"/><text x=\"{}\" y=\"{}\">{} ({})</text>",
            n(RIGHT + 14.0),
            n(RIGHT + 32.0),
            n(RIGHT + 38.0),
            n(ly + 4.0),
            escape(kind),
            k.faults,
            ly = n(ly),
        );
    }
    out.push_str("</svg>\n");
    if kinds.len() > MAX_CHART_KINDS {
        let _ = writeln!(
            out,
            "<p class=\"note\">The chart draws the first {MAX_CHART_KINDS} of {} fault kinds; the table has them all.</p>",
            kinds.len()
        );
    }
}
