//! Meaning checks that serde cannot do: names that must exist, numbers that
//! must be in range, faults that must fit the topology and the duration.

use super::*;
use crate::scenario::parse::ScenarioError;
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

    validate_simulation(&scenario.simulation)?;
    let capacity = scenario.network.tcp_capacity;
    if capacity == 0 || capacity > MAX_TCP_CAPACITY {
        return Err(ScenarioError::at_key(
            "network.tcp_capacity",
            format!("expected 1 to {MAX_TCP_CAPACITY}, found {capacity}"),
        ));
    }
    validate_workload(&scenario.workload)?;
    validate_faults(scenario, &topology)?;
    validate_invariants(&scenario.invariants)?;
    for (i, req) in scenario.coverage.iter().enumerate() {
        let key = format!("coverage[{i}]");
        if req.fault.is_some() == req.event.is_some() {
            return Err(ScenarioError::at_key(
                key,
                "give exactly one of `fault` or `event`",
            ));
        }
        if !(0.0..=1.0).contains(&req.min_fraction) {
            return Err(ScenarioError::at_key(
                format!("{key}.min_fraction"),
                format!("expected a fraction in [0, 1], found {}", req.min_fraction),
            ));
        }
        if let Some(kind) = &req.fault {
            if !crate::coverage::FAULT_KINDS.contains(&kind.as_str()) {
                return Err(ScenarioError::at_key(
                    format!("{key}.fault"),
                    format!(
                        "unknown fault kind \"{kind}\": expected one of {}",
                        crate::coverage::FAULT_KINDS.join(", ")
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
    Ok(Prepared { system, topology })
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
    if !(w.rate.is_finite() && w.rate > 0.0 && w.rate <= 100_000.0) {
        return fail(
            "workload.rate",
            format!("expected ops/s in (0, 100000], found {}", w.rate),
        );
    }
    if w.mix.values().all(|&weight| weight == 0) {
        return fail(
            "workload.mix",
            "needs at least one operation kind with a positive weight".into(),
        );
    }
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

fn validate_faults(scenario: &Scenario, topology: &Topology) -> Result<(), ScenarioError> {
    let duration = scenario.simulation.duration;
    for (i, event) in scenario.faults.events.iter().enumerate() {
        let key = |field: &str| format!("faults.events[{i}].{field}");
        if event.at() > duration {
            return Err(ScenarioError::at_key(
                key("at"),
                format!(
                    "fault starts at {} but the workload ends at {}",
                    crate::duration::format_duration(event.at()),
                    crate::duration::format_duration(duration)
                ),
            ));
        }
        let check_set = |field: String, set: &[String]| -> Result<(), ScenarioError> {
            if set.is_empty() {
                return Err(ScenarioError::at_key(field, "an empty host set"));
            }
            for (j, name) in set.iter().enumerate() {
                if topology.resolve(name).is_none() {
                    return Err(ScenarioError::at_key(
                        format!("{field}[{j}]"),
                        format!(
                            "unknown host \"{name}\": expected one of {}",
                            topology.names_hint()
                        ),
                    ));
                }
            }
            Ok(())
        };
        let check_server = |field: String, host: &str| -> Result<(), ScenarioError> {
            if topology.is_server(host) {
                Ok(())
            } else {
                Err(ScenarioError::at_key(
                    field,
                    format!(
                        "unknown server \"{host}\": expected one of {}",
                        topology.servers.join(", ")
                    ),
                ))
            }
        };
        match event {
            FaultEventSpec::Partition { sides, .. } => {
                if sides.len() < 2 {
                    return Err(ScenarioError::at_key(
                        key("sides"),
                        "needs at least two sides",
                    ));
                }
                for (s, side) in sides.iter().enumerate() {
                    check_set(format!("faults.events[{i}].sides[{s}]"), side)?;
                }
            }
            FaultEventSpec::Isolate { host, .. } => {
                if !topology.is_host(host) {
                    return Err(ScenarioError::at_key(
                        key("host"),
                        format!(
                            "unknown host \"{host}\": expected one of {}",
                            topology.all().join(", ")
                        ),
                    ));
                }
            }
            FaultEventSpec::MajorityMinority { .. } | FaultEventSpec::Bridge { .. } => {
                if topology.servers.len() < 3 {
                    return Err(ScenarioError::at_key(
                        key("kind"),
                        format!(
                            "needs at least 3 servers, the target has {}",
                            topology.servers.len()
                        ),
                    ));
                }
            }
            FaultEventSpec::PartitionOneway { from, to, .. } => {
                check_set(key("from"), from)?;
                check_set(key("to"), to)?;
            }
            FaultEventSpec::Heal { .. } => {}
            FaultEventSpec::Latency { between, .. } | FaultEventSpec::Loss { between, .. } => {
                if let Some([a, b]) = between {
                    check_set(format!("faults.events[{i}].between[0]"), a)?;
                    check_set(format!("faults.events[{i}].between[1]"), b)?;
                }
                if let FaultEventSpec::Loss { rate, .. } = event {
                    if !(0.0..=1.0).contains(rate) {
                        return Err(ScenarioError::at_key(
                            key("rate"),
                            format!("expected a probability in [0, 1], found {rate}"),
                        ));
                    }
                }
            }
            FaultEventSpec::Crash { host, .. }
            | FaultEventSpec::Restart { host, .. }
            | FaultEventSpec::Bounce { host, .. }
            | FaultEventSpec::Pause { host, .. }
            | FaultEventSpec::Resume { host, .. } => check_server(key("host"), host)?,
            FaultEventSpec::DiskError { .. }
            | FaultEventSpec::DiskFull { .. }
            | FaultEventSpec::DiskCorrupt { .. }
            | FaultEventSpec::DiskSlow { .. }
            | FaultEventSpec::ClockJump { .. }
            | FaultEventSpec::ClockDrift { .. } => validate_host_fault(event, topology, &key)?,
        }
    }

    if let Some(random) = &scenario.faults.random {
        let key = |field: &str| format!("faults.random.{field}");
        if random.kinds.is_empty() {
            return Err(ScenarioError::at_key(
                key("kinds"),
                "needs at least one fault kind",
            ));
        }
        if random.recovery >= duration {
            return Err(ScenarioError::at_key(
                key("recovery"),
                "the recovery window must be shorter than simulation.duration",
            ));
        }
        if random.start >= duration - random.recovery {
            return Err(ScenarioError::at_key(
                key("start"),
                "faults would start after the recovery window begins: reduce start or recovery",
            ));
        }
        if random.interval.low.is_zero() {
            return Err(ScenarioError::at_key(
                key("interval"),
                "the lower bound must be greater than zero",
            ));
        }
        let [lo, hi] = random.loss_rate;
        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
            return Err(ScenarioError::at_key(
                key("loss_rate"),
                format!("expected probabilities [low, high] within [0, 1], found [{lo}, {hi}]"),
            ));
        }
        for (field, [lo, hi]) in [
            ("disk_error_probability", random.disk_error_probability),
            ("disk_corrupt_probability", random.disk_corrupt_probability),
        ] {
            if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
                return Err(ScenarioError::at_key(
                    key(field),
                    format!("expected probabilities [low, high] within [0, 1], found [{lo}, {hi}]"),
                ));
            }
        }
        if random.disk_error_ops.is_empty() {
            return Err(ScenarioError::at_key(
                key("disk_error_ops"),
                "needs at least one of \"read\", \"write\", \"sync\"",
            ));
        }
        let [lo, hi] = random.disk_capacity_bytes;
        if lo > hi {
            return Err(ScenarioError::at_key(
                key("disk_capacity_bytes"),
                format!("range [{lo}, {hi}] has low > high"),
            ));
        }
        if random.disk_latency.low.is_zero() || random.disk_latency.high > MAX_DISK_LATENCY {
            return Err(ScenarioError::at_key(
                key("disk_latency"),
                format!(
                    "expected latencies above zero and at most {}",
                    crate::duration::format_duration(MAX_DISK_LATENCY)
                ),
            ));
        }
        let [lo, hi] = random.clock_offset;
        if lo > hi || lo.magnitude() > MAX_CLOCK_OFFSET || hi.magnitude() > MAX_CLOCK_OFFSET {
            return Err(ScenarioError::at_key(
                key("clock_offset"),
                format!(
                    "expected [low, high] with low <= high, each within ±{}, found [{lo}, {hi}]",
                    crate::duration::format_duration(MAX_CLOCK_OFFSET)
                ),
            ));
        }
        let [lo, hi] = random.clock_drift;
        if !drift_rate_ok(lo) || !drift_rate_ok(hi) || lo > hi {
            return Err(ScenarioError::at_key(
                key("clock_drift"),
                format!(
                    "expected rates [low, high] within [{MIN_CLOCK_DRIFT_RATE}, {MAX_CLOCK_DRIFT_RATE}], found [{lo}, {hi}]"
                ),
            ));
        }
        for (k, kind) in random.kinds.iter().enumerate() {
            let needs = match kind {
                RandomFaultKind::MajorityMinority | RandomFaultKind::Bridge => 3,
                RandomFaultKind::Isolate | RandomFaultKind::PartitionOneway => 1,
                _ => 1,
            };
            if topology.servers.len() < needs {
                return Err(ScenarioError::at_key(
                    format!("faults.random.kinds[{k}]"),
                    format!(
                        "{} needs at least {needs} servers, the target has {}",
                        kind.as_str(),
                        topology.servers.len()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn drift_rate_ok(rate: f64) -> bool {
    rate.is_finite() && (MIN_CLOCK_DRIFT_RATE..=MAX_CLOCK_DRIFT_RATE).contains(&rate)
}

/// A disk or clock fault: its host (a server, or the group `servers`) and
/// its parameters.
fn validate_host_fault(
    event: &FaultEventSpec,
    topology: &Topology,
    key: &dyn Fn(&str) -> String,
) -> Result<(), ScenarioError> {
    let fail = |field: &str, message: String| Err(ScenarioError::at_key(key(field), message));
    let host = match event {
        FaultEventSpec::DiskError { host, .. }
        | FaultEventSpec::DiskFull { host, .. }
        | FaultEventSpec::DiskCorrupt { host, .. }
        | FaultEventSpec::DiskSlow { host, .. }
        | FaultEventSpec::ClockJump { host, .. }
        | FaultEventSpec::ClockDrift { host, .. } => host,
        _ => unreachable!("not a host fault"),
    };
    if host != "servers" && !topology.is_server(host) {
        return fail(
            "host",
            format!(
                "unknown server \"{host}\": disk and clock faults apply to a server or the group `servers`; expected one of servers, {}",
                topology.servers.join(", ")
            ),
        );
    }
    let probability_ok = |p: f64| (0.0..=1.0).contains(&p);
    let bad_probability = |p: f64| {
        fail(
            "probability",
            format!("expected a probability in [0, 1], found {p}"),
        )
    };
    match event {
        FaultEventSpec::DiskError { ops, .. } if ops.is_empty() => fail(
            "ops",
            "needs at least one of \"read\", \"write\", \"sync\" (omit it for all three)".into(),
        ),
        FaultEventSpec::DiskError { probability, .. }
        | FaultEventSpec::DiskCorrupt { probability, .. }
            if !probability_ok(*probability) =>
        {
            bad_probability(*probability)
        }
        FaultEventSpec::DiskSlow { latency, .. }
            if latency.is_zero() || *latency > MAX_DISK_LATENCY =>
        {
            fail(
                "latency",
                format!(
                    "expected a latency above zero and at most {}, found {}",
                    crate::duration::format_duration(MAX_DISK_LATENCY),
                    crate::duration::format_duration(*latency)
                ),
            )
        }
        FaultEventSpec::ClockJump { offset, .. }
            if offset.is_zero() || offset.magnitude() > MAX_CLOCK_OFFSET =>
        {
            fail(
                "offset",
                format!(
                    "expected a non-zero offset within ±{}, found {offset}",
                    crate::duration::format_duration(MAX_CLOCK_OFFSET)
                ),
            )
        }
        FaultEventSpec::ClockDrift { rate, .. } if !drift_rate_ok(*rate) || *rate == 0.0 => fail(
            "rate",
            format!(
                "expected a non-zero rate in [{MIN_CLOCK_DRIFT_RATE}, {MAX_CLOCK_DRIFT_RATE}] (0.5 = 50% fast, -1 = stopped), found {rate}"
            ),
        ),
        _ => Ok(()),
    }
}

fn validate_invariants(inv: &InvariantsSpec) -> Result<(), ScenarioError> {
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
    if let Some(l) = &inv.linearizable {
        if crate::check::linearizability_model_names()
            .iter()
            .all(|name| *name != l.model)
        {
            return Err(ScenarioError::at_key(
                "invariants.linearizable.model",
                format!(
                    "unknown model \"{}\": expected one of {}",
                    l.model,
                    crate::check::linearizability_model_names().join(", ")
                ),
            ));
        }
        if let Err((knob, message)) =
            crate::check::linearizability::Budget::with_limits(l.max_states, l.max_memory_bytes)
        {
            return Err(ScenarioError::at_key(
                format!("invariants.linearizable.{knob}"),
                message,
            ));
        }
    }
    Ok(())
}
