//! Scenarios: what to run, against what, under which faults, checked how.
//!
//! A scenario is plain data, read from a TOML file (see [`parse`]) or built
//! in Rust (see [`ScenarioBuilder`]). It names a target system and its
//! settings, the simulated duration and tick, the workload, the fault plan
//! (hand-written events, a random "swarm" plan, or both) and the invariants
//! with their thresholds. [`validate`] checks it against the target's
//! topology; [`crate::plan::expand`] turns it and a seed into a concrete plan.
//!
//! Each table of the file has its own submodule: `simulation.rs`
//! (`[simulation]`, `[network]`), `workload.rs`, `faults.rs`
//! (`[[faults.events]]`), `random.rs` (`[faults.random]`) and
//! `invariants.rs` (`[invariants.*]`, `[[coverage]]`); every type is
//! re-exported here, so `scenario::X` is the one path to use.

mod builder;
mod diagnose;
mod error;
mod fault_bound;
mod faults;
mod invariants;
mod overrides;
pub mod parse;
mod random;
mod simulation;
pub(crate) mod transactional;
mod txn_workload;
mod validate;
mod workload;

pub use builder::ScenarioBuilder;
pub use error::ScenarioError;
pub use fault_bound::FaultBound;
pub use faults::{
    FaultEventSpec, FaultsSpec, HostSet, MAX_CLOCK_DRIFT_RATE, MAX_CLOCK_OFFSET, MAX_DISK_LATENCY,
    MAX_SPREAD, MIN_CLOCK_DRIFT_RATE,
};
pub use invariants::{
    linearizable_budget_error, AvailabilitySpec, ConvergenceSpec, CoverageRequirement,
    DurabilitySpec, InvariantsSpec, JobsSpec, LinearizableSpec, DEFAULT_MAX_PROCESSING_DELAY,
    LINEARIZABLE_HARD_MAX_STATES, LINEARIZABLE_MIN_MAX_MEMORY_BYTES, LINEARIZABLE_MODELS,
};
pub use overrides::{apply_overrides, blame_overrides};
pub use parse::{load_file, parse_str, path_to_string};
pub use random::{RandomFaultKind, RandomFaultsSpec};
pub use simulation::{NetworkSpec, SimulationSpec, DEFAULT_TCP_CAPACITY, MAX_TCP_CAPACITY};
pub use transactional::{Consistency, TransactionalSpec, TxnModel};
pub use txn_workload::{
    TxnWorkloadSpec, DEFAULT_TXN_MAX_OPS, DEFAULT_TXN_MIN_OPS, DEFAULT_TXN_READ_SHARE, MAX_TXN_OPS,
};
pub use validate::{validate, Prepared, Topology, MAX_SEEDS, MAX_SIMULATED_TIME};
pub use workload::{
    WorkloadSpec, DEFAULT_MAX_OPS, MAX_CLIENTS, MAX_CLIENT_HOSTS, MAX_RATE, MIN_RATE,
};

/// Re-exported from [`crate::fault`], where the plan and the disks find it too.
pub use crate::fault::DiskOp;

use serde::{Deserialize, Serialize};

/// Seeds a suite run uses for a scenario when none are given.
pub const DEFAULT_SEEDS: u64 = 20;

/// One scenario file: each table is a type of its own submodule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique within a suite; names the report folder.
    pub name: String,
    /// One line for `chaos list`.
    #[serde(default)]
    pub description: String,
    /// How many seeds a suite run uses by default.
    #[serde(default = "default_seeds")]
    pub seeds: u64,
    pub target: TargetSpec,
    #[serde(default)]
    pub simulation: SimulationSpec,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub workload: WorkloadSpec,
    #[serde(default)]
    pub faults: FaultsSpec,
    #[serde(default)]
    pub invariants: InvariantsSpec,
    /// `[[coverage]]`: what a suite run of this scenario must exercise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<CoverageRequirement>,
}

fn default_seeds() -> u64 {
    DEFAULT_SEEDS
}

/// `[target]`: which system, and its settings (every other key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetSpec {
    pub system: String,
    #[serde(flatten)]
    pub settings: toml::Table,
}
