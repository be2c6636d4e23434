//! Coverage: what a sweep actually exercised.
//!
//! Swarm testing only finds bugs if the seeds really do explore: a scenario
//! that silently stops crashing its leader, or never reaches half-open,
//! still passes. So each seed reports the fault kinds its run applied (as
//! recorded: a planned fault the run ended before is not counted) and
//! the states its target reported reaching — every distinct `tracing`
//! event, labelled `target: message` (plus `[state=…]` when the event has a
//! `state` field) — and the suite counts, per scenario, how many seeds saw
//! each and how many of those failed. A scenario may require coverage
//! (`[[coverage]]`): a fault kind or an event reached in at least a
//! fraction of its seeds; a requirement not met fails the suite.

use crate::check::Status;
use crate::plan::Plan;
use crate::record::{RunRecord, TraceKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Re-exported from [`crate::fault`], beside the actions they name.
pub use crate::fault::{fault_kind, FAULT_KINDS};
/// Re-exported from [`crate::scenario`]: a requirement is part of a scenario.
pub use crate::scenario::CoverageRequirement;

/// Cap on distinct state labels kept per seed.
pub const MAX_LABELS_PER_SEED: usize = 256;

/// The fault kinds a run applied (start events only), sorted: the plan's
/// events the record says the nemesis reached, never the ones it did not.
pub fn fault_kinds(plan: &Plan, record: &RunRecord) -> Vec<String> {
    let kinds: BTreeSet<&'static str> = plan
        .events
        .iter()
        .take(record.plan_events_applied)
        .filter_map(|e| fault_kind(&e.action))
        .collect();
    kinds.into_iter().map(str::to_string).collect()
}

/// The distinct states the target reported, sorted and capped.
pub fn reached(record: &RunRecord) -> Vec<String> {
    let mut labels = BTreeSet::new();
    for event in record.trace.iter().filter(|e| e.kind == TraceKind::Log) {
        labels.insert(event.label());
        if labels.len() >= MAX_LABELS_PER_SEED {
            break;
        }
    }
    labels.into_iter().collect()
}

/// How often something was seen across a scenario's seeds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub seeds: u64,
    /// Of those seeds, how many failed.
    pub failed: u64,
}

/// Coverage of one scenario across its seeds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioCoverage {
    pub seeds: u64,
    pub faults: BTreeMap<String, Seen>,
    pub states: BTreeMap<String, Seen>,
}

impl ScenarioCoverage {
    pub fn add(&mut self, fault_kinds: &[String], reached: &[String], status: Status) {
        self.seeds += 1;
        let failed = u64::from(status != Status::Pass);
        for kind in fault_kinds {
            let seen = self.faults.entry(kind.clone()).or_default();
            seen.seeds += 1;
            seen.failed += failed;
        }
        for label in reached {
            let seen = self.states.entry(label.clone()).or_default();
            seen.seeds += 1;
            seen.failed += failed;
        }
    }

    /// The fraction of seeds meeting one requirement.
    pub fn fraction(&self, requirement: &CoverageRequirement) -> f64 {
        if self.seeds == 0 {
            return 0.0;
        }
        let seeds = match (&requirement.fault, &requirement.event) {
            (Some(kind), _) => self.faults.get(kind).map_or(0, |s| s.seeds),
            // Seeds reaching any matching label: labels are per seed, so
            // the best single label is a lower bound; take the max.
            (_, Some(text)) => self
                .states
                .iter()
                .filter(|(label, _)| label.contains(text.as_str()))
                .map(|(_, s)| s.seeds)
                .max()
                .unwrap_or(0),
            _ => 0,
        };
        seeds as f64 / self.seeds as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_count_seeds_per_fault_and_per_event() {
        let mut c = ScenarioCoverage::default();
        c.add(
            &["crash".into()],
            &["kv: became leader".into()],
            Status::Pass,
        );
        c.add(&[], &["kv: became leader".into()], Status::Fail);
        c.add(&["crash".into()], &[], Status::Pass);
        c.add(&[], &[], Status::Pass);
        let crash = CoverageRequirement {
            fault: Some("crash".into()),
            event: None,
            assertion: None,
            min_fraction: 0.5,
        };
        let leader = CoverageRequirement {
            fault: None,
            event: Some("became leader".into()),
            assertion: None,
            min_fraction: 0.5,
        };
        assert_eq!(c.fraction(&crash), 0.5);
        assert_eq!(c.fraction(&leader), 0.5);
        assert_eq!(c.states["kv: became leader"].failed, 1);
    }
}
