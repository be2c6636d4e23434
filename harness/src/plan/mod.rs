//! Plans: a scenario expanded with a seed into concrete, timed fault events.
//!
//! A plan is plain data. Every random choice a scenario leaves open — which
//! fault kinds a swarm seed enables, which server a random fault hits, how
//! long it lasts — is made here from the seed's `plan` stream, once. The
//! simulation then applies the events at their times and makes no choices
//! of its own, so a plan can be printed, stored in a report, edited and
//! replayed exactly.
//!
//! [`expand`] is the whole arrow: hand-written events become actions with
//! their end events (`manual.rs`), a random spec becomes a storm drawn from
//! the stream (`random.rs`), both shape partitions the same way
//! (`partitions.rs`) and expand faults on several servers the same way
//! (`groups.rs`), and the sorted events give the windows during which
//! each fault was active (`windows.rs`). `explicit.rs` goes the other
//! way: a plan, with what its role-aimed faults hit in a run, written back
//! as hand-written events (for the shrinker and the explorer). The actions themselves are
//! [`crate::fault`]'s vocabulary.

mod explicit;
mod groups;
mod manual;
mod partitions;
mod random;
#[cfg(test)]
mod tests;
mod windows;

/// Re-exported from [`crate::fault`], the vocabulary every floor shares.
pub use crate::fault::{FaultAction, FaultId};
pub use explicit::{explicit_events, explicit_events_keeping_roles, to_tick, with_duration};
pub use windows::FaultWindow;

use crate::duration::serde_text;
use crate::scenario::{RandomFaultKind, Scenario, Topology, WorkloadSpec};
use crate::seed::Seed;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One event of the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanEvent {
    #[serde(with = "serde_text")]
    pub at: Duration,
    #[serde(flatten)]
    pub action: FaultAction,
}

/// A scenario made concrete for one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub scenario: String,
    pub seed: u64,
    pub servers: Vec<String>,
    pub clients: Vec<String>,
    #[serde(with = "serde_text")]
    pub duration: Duration,
    #[serde(with = "serde_text")]
    pub tick: Duration,
    #[serde(with = "serde_text")]
    pub drain: Duration,
    #[serde(with = "serde_text")]
    pub latency: Duration,
    #[serde(with = "serde_text")]
    pub jitter: Duration,
    pub tcp_capacity: usize,
    pub workload: WorkloadSpec,
    /// For random plans: the fault kinds this seed's swarm switched on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enabled_fault_kinds: Vec<RandomFaultKind>,
    pub events: Vec<PlanEvent>,
    pub fault_windows: Vec<FaultWindow>,
    /// When the last fault ended, if every fault ended.
    #[serde(with = "crate::duration::serde_opt")]
    pub last_heal: Option<Duration>,
}

impl Plan {
    pub fn topology(&self) -> Topology {
        Topology {
            servers: self.servers.clone(),
            clients: self.clients.clone(),
        }
    }

    /// Whether a fault was active at `t`.
    pub fn fault_active_at(&self, t: Duration) -> bool {
        self.fault_windows
            .iter()
            .any(|w| w.start <= t && w.end.is_none_or(|end| t < end))
    }
}

/// Expands a validated scenario with a seed.
pub fn expand(scenario: &Scenario, topology: &Topology, seed: u64) -> Plan {
    let mut rng = Seed(seed).stream("plan");
    let mut builder = PlanBuilder {
        events: Vec::new(),
        next_id: 1,
    };

    for spec in &scenario.faults.events {
        builder.add_manual(spec, topology, &mut rng);
    }
    let mut enabled = Vec::new();
    let mut jitter = scenario.network.jitter;
    if let Some(random) = &scenario.faults.random {
        enabled = random::enabled_kinds(random, &mut rng);
        jitter = random::jitter(random, &mut rng).unwrap_or(jitter);
        builder.add_random(
            random,
            &enabled,
            topology,
            scenario.simulation.duration,
            &mut rng,
        );
    }

    // Stable: events at the same instant keep the order they were written.
    let mut events = builder.events;
    events.sort_by_key(|e| e.at);
    let fault_windows = windows::fault_windows(&events);
    let last_heal = if fault_windows.iter().all(|w| w.end.is_some()) {
        fault_windows.iter().filter_map(|w| w.end).max()
    } else {
        None
    };

    Plan {
        scenario: scenario.name.clone(),
        seed,
        servers: topology.servers.clone(),
        clients: topology.clients.clone(),
        duration: scenario.simulation.duration,
        tick: scenario.simulation.tick,
        drain: scenario.simulation.drain,
        latency: scenario.network.latency,
        jitter,
        tcp_capacity: scenario.network.tcp_capacity,
        workload: scenario.workload.clone(),
        enabled_fault_kinds: enabled,
        events,
        fault_windows,
        last_heal,
    }
}

/// Collects a plan's events and numbers its faults, in the order they are
/// added (manual events first, then the random storm).
struct PlanBuilder {
    events: Vec<PlanEvent>,
    next_id: FaultId,
}

impl PlanBuilder {
    fn id(&mut self) -> FaultId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn push(&mut self, at: Duration, action: FaultAction) {
        self.events.push(PlanEvent { at, action });
    }
}
