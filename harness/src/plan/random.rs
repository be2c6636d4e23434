//! Random ("swarm") plans: which kinds a seed enables, then a storm of
//! faults from `start` until `recovery` before the end, each kind, server,
//! length and parameter drawn from the plan stream, and a `heal all` at
//! the storm's end.
//!
//! The order of the draws is part of the format: changing it changes every
//! seed's plan, which a pinned test in `tests.rs` catches.

use super::partitions::{bridge, isolate, majority_minority};
use super::PlanBuilder;
use crate::duration::{DurationRange, SignedDuration};
use crate::fault::FaultAction;
use crate::scenario::{RandomFaultKind, RandomFaultsSpec, Topology};
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
