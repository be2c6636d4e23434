//! Recovery markers on the fault bands: for each fault, a dashed line
//! where it was detected (D), where it first hurt an operation (I) and
//! where the system was back (R), each with a tooltip naming the fault
//! and the measure.

use super::scale::TimeScale;
use super::{escape, n, view};
use crate::check::recovery::RecoveryReport;
use std::fmt::Write;
use std::time::Duration;

/// Most faults marked; report.json has every measure.
pub const MAX_MARKED_FAULTS: usize = 200;

pub(super) fn recovery_markers(
    out: &mut String,
    scale: &TimeScale,
    report: &RecoveryReport,
    top: f64,
    bottom: f64,
) {
    let since = |ns: u64| view::time_label(Duration::from_nanos(ns));
    for f in report.faults.iter().take(MAX_MARKED_FAULTS) {
        let mut marks: Vec<(u64, &str, &str, String)> = Vec::new();
        if let Some(d) = &f.detected {
            marks.push((
                d.at_ns,
                "D",
                "mark-detect",
                format!(
                    "detected after {} ({})",
                    since(d.time_to_detect_ns),
                    d.signal
                ),
            ));
        }
        if let Some(i) = &f.impact {
            marks.push((
                i.at_ns,
                "I",
                "mark-impact",
                format!(
                    "first failed operation after {}",
                    since(i.time_to_impact_ns)
                ),
            ));
        }
        if let Some(r) = &f.recovered {
            marks.push((
                r.at_ns,
                "R",
                "mark-recover",
                format!("recovered after {}", since(r.time_to_recover_ns)),
            ));
        }
        for (at_ns, letter, class, what) in marks {
            let x = scale.x(at_ns);
            let _ = writeln!(
                out,
                "<g class=\"{class}\"><title>{}: {}</title><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><text x=\"{}\" y=\"{}\">{letter}</text></g>",
                escape(&format!("fault {} ({})", f.fault, f.label)),
                escape(&what),
                n(x),
                n(top),
                n(x),
                n(bottom),
                n(x + 2.0),
                n(top + 10.0),
            );
        }
    }
}
