//! Simulated time on the x axis: the scale both plots share, its tick
//! marks in round numbers, and the axis drawn under each plot.

use super::{n, RunReport, PLOT_LEFT, PLOT_RIGHT};
use crate::record::RunRecord;
use std::fmt::Write;
use std::time::Duration;

/// Maps simulated time to x.
pub(super) struct TimeScale {
    pub(super) end_ns: u64,
    /// When the simulation stopped; before `end_ns` when it stopped early
    /// (a panic, a failed host) with faults still planned.
    pub(super) run_end_ns: u64,
}

impl TimeScale {
    /// From zero to whatever happened last: the run's end, the planned
    /// duration, a fault, or an operation.
    pub(super) fn of(report: &RunReport, record: &RunRecord) -> TimeScale {
        let plan = &report.plan;
        let mut end = nanos(record.elapsed.max(plan.duration));
        for w in &plan.fault_windows {
            end = end.max(nanos(w.end.unwrap_or(w.start)));
        }
        if let Some(last) = record.history.events.last() {
            end = end.max(last.time_ns);
        }
        TimeScale {
            end_ns: end.max(1_000_000),
            run_end_ns: nanos(record.elapsed),
        }
    }

    pub(super) fn x(&self, ns: u64) -> f64 {
        PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (ns.min(self.end_ns) as f64 / self.end_ns as f64)
    }

    pub(super) fn x_of(&self, d: Duration) -> f64 {
        self.x(nanos(d))
    }

    /// Tick times: 1, 2 or 5 times a power of ten, at most about a dozen
    /// (never more than [`MAX_TICKS`], and never past `u64`, however far
    /// the axis reaches).
    pub(super) fn ticks(&self) -> Vec<u64> {
        let step = (nice_step(self.end_ns as f64 / 12.0) as u64).max(1);
        (0..MAX_TICKS)
            .map_while(|i| i.checked_mul(step))
            .take_while(|t| *t <= self.end_ns)
            .collect()
    }
}

/// A bound on the tick marks of any axis, so no input can make a view
/// grow without limit.
pub(super) const MAX_TICKS: u64 = 32;

/// A duration in nanoseconds, saturating at `u64::MAX` (about 584 years).
pub(super) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// An axis label in the shortest exact spelling: `0`, `250us`, `1ms`,
/// `2.5s`. Tick values are round numbers, so trailing zeros would only be
/// noise.
pub(super) fn axis_label(ms: f64) -> String {
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
pub(super) fn nice_step(raw: f64) -> f64 {
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

pub(super) fn time_axis(out: &mut String, scale: &TimeScale, top: f64, bottom: f64) {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn ticks_stay_few_up_to_the_end_of_u64() {
        for end_ns in [1, 999, 1_000_000, u64::MAX / 3, u64::MAX - 1, u64::MAX] {
            let scale = TimeScale {
                end_ns,
                run_end_ns: 0,
            };
            let ticks = scale.ticks();
            assert!(
                !ticks.is_empty() && ticks.len() as u64 <= MAX_TICKS,
                "{end_ns}: {ticks:?}"
            );
            assert!(ticks.windows(2).all(|w| w[0] < w[1]), "{end_ns}: {ticks:?}");
        }
    }
}
