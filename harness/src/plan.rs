//! Plans: a scenario expanded with a seed into concrete, timed fault events.
//!
//! A plan is plain data. Every random choice a scenario leaves open — which
//! fault kinds a swarm seed enables, which server a random fault hits, how
//! long it lasts — is made here from the seed's `plan` stream, once. The
//! simulation then applies the events at their times and makes no choices
//! of its own, so a plan can be printed, stored in a report, edited and
//! replayed exactly.

use crate::duration::{serde_text, DurationRange, SignedDuration};
use crate::scenario::{
    FaultEventSpec, RandomFaultKind, RandomFaultsSpec, Scenario, Topology, WorkloadSpec,
};
use crate::seed::Seed;

/// Re-exported from [`crate::fault`], the vocabulary every floor shares.
pub use crate::fault::{FaultAction, FaultId};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
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
    if let Some(random) = &scenario.faults.random {
        enabled = enabled_kinds(random, &mut rng);
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
    let fault_windows = fault_windows(&events);
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
        jitter: scenario.network.jitter,
        tcp_capacity: scenario.network.tcp_capacity,
        workload: scenario.workload.clone(),
        enabled_fault_kinds: enabled,
        events,
        fault_windows,
        last_heal,
    }
}

fn enabled_kinds(random: &RandomFaultsSpec, rng: &mut ChaCha8Rng) -> Vec<RandomFaultKind> {
    let mut kinds = random.kinds.clone();
    kinds.sort();
    kinds.dedup();
    if !random.swarm {
        return kinds;
    }
    let chosen: Vec<_> = kinds
        .iter()
        .copied()
        .filter(|_| rng.random_bool(0.5))
        .collect();
    if chosen.is_empty() {
        vec![kinds[rng.random_range(0..kinds.len())]]
    } else {
        chosen
    }
}

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

    fn add_manual(&mut self, spec: &FaultEventSpec, topology: &Topology, rng: &mut ChaCha8Rng) {
        let resolve = |set: &[String]| topology.resolve_set(set).expect("validated host set");
        let at = spec.at();
        let id = self.id();
        let (start, end) = match spec {
            FaultEventSpec::Partition { sides, .. } => (
                FaultAction::Partition {
                    id,
                    sides: sides.iter().map(|s| resolve(s)).collect(),
                },
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::Isolate { host, .. } => (
                isolate(id, host, topology),
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::MajorityMinority { .. } => (
                majority_minority(id, topology, rng),
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::Bridge { .. } => (
                bridge(id, topology, rng),
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::PartitionOneway { from, to, .. } => (
                FaultAction::PartitionOneway {
                    id,
                    from: resolve(from),
                    to: resolve(to),
                },
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::Heal { .. } => (FaultAction::HealPartitions, None),
            FaultEventSpec::Latency {
                between,
                latency,
                jitter,
                ..
            } => (
                FaultAction::Latency {
                    id,
                    between: between.as_ref().map(|[a, b]| [resolve(a), resolve(b)]),
                    latency: *latency,
                    jitter: *jitter,
                },
                Some(FaultAction::EndLatency { id }),
            ),
            FaultEventSpec::Loss { between, rate, .. } => (
                FaultAction::Loss {
                    id,
                    between: between.as_ref().map(|[a, b]| [resolve(a), resolve(b)]),
                    rate: *rate,
                },
                Some(FaultAction::EndLoss { id }),
            ),
            FaultEventSpec::Crash { host, .. } => (
                FaultAction::Crash {
                    id,
                    host: host.clone(),
                },
                Some(FaultAction::Restart { host: host.clone() }),
            ),
            FaultEventSpec::Restart { host, .. } => {
                (FaultAction::Restart { host: host.clone() }, None)
            }
            FaultEventSpec::Bounce { host, .. } => (
                FaultAction::Bounce {
                    id,
                    host: host.clone(),
                },
                None,
            ),
            FaultEventSpec::Pause { host, .. } => (
                FaultAction::Pause {
                    id,
                    host: host.clone(),
                },
                Some(FaultAction::Resume { host: host.clone() }),
            ),
            FaultEventSpec::Resume { host, .. } => {
                (FaultAction::Resume { host: host.clone() }, None)
            }
            FaultEventSpec::DiskError {
                host,
                ops,
                probability,
                ..
            } => {
                let mut ops = ops.clone();
                ops.sort();
                ops.dedup();
                (
                    FaultAction::DiskError {
                        id,
                        hosts: resolve(std::slice::from_ref(host)),
                        ops,
                        probability: *probability,
                    },
                    Some(FaultAction::EndDiskFault { id }),
                )
            }
            FaultEventSpec::DiskFull {
                host,
                capacity_bytes,
                ..
            } => (
                FaultAction::DiskFull {
                    id,
                    hosts: resolve(std::slice::from_ref(host)),
                    capacity_bytes: *capacity_bytes,
                },
                Some(FaultAction::EndDiskFault { id }),
            ),
            FaultEventSpec::DiskCorrupt {
                host, probability, ..
            } => (
                FaultAction::DiskCorrupt {
                    id,
                    hosts: resolve(std::slice::from_ref(host)),
                    probability: *probability,
                },
                Some(FaultAction::EndDiskFault { id }),
            ),
            FaultEventSpec::DiskSlow { host, latency, .. } => (
                FaultAction::DiskSlow {
                    id,
                    hosts: resolve(std::slice::from_ref(host)),
                    latency: *latency,
                },
                Some(FaultAction::EndDiskFault { id }),
            ),
            FaultEventSpec::ClockJump { host, offset, .. } => (
                FaultAction::ClockJump {
                    id,
                    hosts: resolve(std::slice::from_ref(host)),
                    offset: *offset,
                },
                Some(FaultAction::EndClockFault { id }),
            ),
            FaultEventSpec::ClockDrift { host, rate, .. } => (
                FaultAction::ClockDrift {
                    id,
                    hosts: resolve(std::slice::from_ref(host)),
                    rate: *rate,
                },
                Some(FaultAction::EndClockFault { id }),
            ),
        };
        self.push(at, start);
        if let (Some(duration), Some(end)) = (spec.duration(), end) {
            self.push(at + duration, end);
        }
    }

    fn add_random(
        &mut self,
        random: &RandomFaultsSpec,
        enabled: &[RandomFaultKind],
        topology: &Topology,
        run_duration: Duration,
        rng: &mut ChaCha8Rng,
    ) {
        let storm_end = run_duration - random.recovery;
        // When each server is next free of a crash or pause, so the plan
        // never crashes a crashed host or pauses a paused one.
        let mut busy_until: Vec<Duration> = vec![Duration::ZERO; topology.servers.len()];
        let mut t = random.start;
        while t < storm_end {
            let kind = enabled[rng.random_range(0..enabled.len())];
            let length = uniform(rng, random.duration.low, random.duration.high).min(storm_end - t);
            let end = t + length;
            let server_index = rng.random_range(0..topology.servers.len());
            let server = topology.servers[server_index].clone();
            let id = self.id();
            match kind {
                RandomFaultKind::Isolate => {
                    self.push(t, isolate(id, &server, topology));
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::MajorityMinority => {
                    self.push(t, majority_minority(id, topology, rng));
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::Bridge => {
                    self.push(t, bridge(id, topology, rng));
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::PartitionOneway => {
                    let others: Vec<String> = topology
                        .all()
                        .into_iter()
                        .filter(|h| *h != server)
                        .collect();
                    let (from, to) = if rng.random_bool(0.5) {
                        (vec![server], others)
                    } else {
                        (others, vec![server])
                    };
                    self.push(t, FaultAction::PartitionOneway { id, from, to });
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::Latency => {
                    let latency = uniform(rng, random.latency.low, random.latency.high);
                    let others: Vec<String> = topology
                        .all()
                        .into_iter()
                        .filter(|h| *h != server)
                        .collect();
                    self.push(
                        t,
                        FaultAction::Latency {
                            id,
                            between: Some([vec![server], others]),
                            latency,
                            jitter: latency / 4,
                        },
                    );
                    self.push(end, FaultAction::EndLatency { id });
                }
                RandomFaultKind::Loss => {
                    let [lo, hi] = random.loss_rate;
                    let rate = if hi > lo {
                        rng.random_range(lo..=hi)
                    } else {
                        lo
                    };
                    let others: Vec<String> = topology
                        .all()
                        .into_iter()
                        .filter(|h| *h != server)
                        .collect();
                    self.push(
                        t,
                        FaultAction::Loss {
                            id,
                            between: Some([vec![server], others]),
                            rate,
                        },
                    );
                    self.push(end, FaultAction::EndLoss { id });
                }
                RandomFaultKind::Crash | RandomFaultKind::Pause => {
                    if busy_until[server_index] <= t {
                        busy_until[server_index] = end;
                        if kind == RandomFaultKind::Crash {
                            self.push(
                                t,
                                FaultAction::Crash {
                                    id,
                                    host: server.clone(),
                                },
                            );
                            self.push(end, FaultAction::Restart { host: server });
                        } else {
                            self.push(
                                t,
                                FaultAction::Pause {
                                    id,
                                    host: server.clone(),
                                },
                            );
                            self.push(end, FaultAction::Resume { host: server });
                        }
                    }
                }
                RandomFaultKind::Bounce => {
                    if busy_until[server_index] <= t {
                        self.push(t, FaultAction::Bounce { id, host: server });
                    }
                }
                // The kinds below draw their parameters only when chosen, so
                // adding them shifted no seed of a scenario without them.
                RandomFaultKind::DiskError => {
                    let mut ops = random.disk_error_ops.clone();
                    ops.sort();
                    ops.dedup();
                    let probability = uniform_f64(rng, random.disk_error_probability);
                    self.push(
                        t,
                        FaultAction::DiskError {
                            id,
                            hosts: vec![server],
                            ops,
                            probability,
                        },
                    );
                    self.push(end, FaultAction::EndDiskFault { id });
                }
                RandomFaultKind::DiskFull => {
                    let [lo, hi] = random.disk_capacity_bytes;
                    let capacity_bytes = if hi > lo {
                        rng.random_range(lo..=hi)
                    } else {
                        lo
                    };
                    self.push(
                        t,
                        FaultAction::DiskFull {
                            id,
                            hosts: vec![server],
                            capacity_bytes,
                        },
                    );
                    self.push(end, FaultAction::EndDiskFault { id });
                }
                RandomFaultKind::DiskCorrupt => {
                    let probability = uniform_f64(rng, random.disk_corrupt_probability);
                    self.push(
                        t,
                        FaultAction::DiskCorrupt {
                            id,
                            hosts: vec![server],
                            probability,
                        },
                    );
                    self.push(end, FaultAction::EndDiskFault { id });
                }
                RandomFaultKind::DiskSlow => {
                    let DurationRange { low, high } = random.disk_latency;
                    let latency = to_ms(uniform(rng, low, high)).clamp(low, high);
                    self.push(
                        t,
                        FaultAction::DiskSlow {
                            id,
                            hosts: vec![server],
                            latency,
                        },
                    );
                    self.push(end, FaultAction::EndDiskFault { id });
                }
                RandomFaultKind::ClockJump => {
                    let [lo, hi] = random.clock_offset;
                    let offset = if hi > lo {
                        let nanos = rng.random_range(lo.as_nanos()..=hi.as_nanos());
                        // Whole milliseconds read better in a plan.
                        SignedDuration::from_millis(nanos / 1_000_000).clamp(lo, hi)
                    } else {
                        lo
                    };
                    self.push(
                        t,
                        FaultAction::ClockJump {
                            id,
                            hosts: vec![server],
                            offset,
                        },
                    );
                    self.push(end, FaultAction::EndClockFault { id });
                }
                RandomFaultKind::ClockDrift => {
                    let rate = uniform_f64(rng, random.clock_drift);
                    self.push(
                        t,
                        FaultAction::ClockDrift {
                            id,
                            hosts: vec![server],
                            rate,
                        },
                    );
                    self.push(end, FaultAction::EndClockFault { id });
                }
            }
            t += uniform(rng, random.interval.low, random.interval.high);
        }
        self.push(storm_end, FaultAction::HealAll);
    }
}

/// Rounded to the nearest millisecond, so plans read `85ms`, not
/// `85511348ns`.
fn to_ms(d: Duration) -> Duration {
    Duration::from_millis(((d.as_nanos() + 500_000) / 1_000_000) as u64)
}

/// A uniform draw from `[low, high]` (`low` when the range is empty).
fn uniform_f64(rng: &mut ChaCha8Rng, [low, high]: [f64; 2]) -> f64 {
    if high > low {
        rng.random_range(low..=high)
    } else {
        low
    }
}

fn uniform(rng: &mut ChaCha8Rng, low: Duration, high: Duration) -> Duration {
    if high <= low {
        return low;
    }
    Duration::from_nanos(rng.random_range(low.as_nanos() as u64..=high.as_nanos() as u64))
}

fn isolate(id: FaultId, host: &str, topology: &Topology) -> FaultAction {
    let others = topology.all().into_iter().filter(|h| h != host).collect();
    FaultAction::Partition {
        id,
        sides: vec![vec![host.to_string()], others],
    }
}

/// Servers split into a strict majority (with the clients) and the rest.
fn majority_minority(id: FaultId, topology: &Topology, rng: &mut ChaCha8Rng) -> FaultAction {
    let mut servers = topology.servers.clone();
    servers.shuffle(rng);
    let minority_size = (servers.len() - 1) / 2;
    let minority = servers[..minority_size].to_vec();
    let mut majority = servers[minority_size..].to_vec();
    majority.extend(topology.clients.iter().cloned());
    FaultAction::Partition {
        id,
        sides: vec![minority, majority],
    }
}

/// Two halves that cannot reach each other; one server in the middle (and
/// the clients) reach both.
fn bridge(id: FaultId, topology: &Topology, rng: &mut ChaCha8Rng) -> FaultAction {
    let mut servers = topology.servers.clone();
    servers.shuffle(rng);
    let _bridge = servers.remove(0);
    let half = servers.len() / 2;
    let right = servers.split_off(half);
    FaultAction::Partition {
        id,
        sides: vec![servers, right],
    }
}

/// Derives when each fault was active from the ordered events.
fn fault_windows(events: &[PlanEvent]) -> Vec<FaultWindow> {
    let mut windows: Vec<FaultWindow> = Vec::new();
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
            FaultAction::Partition { id, .. }
            | FaultAction::PartitionOneway { id, .. }
            | FaultAction::Latency { id, .. }
            | FaultAction::Loss { id, .. }
            | FaultAction::Crash { id, .. }
            | FaultAction::Pause { id, .. }
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
            FaultAction::HealPartitions => {
                close(&mut windows, at, &|w| w.label.starts_with("partition"))
            }
            FaultAction::Restart { host } => {
                let label = format!("crash {host}");
                close(&mut windows, at, &|w| w.label == label)
            }
            FaultAction::Resume { host } => {
                let label = format!("pause {host}");
                close(&mut windows, at, &|w| w.label == label)
            }
            FaultAction::HealAll => close(&mut windows, at, &|_| true),
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::format_duration;
    use crate::fault::{fault_kind, DiskOp};
    use crate::scenario::ScenarioBuilder;

    fn topology(n: usize) -> Topology {
        Topology {
            servers: (1..=n).map(|i| format!("n{i}")).collect(),
            clients: vec!["client-0".into()],
        }
    }

    fn random_scenario() -> Scenario {
        ScenarioBuilder::new("swarm", "test")
            .duration(Duration::from_secs(30))
            .random_faults(RandomFaultsSpec::with_kinds(RandomFaultKind::ALL.to_vec()))
            .build()
    }

    #[test]
    fn the_same_seed_gives_the_same_plan() {
        let s = random_scenario();
        assert_eq!(expand(&s, &topology(5), 9), expand(&s, &topology(5), 9));
        assert_ne!(
            expand(&s, &topology(5), 9).events,
            expand(&s, &topology(5), 10).events
        );
    }

    #[test]
    fn a_random_plan_heals_everything_before_the_recovery_window() {
        for seed in 0..50 {
            let plan = expand(&random_scenario(), &topology(5), seed);
            let storm_end = Duration::from_secs(25);
            assert!(plan.last_heal.unwrap() <= storm_end, "seed {seed}");
            assert!(plan.events.iter().all(|e| e.at <= storm_end));
            assert!(matches!(
                plan.events.last().unwrap().action,
                FaultAction::HealAll
            ));
            assert!(plan
                .fault_windows
                .iter()
                .all(|w| w.end.unwrap() <= storm_end));
        }
    }

    #[test]
    fn swarm_seeds_enable_different_kind_sets() {
        let s = random_scenario();
        let sets: std::collections::BTreeSet<Vec<RandomFaultKind>> = (0..20)
            .map(|seed| expand(&s, &topology(5), seed).enabled_fault_kinds)
            .collect();
        assert!(
            sets.len() > 5,
            "swarm should vary the enabled kinds: {sets:?}"
        );
        assert!(sets.iter().all(|k| !k.is_empty()));
    }

    #[test]
    fn majority_minority_keeps_a_strict_majority_with_the_clients() {
        let mut rng = Seed(1).stream("plan");
        let FaultAction::Partition { sides, .. } = majority_minority(1, &topology(5), &mut rng)
        else {
            panic!()
        };
        assert_eq!(sides[0].len(), 2);
        assert_eq!(sides[1].len(), 4);
        assert!(sides[1].contains(&"client-0".to_string()));
    }

    #[test]
    fn disk_and_clock_faults_expand_to_start_end_and_a_window() {
        let s = ScenarioBuilder::new("m", "test")
            .fault(FaultEventSpec::DiskError {
                at: Duration::from_secs(2),
                duration: Some(Duration::from_secs(3)),
                host: "n1".into(),
                ops: vec![DiskOp::Sync, DiskOp::Read, DiskOp::Sync],
                probability: 1.0,
            })
            .fault(FaultEventSpec::ClockJump {
                at: Duration::from_secs(1),
                duration: None,
                host: "servers".into(),
                offset: SignedDuration::from_secs(-5),
            })
            .build();
        let plan = expand(&s, &topology(3), 0);
        let actions: Vec<_> = plan.events.iter().map(|e| e.action.describe()).collect();
        assert_eq!(
            actions,
            [
                "clock-jump n1,n2,n3 (-5s)",
                "disk-error n1 (read,sync p=1.00)",
                "end disk fault #1"
            ]
        );
        assert_eq!(plan.fault_windows.len(), 2);
        assert_eq!(plan.fault_windows[1].end, Some(Duration::from_secs(5)));
        assert_eq!(plan.fault_windows[0].end, None, "no duration: never healed");
        assert_eq!(plan.last_heal, None);
    }

    #[test]
    fn random_disk_and_clock_faults_draw_their_parameters_in_range() {
        let mut random = RandomFaultsSpec::with_kinds(vec![
            RandomFaultKind::DiskError,
            RandomFaultKind::DiskFull,
            RandomFaultKind::DiskCorrupt,
            RandomFaultKind::DiskSlow,
            RandomFaultKind::ClockJump,
            RandomFaultKind::ClockDrift,
        ]);
        random.swarm = false;
        let s = ScenarioBuilder::new("swarm", "test")
            .duration(Duration::from_secs(60))
            .random_faults(random)
            .build();
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..5 {
            let plan = expand(&s, &topology(3), seed);
            for event in &plan.events {
                match &event.action {
                    FaultAction::DiskError {
                        probability, ops, ..
                    } => {
                        assert!((0.2..=1.0).contains(probability));
                        assert_eq!(ops, &DiskOp::all());
                    }
                    FaultAction::DiskFull { capacity_bytes, .. } => {
                        assert!(*capacity_bytes <= 65_536)
                    }
                    FaultAction::DiskCorrupt { probability, .. } => {
                        assert!((0.1..=0.5).contains(probability))
                    }
                    FaultAction::DiskSlow { latency, .. } => assert!((Duration::from_millis(10)
                        ..=Duration::from_millis(200))
                        .contains(latency)),
                    FaultAction::ClockJump { offset, .. } => {
                        assert!(offset.magnitude() <= Duration::from_secs(10))
                    }
                    FaultAction::ClockDrift { rate, .. } => assert!((-0.5..=0.5).contains(rate)),
                    _ => {}
                }
                if let Some(kind) = fault_kind(&event.action) {
                    seen.insert(kind);
                }
            }
            assert!(plan.fault_windows.iter().all(|w| w.end.is_some()));
        }
        assert_eq!(seen.len(), 6, "{seen:?}");
    }

    /// Adding kinds must not move the random choices of scenarios that do
    /// not use them: this plan's events are pinned.
    #[test]
    fn existing_kinds_expand_as_before_the_disk_and_clock_kinds() {
        let s = ScenarioBuilder::new("swarm", "test")
            .duration(Duration::from_secs(30))
            .random_faults(RandomFaultsSpec::with_kinds(
                RandomFaultKind::ALL[..9].to_vec(),
            ))
            .build();
        let plan = expand(&s, &topology(5), 9);
        let text: Vec<String> = plan
            .events
            .iter()
            .map(|e| format!("{} {}", format_duration(e.at), e.action.describe()))
            .collect();
        let digest = crate::seed::fnv1a(text.join("\n").as_bytes());
        assert_eq!(digest, PINNED_SWARM_DIGEST, "{text:#?}");
    }

    const PINNED_SWARM_DIGEST: u64 = 2_985_031_220_743_548_604;

    #[test]
    fn manual_faults_get_an_end_event_and_a_window() {
        let s = ScenarioBuilder::new("m", "test")
            .fault(FaultEventSpec::Crash {
                at: Duration::from_secs(2),
                duration: Some(Duration::from_secs(3)),
                host: "n1".into(),
            })
            .build();
        let plan = expand(&s, &topology(3), 0);
        assert_eq!(plan.events.len(), 2);
        assert_eq!(plan.events[1].at, Duration::from_secs(5));
        assert_eq!(plan.last_heal, Some(Duration::from_secs(5)));
        assert!(plan.fault_active_at(Duration::from_secs(3)));
        assert!(!plan.fault_active_at(Duration::from_secs(5)));
    }
}
