//! `[invariants]`: what must hold on every run, with its thresholds; and
//! `[[coverage]]`: what a suite run of the scenario must exercise across
//! its seeds.

use crate::duration::serde_text;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[invariants.*]`: what must hold. Each present table is checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvariantsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<AvailabilitySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linearizable: Option<LinearizableSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durability: Option<DurabilitySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convergence: Option<ConvergenceSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<JobsSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactional: Option<super::TransactionalSpec>,
}

impl InvariantsSpec {
    pub fn is_empty(&self) -> bool {
        self.availability.is_none()
            && self.linearizable.is_none()
            && self.durability.is_none()
            && self.convergence.is_none()
            && self.jobs.is_none()
            && self.transactional.is_none()
    }
}

/// `[invariants.durability]`: every acknowledged mutation is in the state
/// read after recovery. Needs `workload.final_read = true`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurabilitySpec {}

/// `[invariants.convergence]`: after the run, every replica published the
/// same state (see `harness::sim::publish_state`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvergenceSpec {}

/// Default bound of `[invariants.jobs] max_processing_delay`.
pub const DEFAULT_MAX_PROCESSING_DELAY: Duration = Duration::from_secs(5);

/// `[invariants.jobs]`: a job queue processes every acknowledged job,
/// applies each job's effect exactly once, and does so promptly once the
/// faults are over. Needs `workload.final_read = true`: the final read of
/// each key returns that queue's effect ledger (see [`crate::check::jobs`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSpec {
    /// Longest a job may wait from its acknowledged enqueue (or from the
    /// end of the last fault that overlapped its wait) to its effect.
    #[serde(with = "serde_text", default = "default_max_processing_delay")]
    pub max_processing_delay: Duration,
}

fn default_max_processing_delay() -> Duration {
    DEFAULT_MAX_PROCESSING_DELAY
}

impl Default for JobsSpec {
    fn default() -> Self {
        JobsSpec {
            max_processing_delay: DEFAULT_MAX_PROCESSING_DELAY,
        }
    }
}

/// `[invariants.availability]`: request success ratios, recovery, latency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilitySpec {
    /// Minimum fraction of operations that end `ok`, over the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ok_ratio: Option<f64>,
    /// … over operations invoked while a fault was active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ok_ratio_during_faults: Option<f64>,
    /// … over operations invoked after the last heal plus `heal_grace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ok_ratio_after_heal: Option<f64>,
    /// Operations invoked within this long after the last heal are not
    /// counted in `min_ok_ratio_after_heal` (failover takes a moment).
    #[serde(with = "serde_text", default)]
    pub heal_grace: Duration,
    /// Time from the last heal to the start of the first window of
    /// `recovery_window` whose ok ratio is back at `min_ok_ratio_after_heal`
    /// (or 1.0 if that is unset) must not exceed this.
    #[serde(
        default,
        with = "crate::duration::serde_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_recovery_time: Option<Duration>,
    #[serde(with = "serde_text", default = "default_recovery_window")]
    pub recovery_window: Duration,
    /// Degraded answers (from a fallback) count as ok when true.
    #[serde(default)]
    pub degraded_counts_as_ok: bool,
    /// Latency bounds on completed operations (any kind).
    #[serde(
        default,
        with = "crate::duration::serde_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_p99_latency: Option<Duration>,
    /// Attempts per logical request, when the target reports attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retry_amplification: Option<f64>,
    /// Replaces the target's detection signals (see
    /// [`crate::detection`]): `event:TEXT`, `role:NAME`, `assertion:MESSAGE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_signals: Option<Vec<crate::detection::DetectionSignal>>,
    /// Longest a fault may go from its start to the first detection
    /// signal, for every fault or per fault kind; a fault never detected
    /// fails it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time_to_detect: Option<super::FaultBound>,
    /// Longest a fault may go from its start to the first
    /// `recovery_window` back at the after-heal ratio (see
    /// [`crate::check::recovery`]), for every fault or per kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time_to_recover: Option<super::FaultBound>,
}

fn default_recovery_window() -> Duration {
    Duration::from_secs(1)
}

impl Default for AvailabilitySpec {
    fn default() -> Self {
        AvailabilitySpec {
            min_ok_ratio: None,
            min_ok_ratio_during_faults: None,
            min_ok_ratio_after_heal: None,
            heal_grace: Duration::ZERO,
            max_recovery_time: None,
            recovery_window: default_recovery_window(),
            degraded_counts_as_ok: false,
            max_p99_latency: None,
            max_retry_amplification: None,
            detection_signals: None,
            max_time_to_detect: None,
            max_time_to_recover: None,
        }
    }
}

/// `[invariants.linearizable]`: the history must be linearizable against
/// a sequential model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearizableSpec {
    /// One of [`LINEARIZABLE_MODELS`].
    pub model: String,
    /// Most search states memoised per key before the verdict is
    /// `unknown`; the checker's default (4,000,000) if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_states: Option<u64>,
    /// Most bytes one key's search may hold before the verdict is
    /// `unknown`; the checker's default (512 MiB) if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_bytes: Option<u64>,
}

/// The largest `max_states` a user may set: the checker's memo addresses
/// entries with `u32`s.
pub const LINEARIZABLE_HARD_MAX_STATES: u64 = (u32::MAX / 2) as u64;

/// The smallest `max_memory_bytes` a user may set (1 MiB): less than that
/// decides nothing but the smallest histories, and is more likely a unit
/// mistake (`512` meant as MiB) than an intent.
pub const LINEARIZABLE_MIN_MAX_MEMORY_BYTES: u64 = 1 << 20;

/// What is wrong with the linearizability budgets a user set, if anything:
/// the limit's name (`max_states`, `max_memory_bytes`) and what it must be.
/// Scenario validation and `check-history`'s flags both ask this (the
/// checker's `Budget::with_limits`), so the two accept the same values.
pub fn linearizable_budget_error(
    max_states: Option<u64>,
    max_memory_bytes: Option<u64>,
) -> Option<(&'static str, String)> {
    if let Some(states) = max_states {
        if !(1..=LINEARIZABLE_HARD_MAX_STATES).contains(&states) {
            return Some((
                "max_states",
                format!(
                    "expected a number of states per key from 1 to {LINEARIZABLE_HARD_MAX_STATES}, found {states}"
                ),
            ));
        }
    }
    if let Some(bytes) = max_memory_bytes {
        if bytes < LINEARIZABLE_MIN_MAX_MEMORY_BYTES {
            return Some((
                "max_memory_bytes",
                format!(
                    "expected a number of bytes per key of at least {LINEARIZABLE_MIN_MAX_MEMORY_BYTES} (1 MiB), found {bytes}"
                ),
            ));
        }
    }
    None
}

/// The models `[invariants.linearizable] model = "..."` accepts, in the
/// order error messages list them. The checker owns the models; this list
/// lives here so that validation need not reach up to it, and a test in
/// [`crate::check`] keeps the two equal.
pub const LINEARIZABLE_MODELS: &[&str] = &["register", "kv", "counter", "queue"];

/// `[[coverage]]`: something a fraction of the seeds must exercise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageRequirement {
    /// A fault kind (`crash`, `partition`, …) the plan must apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Text that a reached state label must contain (e.g. `became leader`,
    /// `state=half-open`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The message of an assertion (see [`crate::assertions`]) that must
    /// hold at least once in the seed: a `sometimes` that held, a
    /// `reachable` reached, an `always` reached and holding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion: Option<String>,
    /// Fraction of seeds, in [0, 1].
    pub min_fraction: f64,
}

impl CoverageRequirement {
    pub fn describe(&self) -> String {
        match (&self.fault, &self.event, &self.assertion) {
            (Some(f), _, _) => format!("fault {f}"),
            (_, Some(e), _) => format!("event \"{e}\""),
            (_, _, Some(a)) => format!("assertion \"{a}\""),
            _ => "nothing".into(),
        }
    }
}
