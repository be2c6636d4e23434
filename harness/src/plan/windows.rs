//! Fault windows: when each fault was active, derived from the sorted
//! events alone (a start opens a window, its end, a `heal` or a restart
//! closes it), for reports and the "during faults" availability ratio. A
//! restart or resume closes the crash or pause it names with `of`, or else
//! every open crash (pause) of its host.

use super::PlanEvent;
use crate::duration::serde_text;
use crate::fault::{FaultAction, FaultId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// A span of time during which a fault was active, for reports and the
/// "during faults" availability ratio.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultWindow {
    pub id: FaultId,
    pub label: String,
    #[serde(with = "serde_text")]
    pub start: Duration,
    /// `None`: never healed within the run.
    #[serde(with = "crate::duration::serde_opt")]
    pub end: Option<Duration>,
}

/// Derives when each fault was active from the ordered events.
pub(super) fn fault_windows(events: &[PlanEvent]) -> Vec<FaultWindow> {
    let mut windows: Vec<FaultWindow> = Vec::new();
    // Open crash and pause windows by fault id: ("crash" | "pause", host).
    let mut process: BTreeMap<FaultId, (&'static str, String)> = BTreeMap::new();
    let close =
        |windows: &mut Vec<FaultWindow>, at: Duration, pred: &dyn Fn(&FaultWindow) -> bool| {
            for w in windows.iter_mut().filter(|w| w.end.is_none() && pred(w)) {
                w.end = Some(at);
            }
        };
    for event in events {
        let at = event.at;
        let open = |windows: &mut Vec<FaultWindow>, id: FaultId| {
            windows.push(FaultWindow {
                id,
                label: event.action.describe(),
                start: at,
                end: None,
            })
        };
        match &event.action {
            FaultAction::Crash { id, host, .. } => {
                process.insert(*id, ("crash", host.clone()));
                open(&mut windows, *id)
            }
            FaultAction::Pause { id, host, .. } => {
                process.insert(*id, ("pause", host.clone()));
                open(&mut windows, *id)
            }
            FaultAction::Partition { id, .. }
            | FaultAction::PartitionOneway { id, .. }
            | FaultAction::Ring { id, .. }
            | FaultAction::Latency { id, .. }
            | FaultAction::Loss { id, .. }
            | FaultAction::DiskError { id, .. }
            | FaultAction::DiskFull { id, .. }
            | FaultAction::DiskCorrupt { id, .. }
            | FaultAction::DiskSlow { id, .. }
            | FaultAction::ClockJump { id, .. }
            | FaultAction::ClockDrift { id, .. } => open(&mut windows, *id),
            FaultAction::Bounce { id, .. } => {
                // A process restart is instantaneous in simulated time; the
                // outage it causes is whatever the target takes to recover.
                open(&mut windows, *id);
                close(&mut windows, at, &|w| w.id == *id);
            }
            FaultAction::EndPartition { id }
            | FaultAction::EndLatency { id }
            | FaultAction::EndLoss { id }
            | FaultAction::EndDiskFault { id }
            | FaultAction::EndClockFault { id } => close(&mut windows, at, &|w| w.id == *id),
            FaultAction::HealPartitions => close(&mut windows, at, &|w| {
                w.label.starts_with("partition") || w.label.starts_with("ring")
            }),
            FaultAction::Restart { host, of } => {
                let ended = ended_by(&mut process, "crash", host, *of);
                close(&mut windows, at, &|w| ended.contains(&w.id))
            }
            FaultAction::Resume { host, of } => {
                let ended = ended_by(&mut process, "pause", host, *of);
                close(&mut windows, at, &|w| ended.contains(&w.id))
            }
            FaultAction::HealAll => {
                process.clear();
                close(&mut windows, at, &|_| true)
            }
        }
    }
    windows
}

/// The crash (or pause) windows a restart (or resume) of `host` ends: the
/// one it names, or every open one of that host.
fn ended_by(
    process: &mut BTreeMap<FaultId, (&'static str, String)>,
    kind: &str,
    host: &str,
    of: Option<FaultId>,
) -> Vec<FaultId> {
    let ended: Vec<FaultId> = process
        .iter()
        .filter(|(id, (k, h))| match of {
            Some(of) => **id == of,
            None => *k == kind && h == host,
        })
        .map(|(id, _)| *id)
        .collect();
    for id in &ended {
        process.remove(id);
    }
    ended
}
