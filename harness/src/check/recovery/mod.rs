//! Recovery per fault: how long the system took to notice each fault, to
//! suffer from it, and to come back.
//!
//! Model (the field's MTTR = time to detect + time to recover), measured
//! for every fault window of the plan that began before the workload
//! ended, from the run's record alone:
//!
//! - **time to detect**: from the fault's start to the first detection
//!   signal at or after it (see [`crate::detection`]); absent if none came.
//! - **time to impact**: from the fault's start to the completion of the
//!   first workload operation that ended without an answer (a timeout, a
//!   refusal, an unknown outcome) at or after it; absent if none did.
//! - **time to recover**: from the fault's start to the start of the first
//!   window of `recovery_window`, laid from the impact on, whose ok ratio
//!   is back at the after-heal level (`min_ok_ratio_after_heal`, else
//!   1.0); also given from the fault's end (zero when the system was back
//!   before the heal). A fault with no impact recovered at its start; one
//!   never back before the workload ended is not recovered.
//!
//! Faults are measured one by one. A fault's signal and impact are looked
//! for from its start until the next fault that begins after it ended (or
//! the run's end): a later fault's effects are not blamed on an earlier
//! one, while faults that overlap share the evidence that falls in both.
//! Operations are counted as the availability checker counts them
//! (workload only, `degraded` by the spec).

use crate::detection::DetectionSignal;
use crate::duration::serde_text;
use crate::fault::{fault_kind, FaultId};
use crate::history::{OpKind, Operation, FINAL_READER_PROCESS};
use crate::plan::Plan;
use crate::record::RunRecord;
use crate::scenario::AvailabilitySpec;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The first detection signal after a fault began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detected {
    pub at_ns: u64,
    pub time_to_detect_ns: u64,
    /// The signal, as written (`role:candidate`, `event:lease expired`).
    pub signal: String,
    /// Where it happened, when the record says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// The first operation that ended without an answer after a fault began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    /// When the operation ended.
    pub at_ns: u64,
    pub time_to_impact_ns: u64,
    pub process: u64,
    pub f: OpKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its invoke and completion events in the history.
    pub invoke_index: usize,
    pub complete_index: usize,
}

/// When the system was back at the after-heal level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    /// Start of the first window back at the level.
    pub at_ns: u64,
    /// From the fault's start.
    pub time_to_recover_ns: u64,
    /// From the fault's end (zero when back before it); `None` for a
    /// fault never healed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_heal_ns: Option<u64>,
}

/// The measures of one fault window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRecovery {
    pub fault: FaultId,
    /// Its coverage kind (`partition`, `crash-majority`, …).
    pub kind: String,
    pub label: String,
    pub start_ns: u64,
    /// `None`: never healed within the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ns: Option<u64>,
    /// Where the search for its signal and impact stopped: the start of
    /// the next fault that began after it ended (`None`: the run's end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_until_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected: Option<Detected>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Recovered>,
    /// Workload operations invoked while this fault was active, and how
    /// many of them succeeded.
    pub ops_during: u64,
    pub ok_during: u64,
}

/// Every fault's measures in one run, with the run's availability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoveryReport {
    /// The signals faults were detected by.
    pub signals: Vec<DetectionSignal>,
    /// The ok ratio a window must reach to count as recovered.
    pub recovered_ratio: f64,
    #[serde(with = "serde_text")]
    pub recovery_window: Duration,
    /// Workload operations, and those that succeeded.
    pub ops: u64,
    pub ok: u64,
    /// … of them invoked while any fault was active.
    pub ops_during_faults: u64,
    pub ok_during_faults: u64,
    pub faults: Vec<FaultRecovery>,
}

/// One recorded signal, in time order.
struct Hit {
    time_ns: u64,
    signal: usize,
    host: Option<String>,
}

/// Every moment a signal was seen: one pass over the trace (a label is
/// built only when an `event:` signal needs it), plus the assertions'
/// first passing hits.
fn signal_hits(record: &RunRecord, signals: &[DetectionSignal]) -> Vec<Hit> {
    let mut hits = Vec::new();
    if signals.is_empty() {
        return hits;
    }
    for event in &record.trace {
        if let Some(i) = signals.iter().position(|s| s.matches_trace(event)) {
            hits.push(Hit {
                time_ns: event.time_ns,
                signal: i,
                host: Some(event.source.clone()),
            });
        }
    }
    for (i, signal) in signals.iter().enumerate() {
        let DetectionSignal::Assertion(message) = signal else {
            continue;
        };
        for a in record.assertions.iter().filter(|a| a.message == *message) {
            if let Some(first) = &a.first_pass {
                hits.push(Hit {
                    time_ns: first.time_ns,
                    signal: i,
                    host: first.host.clone(),
                });
            }
        }
    }
    // Stable: trace order breaks ties, then assertions in signal order.
    hits.sort_by_key(|h| h.time_ns);
    hits
}

/// Measures every fault window of `plan` in `record`.
pub fn measure(
    ops: &[Operation],
    plan: &Plan,
    record: &RunRecord,
    spec: &AvailabilitySpec,
    signals: &[DetectionSignal],
) -> RecoveryReport {
    let succeeded = |o: &Operation| o.answered() && (!o.degraded || spec.degraded_counts_as_ok);
    let workload: Vec<&Operation> = ops
        .iter()
        .filter(|o| o.process < FINAL_READER_PROCESS)
        .collect();
    let level = spec.min_ok_ratio_after_heal.unwrap_or(1.0);
    let window_ns = spec.recovery_window.as_nanos().max(1) as u64;
    let workload_end_ns = plan.duration.as_nanos() as u64;
    let hits = signal_hits(record, signals);
    // Each fault-starting event opens exactly one window, in order.
    let kinds: Vec<&str> = plan
        .events
        .iter()
        .filter_map(|e| fault_kind(&e.action))
        .collect();

    let mut faults = Vec::new();
    for (i, w) in plan.fault_windows.iter().enumerate() {
        let start_ns = w.start.as_nanos() as u64;
        if start_ns >= workload_end_ns {
            continue;
        }
        let end_ns = w.end.map(|e| e.as_nanos() as u64);
        let active_until = end_ns.unwrap_or(u64::MAX).max(start_ns);
        let evidence_until_ns = end_ns.and_then(|end| {
            plan.fault_windows
                .iter()
                .map(|o| o.start.as_nanos() as u64)
                .filter(|&o| o >= end && o > start_ns)
                .min()
        });
        let until = evidence_until_ns.unwrap_or(u64::MAX);
        let detected = hits
            .iter()
            .find(|h| h.time_ns >= start_ns)
            .filter(|h| h.time_ns < until)
            .map(|h| Detected {
                at_ns: h.time_ns,
                time_to_detect_ns: h.time_ns - start_ns,
                signal: signals[h.signal].to_string(),
                host: h.host.clone(),
            });
        let impact = workload
            .iter()
            .filter(|o| !succeeded(o))
            .filter_map(|o| Some((o.complete_ns?, o)))
            .filter(|(done, _)| (start_ns..until).contains(done))
            .min_by_key(|(done, o)| (*done, o.invoke_index))
            .map(|(done, o)| Impact {
                at_ns: done,
                time_to_impact_ns: done - start_ns,
                process: o.process,
                f: o.f,
                error: o.error.clone(),
                invoke_index: o.invoke_index,
                complete_index: o.complete_index.unwrap_or(o.invoke_index),
            });
        let back_at = match &impact {
            None => Some(start_ns),
            Some(impact) => first_window_at_level(
                &workload,
                &succeeded,
                impact.at_ns,
                window_ns,
                level,
                workload_end_ns,
            ),
        };
        let recovered = back_at.map(|at_ns| Recovered {
            at_ns,
            time_to_recover_ns: at_ns - start_ns,
            after_heal_ns: end_ns.map(|end| at_ns.saturating_sub(end)),
        });
        let (mut ops_during, mut ok_during) = (0, 0);
        for o in &workload {
            if o.invoke_ns >= start_ns && (o.invoke_ns < active_until || end_ns.is_none()) {
                ops_during += 1;
                ok_during += u64::from(succeeded(o));
            }
        }
        faults.push(FaultRecovery {
            fault: w.id,
            kind: kinds.get(i).copied().unwrap_or("unknown").to_string(),
            label: w.label.clone(),
            start_ns,
            end_ns,
            evidence_until_ns,
            detected,
            impact,
            recovered,
            ops_during,
            ok_during,
        });
    }

    let (mut ops_total, mut ok_total, mut ops_during, mut ok_during) = (0, 0, 0, 0);
    for o in &workload {
        let ok = u64::from(succeeded(o));
        ops_total += 1;
        ok_total += ok;
        if plan.fault_active_at(Duration::from_nanos(o.invoke_ns)) {
            ops_during += 1;
            ok_during += ok;
        }
    }
    RecoveryReport {
        signals: signals.to_vec(),
        recovered_ratio: level,
        recovery_window: spec.recovery_window,
        ops: ops_total,
        ok: ok_total,
        ops_during_faults: ops_during,
        ok_during_faults: ok_during,
        faults,
    }
}

/// The start of the first window of `window_ns`, laid from `from_ns`,
/// whose operations (by invocation) reach `level`; windows without
/// operations do not count. `None` if none before `until_ns`.
fn first_window_at_level(
    workload: &[&Operation],
    succeeded: &dyn Fn(&Operation) -> bool,
    from_ns: u64,
    window_ns: u64,
    level: f64,
    until_ns: u64,
) -> Option<u64> {
    // Workload operations are in invocation order: one pass, window by
    // window.
    let first = workload.partition_point(|o| o.invoke_ns < from_ns);
    let mut start = from_ns;
    let (mut total, mut ok) = (0u64, 0u64);
    for o in &workload[first..] {
        if o.invoke_ns >= until_ns {
            break;
        }
        while o.invoke_ns >= start + window_ns {
            if total > 0 && ok as f64 / total as f64 >= level {
                return Some(start);
            }
            (total, ok) = (0, 0);
            start += window_ns;
        }
        total += 1;
        ok += u64::from(succeeded(o));
    }
    // The last window counts only if the workload ran all of it.
    (total > 0 && ok as f64 / total as f64 >= level && start + window_ns <= until_ns)
        .then_some(start)
}

mod judge;
#[cfg(test)]
mod tests;

pub use judge::{judge, Judged};
