//! Shrinking: from a failing seed to the smallest scenario that still
//! fails the same way.
//!
//! First the seed's plan is written out as explicit, hand-written fault
//! events (random choices already made), which reproduces the failure with
//! the same seed. Then, keeping whatever still fails with the same
//! invariant, the shrinker removes fault events (delta debugging: halves,
//! then quarters, … of the list, then single events), shortens each
//! remaining fault, and trims clients, keys and the workload's duration.
//! Every candidate is a full deterministic run, so the result is itself a
//! scenario file that `chaos replay FILE --seed S` reproduces. Bounded by
//! a number of runs; what it has when the budget ends is still a valid,
//! failing scenario.

use crate::check::Status;
use crate::plan::{FaultAction, Plan};
use crate::scenario::{validate, FaultEventSpec, Scenario};
use crate::suite::{execute, ExecOptions, LoadedScenario};
use crate::target::Registry;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Default cap on candidate runs per shrink.
pub const DEFAULT_MAX_RUNS: usize = 300;

/// How big a failing run is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Size {
    pub fault_events: usize,
    /// Sum of the faults' durations (instant faults count zero).
    #[serde(with = "crate::duration::serde_text")]
    pub fault_time: Duration,
    pub clients: u32,
    pub keys: u32,
    #[serde(with = "crate::duration::serde_text")]
    pub duration: Duration,
    pub operations: u64,
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} fault events ({} of faults), {} clients, {} keys, {} workload, {} operations",
            self.fault_events,
            crate::duration::human(self.fault_time),
            self.clients,
            self.keys,
            crate::duration::human(self.duration),
            self.operations
        )
    }
}

/// The outcome of a shrink.
#[derive(Clone, Debug)]
pub struct Shrunk {
    pub scenario: Scenario,
    pub seed: u64,
    /// The invariant that fails before and after.
    pub invariant: String,
    pub before: Size,
    pub after: Size,
    pub runs: usize,
}

/// Rounds up to a whole tick: the nemesis applies events at the first step
/// at or after their time, so this changes nothing about the run, and the
/// file reads `5538ms` rather than `5537336723ns`.
fn to_tick(t: Duration, tick: Duration) -> Duration {
    let tick = tick.as_nanos().max(1);
    Duration::from_nanos((t.as_nanos().div_ceil(tick) * tick) as u64)
}

/// Writes the seed's plan as explicit fault events.
pub fn explicit_events(plan: &Plan) -> Result<Vec<FaultEventSpec>, String> {
    // Start events waiting for their end, by fault id or host.
    let mut events: Vec<FaultEventSpec> = Vec::new();
    let mut open_by_id: BTreeMap<u32, usize> = BTreeMap::new();
    let mut open_by_host: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
    let close = |spec: &mut FaultEventSpec, at: Duration| {
        if spec.duration().is_none() {
            *spec = with_duration(spec, at.saturating_sub(spec.at()));
        }
    };
    for event in &plan.events {
        let at = to_tick(event.at, plan.tick);
        match &event.action {
            FaultAction::Partition { id, sides } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::Partition {
                    at,
                    duration: None,
                    sides: sides.clone(),
                });
            }
            FaultAction::PartitionOneway { id, from, to } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::PartitionOneway {
                    at,
                    duration: None,
                    from: from.clone(),
                    to: to.clone(),
                });
            }
            FaultAction::Latency {
                id,
                between,
                latency,
                jitter,
            } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::Latency {
                    at,
                    duration: None,
                    between: between.clone(),
                    latency: *latency,
                    jitter: *jitter,
                });
            }
            FaultAction::Loss { id, between, rate } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::Loss {
                    at,
                    duration: None,
                    between: between.clone(),
                    rate: *rate,
                });
            }
            FaultAction::Crash { host, .. } => {
                open_by_host.insert(("crash", host.clone()), events.len());
                events.push(FaultEventSpec::Crash {
                    at,
                    duration: None,
                    host: host.clone(),
                });
            }
            FaultAction::Pause { host, .. } => {
                open_by_host.insert(("pause", host.clone()), events.len());
                events.push(FaultEventSpec::Pause {
                    at,
                    duration: None,
                    host: host.clone(),
                });
            }
            FaultAction::Bounce { host, .. } => events.push(FaultEventSpec::Bounce {
                at,
                host: host.clone(),
            }),
            FaultAction::DiskError {
                id,
                hosts,
                ops,
                probability,
            } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::DiskError {
                    at,
                    duration: None,
                    host: host_name(plan, hosts)?,
                    ops: ops.clone(),
                    probability: *probability,
                });
            }
            FaultAction::DiskFull {
                id,
                hosts,
                capacity_bytes,
            } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::DiskFull {
                    at,
                    duration: None,
                    host: host_name(plan, hosts)?,
                    capacity_bytes: *capacity_bytes,
                });
            }
            FaultAction::DiskCorrupt {
                id,
                hosts,
                probability,
            } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::DiskCorrupt {
                    at,
                    duration: None,
                    host: host_name(plan, hosts)?,
                    probability: *probability,
                });
            }
            FaultAction::DiskSlow { id, hosts, latency } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::DiskSlow {
                    at,
                    duration: None,
                    host: host_name(plan, hosts)?,
                    latency: *latency,
                });
            }
            FaultAction::ClockJump { id, hosts, offset } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::ClockJump {
                    at,
                    duration: None,
                    host: host_name(plan, hosts)?,
                    offset: *offset,
                });
            }
            FaultAction::ClockDrift { id, hosts, rate } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::ClockDrift {
                    at,
                    duration: None,
                    host: host_name(plan, hosts)?,
                    rate: *rate,
                });
            }
            FaultAction::EndPartition { id }
            | FaultAction::EndLatency { id }
            | FaultAction::EndLoss { id }
            | FaultAction::EndDiskFault { id }
            | FaultAction::EndClockFault { id } => {
                if let Some(i) = open_by_id.remove(id) {
                    close(&mut events[i], at);
                }
            }
            FaultAction::Restart { host } => match open_by_host.remove(&("crash", host.clone())) {
                Some(i) => close(&mut events[i], at),
                None => events.push(FaultEventSpec::Restart {
                    at,
                    host: host.clone(),
                }),
            },
            FaultAction::Resume { host } => match open_by_host.remove(&("pause", host.clone())) {
                Some(i) => close(&mut events[i], at),
                None => events.push(FaultEventSpec::Resume {
                    at,
                    host: host.clone(),
                }),
            },
            FaultAction::HealPartitions => {
                let ids: Vec<u32> = open_by_id.keys().copied().collect();
                for id in ids {
                    let i = open_by_id[&id];
                    if matches!(
                        events[i],
                        FaultEventSpec::Partition { .. } | FaultEventSpec::PartitionOneway { .. }
                    ) {
                        close(&mut events[i], at);
                        open_by_id.remove(&id);
                    }
                }
            }
            FaultAction::HealAll => {
                for (_, i) in std::mem::take(&mut open_by_id) {
                    close(&mut events[i], at);
                }
                for (_, i) in std::mem::take(&mut open_by_host) {
                    close(&mut events[i], at);
                }
            }
        }
    }
    Ok(events)
}

/// How a scenario file names the hosts of a disk or clock fault: one
/// server, or the group `servers`.
fn host_name(plan: &Plan, hosts: &[String]) -> Result<String, String> {
    match hosts {
        [host] => Ok(host.clone()),
        _ if hosts == plan.servers.as_slice() => Ok("servers".to_string()),
        _ => Err(format!(
            "a host fault on [{}] cannot be written as one event",
            hosts.join(",")
        )),
    }
}

fn fault_time(events: &[FaultEventSpec]) -> Duration {
    events.iter().filter_map(FaultEventSpec::duration).sum()
}

fn with_duration(spec: &FaultEventSpec, d: Duration) -> FaultEventSpec {
    let mut spec = spec.clone();
    match &mut spec {
        FaultEventSpec::Partition { duration, .. }
        | FaultEventSpec::Isolate { duration, .. }
        | FaultEventSpec::MajorityMinority { duration, .. }
        | FaultEventSpec::Bridge { duration, .. }
        | FaultEventSpec::PartitionOneway { duration, .. }
        | FaultEventSpec::Latency { duration, .. }
        | FaultEventSpec::Loss { duration, .. }
        | FaultEventSpec::Crash { duration, .. }
        | FaultEventSpec::Pause { duration, .. }
        | FaultEventSpec::DiskError { duration, .. }
        | FaultEventSpec::DiskFull { duration, .. }
        | FaultEventSpec::DiskCorrupt { duration, .. }
        | FaultEventSpec::DiskSlow { duration, .. }
        | FaultEventSpec::ClockJump { duration, .. }
        | FaultEventSpec::ClockDrift { duration, .. } => *duration = Some(d),
        _ => {}
    }
    spec
}

/// Runs candidates and remembers how many it ran.
struct Oracle<'a> {
    registry: &'a Registry,
    seed: u64,
    invariant: String,
    runs: usize,
    max_runs: usize,
}

impl Oracle<'_> {
    fn exhausted(&self) -> bool {
        self.runs >= self.max_runs
    }

    /// Whether `scenario` still fails `invariant`, and its operation count.
    fn fails(&mut self, scenario: &Scenario) -> Option<u64> {
        if self.exhausted() {
            return None;
        }
        let prepared = validate(scenario, self.registry).ok()?;
        self.runs += 1;
        let loaded = LoadedScenario {
            scenario: scenario.clone(),
            path: None,
            overrides: Vec::new(),
            prepared,
        };
        let run = execute(&loaded, self.seed, &ExecOptions::default());
        run.report
            .verdicts
            .iter()
            .any(|v| v.status == Status::Fail && v.invariant == self.invariant)
            .then_some(run.report.history.operations)
    }
}

fn size(scenario: &Scenario, operations: u64) -> Size {
    Size {
        fault_events: scenario.faults.events.len(),
        fault_time: fault_time(&scenario.faults.events),
        clients: scenario.workload.clients,
        keys: scenario.workload.keys,
        duration: scenario.simulation.duration,
        operations,
    }
}

/// Shrinks a failing seed of `loaded`.
pub fn shrink(
    loaded: &LoadedScenario,
    seed: u64,
    registry: &Registry,
    max_runs: usize,
) -> Result<Shrunk, String> {
    let original = execute(loaded, seed, &ExecOptions::default());
    let failed: Vec<&str> = original
        .report
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .map(|v| v.invariant.as_str())
        .collect();
    // Prefer a real invariant over the bare "the run did not complete".
    let invariant = failed
        .iter()
        .find(|i| **i != "run")
        .or(failed.first())
        .ok_or_else(|| {
            format!(
                "seed {seed} of {} passes: nothing to shrink",
                loaded.scenario.name
            )
        })?
        .to_string();

    let mut current = loaded.scenario.clone();
    current.faults.random = None;
    current.faults.events = explicit_events(&original.plan)?;
    current.name = format!("{}-seed-{seed}-shrunk", loaded.scenario.name);
    current.description = format!(
        "{} seed {seed}, shrunk: still fails {invariant}",
        loaded.scenario.name
    );
    current.seeds = 1;
    let before = size(&current, original.report.history.operations);

    let mut oracle = Oracle {
        registry,
        seed,
        invariant: invariant.clone(),
        runs: 0,
        max_runs,
    };
    let mut operations = oracle.fails(&current).ok_or_else(|| {
        format!("the explicit plan of seed {seed} does not reproduce the {invariant} failure")
    })?;

    // 1. Fewer fault events: delta debugging over the list.
    let mut chunk = current.faults.events.len().div_ceil(2).max(1);
    while chunk >= 1 && !current.faults.events.is_empty() && !oracle.exhausted() {
        let mut removed_any = false;
        let mut start = 0;
        while start < current.faults.events.len() {
            let mut candidate = current.clone();
            let end = (start + chunk).min(candidate.faults.events.len());
            candidate.faults.events.drain(start..end);
            if let Some(ops) = oracle.fails(&candidate) {
                current = candidate;
                operations = ops;
                removed_any = true;
            } else {
                start += chunk;
            }
        }
        if chunk == 1 && !removed_any {
            break;
        }
        chunk = if removed_any { chunk } else { chunk / 2 };
        if chunk == 0 {
            break;
        }
    }

    // 2. Shorter faults.
    for i in 0..current.faults.events.len() {
        while let Some(d) = current.faults.events[i].duration() {
            let shorter = to_tick(d / 2, current.simulation.tick);
            if shorter >= d || shorter < current.simulation.tick || oracle.exhausted() {
                break;
            }
            let mut candidate = current.clone();
            candidate.faults.events[i] = with_duration(&candidate.faults.events[i], shorter);
            match oracle.fails(&candidate) {
                Some(ops) => {
                    current = candidate;
                    operations = ops;
                }
                None => break,
            }
        }
    }

    // 3. Fewer clients, keys, and a shorter workload.
    let mut try_change = |current: &mut Scenario,
                          operations: &mut u64,
                          change: &dyn Fn(&mut Scenario) -> bool| {
        loop {
            let mut candidate = current.clone();
            if !change(&mut candidate) || oracle.exhausted() {
                return;
            }
            match oracle.fails(&candidate) {
                Some(ops) => {
                    *current = candidate;
                    *operations = ops;
                }
                None => return,
            }
        }
    };
    try_change(&mut current, &mut operations, &|s| {
        if s.workload.clients <= 1 {
            return false;
        }
        s.workload.clients /= 2;
        s.workload.client_hosts = s.workload.client_hosts.min(s.workload.clients);
        true
    });
    try_change(&mut current, &mut operations, &|s| {
        if s.workload.keys <= 1 {
            return false;
        }
        s.workload.keys /= 2;
        true
    });
    try_change(&mut current, &mut operations, &|s| {
        let last_fault = s
            .faults
            .events
            .iter()
            .map(|e| e.at() + e.duration().unwrap_or_default())
            .max()
            .unwrap_or_default();
        let cut = s.simulation.duration.saturating_sub(last_fault) / 2;
        if cut < Duration::from_millis(100) {
            return false;
        }
        s.simulation.duration = to_tick(s.simulation.duration - cut, Duration::from_millis(100));
        true
    });

    let after = size(&current, operations);
    Ok(Shrunk {
        scenario: current,
        seed,
        invariant,
        before,
        after,
        runs: oracle.runs,
    })
}

/// The shrunk scenario as a file: a header saying where it came from and
/// how to replay it, then the scenario in TOML.
pub fn to_file(shrunk: &Shrunk, source: &str, out: &str) -> Result<String, String> {
    let body = toml::to_string(&shrunk.scenario).map_err(|e| format!("cannot write TOML: {e}"))?;
    Ok(format!(
        "# Shrunk by `chaos shrink` from {source} seed {seed}: it still fails `{invariant}`.\n\
         # Before: {before}\n\
         # After:  {after}\n\
         # Replay: chaos replay {out} --seed {seed}\n\n{body}",
        seed = shrunk.seed,
        invariant = shrunk.invariant,
        before = shrunk.before,
        after = shrunk.after,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::SignedDuration;
    use crate::plan::expand;
    use crate::scenario::{RandomFaultKind, RandomFaultsSpec, ScenarioBuilder, Topology};

    #[test]
    fn disk_and_clock_faults_round_trip_through_explicit_events() {
        let topology = Topology {
            servers: vec!["n1".into(), "n2".into()],
            clients: vec!["client-0".into()],
        };
        let mut random = RandomFaultsSpec::with_kinds(vec![
            RandomFaultKind::DiskError,
            RandomFaultKind::DiskCorrupt,
            RandomFaultKind::ClockDrift,
        ]);
        random.swarm = false;
        let scenario = ScenarioBuilder::new("s", "test")
            .duration(Duration::from_secs(20))
            .fault(FaultEventSpec::ClockJump {
                at: Duration::from_secs(2),
                duration: Some(Duration::from_secs(1)),
                host: "servers".into(),
                offset: SignedDuration::from_secs(-3),
            })
            .random_faults(random)
            .build();
        let plan = expand(&scenario, &topology, 4);
        let mut explicit = scenario.clone();
        explicit.faults.random = None;
        explicit.faults.events = explicit_events(&plan).unwrap();
        let again = expand(&explicit, &topology, 4);
        let windows = |p: &Plan| {
            p.fault_windows
                .iter()
                .map(|w| {
                    let end = w.end.map(|e| to_tick(e, p.tick));
                    (w.label.clone(), to_tick(w.start, p.tick), end)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(windows(&again), windows(&plan));
        assert!(explicit
            .faults
            .events
            .iter()
            .any(|e| matches!(e, FaultEventSpec::ClockJump { host, .. } if host == "servers")));
    }
}
