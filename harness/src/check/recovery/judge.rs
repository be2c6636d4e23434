//! The per-fault bounds of `[invariants.availability]`:
//! `max_time_to_detect` and `max_time_to_recover`, judged on each fault's
//! measures. A fault that was never detected (recovered) fails its bound
//! when the run went on long enough after the fault began to have seen it;
//! when the run ended sooner, nobody can tell, and the verdict is unknown.

use super::{FaultRecovery, RecoveryReport};
use crate::duration::human;
use crate::scenario::AvailabilitySpec;
use std::time::Duration;

/// What the bounds found: failures, and faults that could not be judged.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Judged {
    pub failures: Vec<String>,
    pub unknowns: Vec<String>,
    /// Faults whose bound failed, in fault order (for evidence).
    pub failed_faults: Vec<usize>,
}

fn name(f: &FaultRecovery) -> String {
    format!("fault {} ({})", f.fault, f.label)
}

/// Judges every measured fault against the spec's bounds. The evidence
/// reaches to the workload's end for recovery (the operations stop there),
/// and to the run's end or the next fault for detection.
pub fn judge(
    report: &RecoveryReport,
    spec: &AvailabilitySpec,
    workload_end_ns: u64,
    run_end_ns: u64,
) -> Judged {
    let mut judged = Judged::default();
    for (i, f) in report.faults.iter().enumerate() {
        let mut failed = false;
        if let Some(max) = spec
            .max_time_to_detect
            .as_ref()
            .and_then(|b| b.for_kind(&f.kind))
        {
            let max_ns = max.as_nanos() as u64;
            match &f.detected {
                Some(d) if d.time_to_detect_ns > max_ns => {
                    failed = true;
                    judged.failures.push(format!(
                        "{} detected after {} > max_time_to_detect {} ({} at {})",
                        name(f),
                        human(Duration::from_nanos(d.time_to_detect_ns)),
                        human(max),
                        d.signal,
                        human(Duration::from_nanos(d.at_ns)),
                    ));
                }
                Some(_) => {}
                None if f.start_ns.saturating_add(max_ns)
                    <= f.evidence_until_ns.unwrap_or(run_end_ns).min(run_end_ns) =>
                {
                    failed = true;
                    judged.failures.push(format!(
                        "{} never detected (max_time_to_detect {}; signals: {})",
                        name(f),
                        human(max),
                        signal_list(report)
                    ));
                }
                None => judged.unknowns.push(format!(
                    "{} not detected before the run ended or the next fault began, sooner than max_time_to_detect {} after it",
                    name(f),
                    human(max)
                )),
            }
        }
        if let Some(max) = spec
            .max_time_to_recover
            .as_ref()
            .and_then(|b| b.for_kind(&f.kind))
        {
            let max_ns = max.as_nanos() as u64;
            match &f.recovered {
                Some(r) if r.time_to_recover_ns > max_ns => {
                    failed = true;
                    judged.failures.push(format!(
                        "{} recovered after {} > max_time_to_recover {}",
                        name(f),
                        human(Duration::from_nanos(r.time_to_recover_ns)),
                        human(max),
                    ));
                }
                Some(_) => {}
                None if f.start_ns.saturating_add(max_ns) <= workload_end_ns => {
                    failed = true;
                    judged.failures.push(format!(
                        "{} never recovered to ok ratio {} (max_time_to_recover {})",
                        name(f),
                        report.recovered_ratio,
                        human(max),
                    ));
                }
                None => judged.unknowns.push(format!(
                    "{} not recovered before the workload ended, sooner than max_time_to_recover {} after it began",
                    name(f),
                    human(max)
                )),
            }
        }
        if failed {
            judged.failed_faults.push(i);
        }
    }
    judged
}

fn signal_list(report: &RecoveryReport) -> String {
    let names: Vec<String> = report.signals.iter().map(|s| s.to_string()).collect();
    names.join(", ")
}
