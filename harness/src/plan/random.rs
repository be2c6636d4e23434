//! Random ("swarm") plans: which kinds a seed enables (and, with `jitter`,
//! the network jitter it runs with; with `clock_skew`, each server's clock
//! rate for the whole storm), then a storm of faults from `start`
//! until `recovery` before the end, each kind, server (or, with `roles`,
//! role), length and parameter drawn from the plan stream, and a `heal
//! all` at the storm's end.
//!
//! The order of the draws is part of the format: changing it changes every
//! seed's plan, which a pinned test in `tests.rs` catches. What was added
//! later (roles, the correlated kinds, restarts during disk faults) draws
//! only when a scenario uses it, so older scenarios keep their plans.

use super::groups::{process_targets, Process};
use super::partitions::{bridge, isolate, isolate_peers, majority_minority, ring, Clients};
use super::PlanBuilder;
use crate::duration::{DurationRange, SignedDuration};
use crate::fault::{role_of_target, Correlation, FaultAction};
use crate::scenario::{RandomFaultKind, RandomFaultsSpec, Topology};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// The kinds this seed's storm draws from: all of them, or with `swarm`, a
/// random non-empty subset.
pub(super) fn enabled_kinds(
    random: &RandomFaultsSpec,
    rng: &mut ChaCha8Rng,
) -> Vec<RandomFaultKind> {
    let mut kinds = random.kinds.clone();
    kinds.sort();
    kinds.dedup();
    if !random.swarm {
        return kinds;
    }
    if let Some([low, high]) = random.swarm_kinds {
        // A few kinds per seed: each gets many faults, so what only a
        // run of one kind (or of two together) reaches is reached.
        let high = high.clamp(1, kinds.len());
        let low = low.clamp(1, high);
        let n = rng.random_range(low..=high);
        let mut chosen: Vec<_> = kinds.choose_multiple(rng, n).copied().collect();
        chosen.sort();
        return chosen;
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

/// This seed's network jitter, if the spec draws one.
pub(super) fn jitter(random: &RandomFaultsSpec, rng: &mut ChaCha8Rng) -> Option<Duration> {
    let range = random.jitter?;
    Some(to_ms(uniform(rng, range.low, range.high)).clamp(range.low, range.high))
}

/// Every host but `target` (all of them when it is a role: the nemesis
/// takes the holder off this side).
fn others(topology: &Topology, target: &str) -> Vec<String> {
    topology
        .all()
        .into_iter()
        .filter(|h| role_of_target(target).is_some() || h != target)
        .collect()
}

impl PlanBuilder {
    pub(super) fn add_random(
        &mut self,
        random: &RandomFaultsSpec,
        enabled: &[RandomFaultKind],
        topology: &Topology,
        run_duration: Duration,
        rng: &mut ChaCha8Rng,
    ) {
        let storm_end = run_duration - random.recovery;
        if let Some(range) = random.clock_skew {
            // Each server's clock rate for the whole storm; the storm's
            // closing `heal all` ends them.
            for server in &topology.servers {
                let rate = uniform_f64(rng, range);
                let id = self.id();
                self.push(
                    random.start,
                    FaultAction::ClockDrift {
                        id,
                        hosts: vec![server.clone()],
                        rate,
                    },
                );
            }
        }
        // When each server is next free of a crash or pause, so the plan
        // never crashes a crashed host or pauses a paused one.
        let mut busy_until: Vec<Duration> = vec![Duration::ZERO; topology.servers.len()];
        let mut t = random.start;
        // With `compound`: the server (and role) the next fault must hit,
        // because it piles onto the one before.
        let mut focus: Option<(usize, Option<String>)> = None;
        while t < storm_end {
            let kind = enabled[rng.random_range(0..enabled.len())];
            let length = uniform(rng, random.duration.low, random.duration.high).min(storm_end - t);
            let end = t + length;
            let mut server_index = rng.random_range(0..topology.servers.len());
            let mut role = if !random.roles.is_empty()
                && kind.can_aim_at_role()
                && rng.random_bool(random.role_weight.clamp(0.0, 1.0))
            {
                let role = &random.roles[rng.random_range(0..random.roles.len())];
                Some(format!("{}{role}", crate::fault::ROLE_PREFIX))
            } else {
                None
            };
            // A kind that hits several servers ignores the focus.
            if let Some((i, r)) = focus.take().filter(|_| kind.can_aim_at_role()) {
                (server_index, role) = (i, r);
            }
            let server = topology.servers[server_index].clone();
            // What a one-server fault hits: the role, or the drawn server.
            let target = role.clone().unwrap_or_else(|| server.clone());
            let id = self.id();
            match kind {
                RandomFaultKind::Isolate => {
                    self.push(t, isolate(id, &target, topology));
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::IsolatePeers => {
                    self.push(t, isolate_peers(id, &target, topology));
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::MajorityMinority
                | RandomFaultKind::SplitPeers
                | RandomFaultKind::SplitWithClients => {
                    let clients = match kind {
                        RandomFaultKind::MajorityMinority => Clients::WithMajority,
                        RandomFaultKind::SplitPeers => Clients::OnBoth,
                        _ => Clients::Divided,
                    };
                    let shape = majority_minority(id, topology, rng, role.as_deref(), clients);
                    self.push(t, shape);
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::Ring => {
                    self.push(t, ring(id, topology, rng));
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::Bridge => {
                    self.push(t, bridge(id, topology, rng));
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::PartitionOneway => {
                    let others = others(topology, &target);
                    let (from, to) = if rng.random_bool(0.5) {
                        (vec![target], others)
                    } else {
                        (others, vec![target])
                    };
                    self.push(t, FaultAction::PartitionOneway { id, from, to });
                    self.push(end, FaultAction::EndPartition { id });
                }
                RandomFaultKind::Latency => {
                    let latency = uniform(rng, random.latency.low, random.latency.high);
                    let others = others(topology, &target);
                    self.push(
                        t,
                        FaultAction::Latency {
                            id,
                            between: Some([vec![target], others]),
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
                    let others = others(topology, &target);
                    self.push(
                        t,
                        FaultAction::Loss {
                            id,
                            between: Some([vec![target], others]),
                            rate,
                        },
                    );
                    self.push(end, FaultAction::EndLoss { id });
                }
                RandomFaultKind::Crash | RandomFaultKind::Pause => {
                    let process = if kind == RandomFaultKind::Crash {
                        Process::Crash
                    } else {
                        Process::Pause
                    };
                    if role.is_some() {
                        // Whoever holds the role is up: a crashed host
                        // holds none.
                        self.add_one_process(id, process, t, Some(length), &target, None);
                    } else if busy_until[server_index] <= t {
                        busy_until[server_index] = end;
                        self.add_one_process(id, process, t, Some(length), &server, None);
                    }
                }
                RandomFaultKind::Bounce => {
                    if role.is_some() || busy_until[server_index] <= t {
                        self.add_one_process(id, Process::Bounce, t, None, &target, None);
                    }
                }
                RandomFaultKind::CrashMajority
                | RandomFaultKind::CrashAll
                | RandomFaultKind::BounceMajority
                | RandomFaultKind::BounceAll
                | RandomFaultKind::PauseMajority
                | RandomFaultKind::PauseAll => {
                    use RandomFaultKind::*;
                    let (process, group) = match kind {
                        CrashMajority => (Process::Crash, "majority"),
                        CrashAll => (Process::Crash, "servers"),
                        BounceMajority => (Process::Bounce, "majority"),
                        BounceAll => (Process::Bounce, "servers"),
                        PauseMajority => (Process::Pause, "majority"),
                        _ => (Process::Pause, "servers"),
                    };
                    let spread = to_ms(uniform(rng, random.spread.low, random.spread.high));
                    let (targets, correlation) = process_targets(group, spread, topology, rng);
                    let duration = (process != Process::Bounce).then_some(length);
                    for (host, delay) in targets {
                        let i = topology.servers.iter().position(|s| *s == host);
                        let i = i.expect("groups name servers");
                        // Every share starts and ends within the storm.
                        if busy_until[i] > t + delay || t + delay >= storm_end {
                            continue;
                        }
                        let duration = duration.map(|d| d.min(storm_end - (t + delay)));
                        if let Some(d) = duration {
                            busy_until[i] = t + delay + d;
                        }
                        let id = self.id();
                        self.add_one_process(id, process, t + delay, duration, &host, correlation);
                    }
                }
                RandomFaultKind::RollingRestart => {
                    let n = topology.servers.len() as u32;
                    let down = to_ms(length / n).max(Duration::from_millis(1));
                    let (targets, _) = process_targets("servers", Duration::ZERO, topology, rng);
                    let mut order: Vec<String> = targets.into_iter().map(|(h, _)| h).collect();
                    order.shuffle(rng);
                    let mut at = t;
                    for host in order {
                        let i = topology.servers.iter().position(|s| *s == host);
                        let i = i.expect("servers");
                        if at >= storm_end {
                            break;
                        }
                        if busy_until[i] <= at {
                            let down = down.min(storm_end - at);
                            busy_until[i] = at + down;
                            let rolling = Some(Correlation::Rolling);
                            let id = self.id();
                            self.add_one_process(
                                id,
                                Process::Crash,
                                at,
                                Some(down),
                                &host,
                                rolling,
                            );
                        }
                        at += down * 2;
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
                            hosts: vec![target.clone()],
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
                            hosts: vec![target.clone()],
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
                            hosts: vec![target.clone()],
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
                            hosts: vec![target.clone()],
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
                            hosts: vec![target.clone()],
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
                            hosts: vec![target.clone()],
                            rate,
                        },
                    );
                    self.push(end, FaultAction::EndClockFault { id });
                }
            }
            let disk = matches!(
                kind,
                RandomFaultKind::DiskError
                    | RandomFaultKind::DiskFull
                    | RandomFaultKind::DiskCorrupt
                    | RandomFaultKind::DiskSlow
            );
            // A bounce within the disk fault reads back, at recovery, what
            // the faulty disk holds. Only for a plain server: a role may
            // be held by another host by then.
            if disk
                && role.is_none()
                && random.restart_during_disk_faults > 0.0
                && rng.random_bool(random.restart_during_disk_faults.clamp(0.0, 1.0))
            {
                let at = uniform(rng, t, end);
                if busy_until[server_index] <= at {
                    let id = self.id();
                    self.add_one_process(id, Process::Bounce, at, None, &server, None);
                }
            }
            // The next fault piles onto this one: same target, starting
            // while this one lasts (at least 1 ms on, so the storm moves).
            if random.compound > 0.0
                && kind.can_aim_at_role()
                && rng.random_bool(random.compound.clamp(0.0, 1.0))
            {
                focus = Some((server_index, role));
                t += uniform(rng, Duration::ZERO, length).max(Duration::from_millis(1));
            } else {
                t += uniform(rng, random.interval.low, random.interval.high);
            }
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
