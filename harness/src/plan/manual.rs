//! Hand-written fault events: each becomes its start action and, when it
//! has a duration, the action that ends it. Only the shapes that pick
//! servers (`majority-minority`, `split-peers`, `bridge`, `ring`, the
//! group `majority`, a `spread`, a rolling restart's order) draw from the
//! stream. Role targets stay as they are written, for the nemesis to
//! resolve when they fire.

use super::groups::Process;
use super::partitions::{bridge, isolate, isolate_peers, majority_minority, ring, Clients};
use super::PlanBuilder;
use crate::fault::{role_of_target, FaultAction};
use crate::scenario::{FaultEventSpec, Topology};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// Host and group names as the hosts they stand for; a role target stays
/// itself.
fn resolve(topology: &Topology, set: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for name in set {
        let named = match role_of_target(name) {
            Some(_) => vec![name.clone()],
            None => topology.resolve(name).expect("validated host set"),
        };
        for host in named {
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    hosts
}

impl PlanBuilder {
    pub(super) fn add_manual(
        &mut self,
        spec: &FaultEventSpec,
        topology: &Topology,
        rng: &mut ChaCha8Rng,
    ) {
        let resolve = |set: &[String]| resolve(topology, set);
        let at = spec.at();
        let process = match spec {
            FaultEventSpec::Crash { .. } => Some(Process::Crash),
            FaultEventSpec::Bounce { .. } => Some(Process::Bounce),
            FaultEventSpec::Pause { .. } => Some(Process::Pause),
            _ => None,
        };
        match spec {
            FaultEventSpec::Crash { host, spread, .. }
            | FaultEventSpec::Bounce { host, spread, .. }
            | FaultEventSpec::Pause { host, spread, .. } => {
                let process = process.expect("a process fault");
                let spread = spread.unwrap_or(Duration::ZERO);
                self.add_process(process, at, spec.duration(), host, spread, topology, rng);
                return;
            }
            FaultEventSpec::Restart { host, .. } | FaultEventSpec::Resume { host, .. } => {
                for host in resolve(std::slice::from_ref(host)) {
                    self.push(
                        at,
                        match spec {
                            FaultEventSpec::Restart { .. } => {
                                FaultAction::Restart { host, of: None }
                            }
                            _ => FaultAction::Resume { host, of: None },
                        },
                    );
                }
                return;
            }
            FaultEventSpec::RollingRestart {
                host, down, gap, ..
            } => {
                self.add_rolling(at, host, *down, *gap, topology, rng);
                return;
            }
            _ => {}
        }
        let id = self.id();
        let (start, end) = match spec {
            FaultEventSpec::Partition { sides, .. } => (
                FaultAction::Partition {
                    id,
                    sides: sides.iter().map(|s| resolve(s)).collect(),
                },
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::Isolate { host, .. } if !topology.is_host(host) => (
                isolate_each(id, &resolve(std::slice::from_ref(host)), topology),
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::Isolate { host, .. } => (
                isolate(id, host, topology),
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::IsolatePeers { host, .. } => (
                isolate_peers(id, host, topology),
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::MajorityMinority { host, .. } => (
                majority_minority(id, topology, rng, host.as_deref(), Clients::WithMajority),
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::SplitPeers { host, .. } => (
                majority_minority(id, topology, rng, host.as_deref(), Clients::OnBoth),
                Some(FaultAction::EndPartition { id }),
            ),
            FaultEventSpec::Ring { order, .. } => (
                match order {
                    Some(order) => FaultAction::Ring {
                        id,
                        order: order.clone(),
                    },
                    None => ring(id, topology, rng),
                },
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
            FaultEventSpec::Crash { .. }
            | FaultEventSpec::Bounce { .. }
            | FaultEventSpec::Pause { .. }
            | FaultEventSpec::Restart { .. }
            | FaultEventSpec::Resume { .. }
            | FaultEventSpec::RollingRestart { .. } => unreachable!("handled above"),
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
}

/// Every host of a group cut off from every other host: each on a side of
/// its own, the hosts outside the group together on one more.
fn isolate_each(id: crate::fault::FaultId, group: &[String], topology: &Topology) -> FaultAction {
    let mut sides: Vec<Vec<String>> = group.iter().map(|h| vec![h.clone()]).collect();
    let rest: Vec<String> = topology
        .all()
        .into_iter()
        .filter(|h| !group.contains(h))
        .collect();
    if !rest.is_empty() {
        sides.push(rest);
    }
    FaultAction::Partition { id, sides }
}
