//! Building scenarios in Rust, for `#[test]` functions that test a user's
//! own system without writing a file.

use super::*;
use crate::history::OpKind;
use std::time::Duration;

/// A fluent way to write a [`Scenario`]; every field not set keeps the
/// same default a TOML file would get.
///
/// ```
/// use harness::scenario::{ScenarioBuilder, FaultEventSpec};
/// use std::time::Duration;
/// let scenario = ScenarioBuilder::new("my-partition", "register")
///     .duration(Duration::from_secs(10))
///     .clients(4)
///     .fault(FaultEventSpec::Isolate {
///         at: Duration::from_secs(2),
///         duration: Some(Duration::from_secs(3)),
///         host: "server".into(),
///     })
///     .min_ok_ratio_after_heal(0.9)
///     .build();
/// assert_eq!(scenario.faults.events.len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct ScenarioBuilder {
    scenario: Scenario,
}

impl ScenarioBuilder {
    pub fn new(name: impl Into<String>, system: impl Into<String>) -> ScenarioBuilder {
        ScenarioBuilder {
            scenario: Scenario {
                name: name.into(),
                description: String::new(),
                seeds: DEFAULT_SEEDS,
                target: TargetSpec {
                    system: system.into(),
                    settings: toml::Table::new(),
                },
                simulation: SimulationSpec::default(),
                network: NetworkSpec::default(),
                workload: WorkloadSpec::default(),
                faults: FaultsSpec::default(),
                invariants: InvariantsSpec::default(),
                coverage: Vec::new(),
            },
        }
    }

    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.scenario.description = text.into();
        self
    }

    pub fn seeds(mut self, seeds: u64) -> Self {
        self.scenario.seeds = seeds;
        self
    }

    /// A target setting (a key of `[target]`).
    pub fn setting(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.scenario
            .target
            .settings
            .insert(key.to_string(), value.into());
        self
    }

    pub fn duration(mut self, d: Duration) -> Self {
        self.scenario.simulation.duration = d;
        self
    }

    pub fn tick(mut self, d: Duration) -> Self {
        self.scenario.simulation.tick = d;
        self
    }

    pub fn drain(mut self, d: Duration) -> Self {
        self.scenario.simulation.drain = d;
        self
    }

    pub fn latency(mut self, latency: Duration, jitter: Duration) -> Self {
        self.scenario.network.latency = latency;
        self.scenario.network.jitter = jitter;
        self
    }

    pub fn clients(mut self, n: u32) -> Self {
        self.scenario.workload.clients = n;
        self
    }

    pub fn client_hosts(mut self, n: u32) -> Self {
        self.scenario.workload.client_hosts = n;
        self
    }

    pub fn rate(mut self, ops_per_sec: f64) -> Self {
        self.scenario.workload.rate = ops_per_sec;
        self
    }

    pub fn mix(mut self, mix: &[(OpKind, u32)]) -> Self {
        self.scenario.workload.mix = mix.iter().copied().collect();
        self
    }

    pub fn keys(mut self, n: u32) -> Self {
        self.scenario.workload.keys = n;
        self
    }

    pub fn op_timeout(mut self, d: Duration) -> Self {
        self.scenario.workload.timeout = d;
        self
    }

    pub fn final_read(mut self, on: bool) -> Self {
        self.scenario.workload.final_read = on;
        self
    }

    pub fn fault(mut self, event: FaultEventSpec) -> Self {
        self.scenario.faults.events.push(event);
        self
    }

    pub fn random_faults(mut self, random: RandomFaultsSpec) -> Self {
        self.scenario.faults.random = Some(random);
        self
    }

    pub fn availability(mut self, spec: AvailabilitySpec) -> Self {
        self.scenario.invariants.availability = Some(spec);
        self
    }

    pub fn min_ok_ratio_after_heal(mut self, ratio: f64) -> Self {
        self.scenario
            .invariants
            .availability
            .get_or_insert_with(AvailabilitySpec::default)
            .min_ok_ratio_after_heal = Some(ratio);
        self
    }

    /// Replaces every invariant at once.
    pub fn invariants(mut self, invariants: InvariantsSpec) -> Self {
        self.scenario.invariants = invariants;
        self
    }

    pub fn durability(mut self) -> Self {
        self.scenario.invariants.durability = Some(DurabilitySpec::default());
        self
    }

    pub fn convergence(mut self) -> Self {
        self.scenario.invariants.convergence = Some(ConvergenceSpec::default());
        self
    }

    /// Checks the job queue invariants with this processing-delay bound.
    pub fn jobs(mut self, max_processing_delay: Duration) -> Self {
        self.scenario.invariants.jobs = Some(JobsSpec {
            max_processing_delay,
        });
        self
    }

    pub fn linearizable(mut self, model: impl Into<String>) -> Self {
        self.scenario.invariants.linearizable = Some(LinearizableSpec {
            model: model.into(),
            max_states: None,
            max_memory_bytes: None,
        });
        self
    }

    /// Checks the run's `txn` operations against a consistency model.
    pub fn transactional(
        mut self,
        model: super::TxnModel,
        consistency: super::Consistency,
    ) -> Self {
        self.scenario.invariants.transactional =
            Some(super::TransactionalSpec::new(model, consistency));
        self
    }

    pub fn require_coverage(mut self, requirement: CoverageRequirement) -> Self {
        self.scenario.coverage.push(requirement);
        self
    }

    pub fn build(self) -> Scenario {
        self.scenario
    }
}
