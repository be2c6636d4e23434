//! Meaning checks that serde cannot do: names that must exist, numbers that
//! must be in range, faults that must fit the topology and the duration.
//! The faults' checks, the longest, are in `faults.rs`.

mod detection;
mod faults;
mod times;

pub use times::MAX_SIMULATED_TIME;

use super::error::ScenarioError;
use super::*;
use crate::target::{Registry, System};
use std::sync::Arc;

/// Cap on simulation steps, whatever the duration and tick: past this a
/// scenario should use a coarser tick.
pub const MAX_STEPS: u64 = 50_000_000;
/// Cap on seeds per scenario in one suite run.
pub const MAX_SEEDS: u64 = 1_000_000;

/// The hosts of a configured scenario, and the names that refer to them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    pub servers: Vec<String>,
    pub clients: Vec<String>,
}

impl Topology {
    pub fn all(&self) -> Vec<String> {
        self.servers.iter().chain(&self.clients).cloned().collect()
    }

    /// Resolves a host or group name: `servers`, `clients`, `all`, or a
    /// single host.
    pub fn resolve(&self, name: &str) -> Option<Vec<String>> {
        match name {
            "servers" => Some(self.servers.clone()),
            "clients" => Some(self.clients.clone()),
            "all" => Some(self.all()),
            host if self.is_host(host) => Some(vec![host.to_string()]),
            _ => None,
        }
    }

    pub fn resolve_set(&self, names: &[String]) -> Option<Vec<String>> {
        let mut hosts = Vec::new();
        for name in names {
            for host in self.resolve(name)? {
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
        }
        Some(hosts)
    }

    pub fn is_host(&self, name: &str) -> bool {
        self.servers.iter().chain(&self.clients).any(|h| h == name)
    }

    pub fn is_server(&self, name: &str) -> bool {
        self.servers.iter().any(|h| h == name)
    }

    fn names_hint(&self) -> String {
        let mut names = vec!["servers".to_string(), "clients".into(), "all".into()];
        names.extend(self.all());
        names.join(", ")
    }
}

/// A scenario that passed validation, with its configured system.
#[derive(Clone)]
pub struct Prepared {
    pub system: Arc<dyn System>,
    pub topology: Topology,
    /// What counts as the system noticing a fault: the scenario's
    /// `[invariants.availability] detection_signals`, or else the target's.
    pub detection: Vec<crate::detection::DetectionSignal>,
}

/// Checks a scenario's meaning against the registry and returns the
/// configured system and its topology.
pub fn validate(scenario: &Scenario, registry: &Registry) -> Result<Prepared, ScenarioError> {
    let err = |key: &str, message: String| Err(ScenarioError::at_key(key, message));

    if scenario.name.is_empty()
        || !scenario
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return err(
            "name",
            format!(
                "\"{}\" is not a valid name: use letters, digits, '-' and '_' (it names the report folder)",
                scenario.name
            ),
        );
    }
    if scenario.seeds == 0 || scenario.seeds > MAX_SEEDS {
        return err(
            "seeds",
            format!("expected 1 to {MAX_SEEDS}, found {}", scenario.seeds),
        );
    }

    let Some(target) = registry.get(&scenario.target.system) else {
        return err(
            "target.system",
            format!(
                "unknown target \"{}\": expected one of {}",
                scenario.target.system,
                registry.names().join(", ")
            ),
        );
    };
    let system = target.configure(&scenario.target.settings).map_err(|e| {
        let key = if e.key.is_empty() {
            "target".to_string()
        } else {
            format!("target.{}", e.key)
        };
        ScenarioError::at_key(key, e.message)
    })?;
    let topology = Topology {
        servers: system.hosts(),
        clients: scenario.workload.client_host_names(),
    };

    times::validate_times(scenario)?;
    validate_simulation(&scenario.simulation)?;
    let capacity = scenario.network.tcp_capacity;
    if capacity == 0 || capacity > MAX_TCP_CAPACITY {
        return Err(ScenarioError::at_key(
            "network.tcp_capacity",
            format!("expected 1 to {MAX_TCP_CAPACITY}, found {capacity}"),
        ));
    }
    validate_workload(&scenario.workload)?;
    validate_op_kinds(&scenario.workload, &scenario.target.system, &*system)?;
    faults::validate_faults(scenario, &topology, &system.roles())?;
    validate_invariants(&scenario.invariants, &scenario.workload)?;
    let detection = detection::resolve(scenario.invariants.availability.as_ref(), &*system)?;
    for (i, req) in scenario.coverage.iter().enumerate() {
        let key = format!("coverage[{i}]");
        let given = [
            req.fault.is_some(),
            req.event.is_some(),
            req.assertion.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(ScenarioError::at_key(
                key,
                "give exactly one of `fault`, `event` or `assertion`",
            ));
        }
        if req
            .assertion
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(ScenarioError::at_key(
                format!("{key}.assertion"),
                "expected the message of an assertion in the target's code, found an empty string",
            ));
        }
        if !(0.0..=1.0).contains(&req.min_fraction) {
            return Err(ScenarioError::at_key(
                format!("{key}.min_fraction"),
                format!("expected a fraction in [0, 1], found {}", req.min_fraction),
            ));
        }
        if let Some(kind) = &req.fault {
            if !crate::fault::FAULT_KINDS.contains(&kind.as_str()) {
                return Err(ScenarioError::at_key(
                    format!("{key}.fault"),
                    format!(
                        "unknown fault kind \"{kind}\": expected one of {}",
                        crate::fault::FAULT_KINDS.join(", ")
                    ),
                ));
            }
        }
    }
    if scenario.invariants.durability.is_some() && !scenario.workload.final_read {
        return Err(ScenarioError::at_key(
            "invariants.durability",
            "needs a final read of every key: set workload.final_read = true",
        ));
    }
    if scenario.invariants.jobs.is_some() && !scenario.workload.final_read {
        return Err(ScenarioError::at_key(
            "invariants.jobs",
            "needs the effect ledger read after the run: set workload.final_read = true",
        ));
    }
    Ok(Prepared {
        system,
        topology,
        detection,
    })
}

fn validate_simulation(sim: &SimulationSpec) -> Result<(), ScenarioError> {
    if sim.duration.is_zero() {
        return Err(ScenarioError::at_key(
            "simulation.duration",
            "must be greater than zero",
        ));
    }
    if sim.tick.is_zero() || sim.tick > sim.duration {
        return Err(ScenarioError::at_key(
            "simulation.tick",
            "must be greater than zero and at most the duration",
        ));
    }
    if sim.max_steps() > MAX_STEPS {
        return Err(ScenarioError::at_key(
            "simulation.tick",
            format!(
                "duration + drain at this tick needs {} steps, over the cap of {MAX_STEPS}: use a coarser tick",
                sim.max_steps()
            ),
        ));
    }
    Ok(())
}

fn validate_workload(w: &WorkloadSpec) -> Result<(), ScenarioError> {
    let fail = |key: &str, message: String| Err(ScenarioError::at_key(key, message));
    if w.clients == 0 || w.clients > MAX_CLIENTS {
        return fail(
            "workload.clients",
            format!("expected 1 to {MAX_CLIENTS}, found {}", w.clients),
        );
    }
    if w.client_hosts == 0 || w.client_hosts > MAX_CLIENT_HOSTS || w.client_hosts > w.clients {
        return fail(
            "workload.client_hosts",
            format!(
                "expected 1 to {} (at most one per client), found {}",
                MAX_CLIENT_HOSTS.min(w.clients),
                w.client_hosts
            ),
        );
    }
    if !(w.rate.is_finite() && (MIN_RATE..=MAX_RATE).contains(&w.rate)) {
        return fail(
            "workload.rate",
            format!(
                "expected operations per second per client in [{MIN_RATE:e}, {MAX_RATE}], found {}",
                compact(w.rate)
            ),
        );
    }
    if w.mix.values().all(|&weight| weight == 0) {
        return fail(
            "workload.mix",
            "needs at least one operation kind with a positive weight".into(),
        );
    }
    let txn_weight = w
        .mix
        .get(&crate::history::OpKind::Txn)
        .copied()
        .unwrap_or(0);
    super::txn_workload::validate(w.txn.as_ref(), txn_weight)?;
    if w.keys == 0 || w.keys > 1_000_000 {
        return fail(
            "workload.keys",
            format!("expected 1 to 1000000, found {}", w.keys),
        );
    }
    if w.timeout.is_zero() {
        return fail("workload.timeout", "must be greater than zero".into());
    }
    if w.max_ops == 0 {
        return fail("workload.max_ops", "must be greater than zero".into());
    }
    Ok(())
}

/// A number as a person would write it: `0.07`, but `1e-30`, not thirty
/// zeros.
fn compact(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// Every kind in the mix (with a weight) must be one the system's clients
/// serve; so must `read`, for final reads.
fn validate_op_kinds(
    w: &WorkloadSpec,
    target: &str,
    system: &dyn System,
) -> Result<(), ScenarioError> {
    let served = system.op_kinds();
    let names = || {
        served
            .iter()
            .filter(|k| **k != crate::history::OpKind::Txn)
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (kind, weight) in &w.mix {
        if *weight > 0 && !served.contains(kind) {
            return Err(ScenarioError::at_key(
                format!("workload.mix.{}", kind.as_str()),
                format!(
                    "target \"{target}\" does not serve {} operations: its clients serve {}",
                    kind.as_str(),
                    names()
                ),
            ));
        }
    }
    if w.final_read && !served.contains(&crate::history::OpKind::Read) {
        return Err(ScenarioError::at_key(
            "workload.final_read",
            format!(
                "final reads need read operations, which target \"{target}\" does not serve (it serves {})",
                names()
            ),
        ));
    }
    Ok(())
}

fn validate_invariants(inv: &InvariantsSpec, workload: &WorkloadSpec) -> Result<(), ScenarioError> {
    if let Some(a) = &inv.availability {
        for (field, value) in [
            ("min_ok_ratio", a.min_ok_ratio),
            ("min_ok_ratio_during_faults", a.min_ok_ratio_during_faults),
            ("min_ok_ratio_after_heal", a.min_ok_ratio_after_heal),
        ] {
            if let Some(v) = value {
                if !(0.0..=1.0).contains(&v) {
                    return Err(ScenarioError::at_key(
                        format!("invariants.availability.{field}"),
                        format!("expected a ratio in [0, 1], found {v}"),
                    ));
                }
            }
        }
        if a.recovery_window.is_zero() {
            return Err(ScenarioError::at_key(
                "invariants.availability.recovery_window",
                "must be greater than zero",
            ));
        }
        if let Some(x) = a.max_retry_amplification {
            if !(x.is_finite() && x >= 1.0) {
                return Err(ScenarioError::at_key(
                    "invariants.availability.max_retry_amplification",
                    format!("expected a number of attempts per request >= 1, found {x}"),
                ));
            }
        }
    }
    if let Some(j) = &inv.jobs {
        if j.max_processing_delay.is_zero() {
            return Err(ScenarioError::at_key(
                "invariants.jobs.max_processing_delay",
                "must be greater than zero",
            ));
        }
    }
    if let Some(t) = &inv.transactional {
        crate::scenario::transactional::validate(t)?;
        let generates_txns = workload
            .mix
            .get(&crate::history::OpKind::Txn)
            .is_some_and(|&weight| weight > 0);
        if generates_txns {
            let shape = workload.txn_shape();
            if shape.model != t.model {
                return Err(ScenarioError::at_key(
                    "invariants.transactional.model",
                    format!(
                        "the workload generates {} transactions (workload.txn.model) but they would be checked as {}: use the same model in both",
                        shape.model, t.model
                    ),
                ));
            }
        }
    }
    if let Some(l) = &inv.linearizable {
        if LINEARIZABLE_MODELS.iter().all(|name| *name != l.model) {
            return Err(ScenarioError::at_key(
                "invariants.linearizable.model",
                format!(
                    "unknown model \"{}\": expected one of {}",
                    l.model,
                    LINEARIZABLE_MODELS.join(", ")
                ),
            ));
        }
        if let Some((knob, message)) =
            crate::scenario::linearizable_budget_error(l.max_states, l.max_memory_bytes)
        {
            return Err(ScenarioError::at_key(
                format!("invariants.linearizable.{knob}"),
                message,
            ));
        }
    }
    Ok(())
}
