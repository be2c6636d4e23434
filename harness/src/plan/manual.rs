//! Hand-written fault events: each becomes its start action and, when it
//! has a duration, the action that ends it. Only the partition shapes that
//! pick servers (`majority-minority`, `bridge`) draw from the stream.

use super::partitions::{bridge, isolate, majority_minority};
use super::PlanBuilder;
use crate::fault::FaultAction;
use crate::scenario::{FaultEventSpec, Topology};
use rand_chacha::ChaCha8Rng;

impl PlanBuilder {
    pub(super) fn add_manual(
        &mut self,
        spec: &FaultEventSpec,
        topology: &Topology,
        rng: &mut ChaCha8Rng,
    ) {
        let resolve = |set: &[String]| topology.resolve_set(set).expect("validated host set");
        if let Some(hosts) = group_members(spec, topology) {
            // A host fault aimed at a group is that fault on each member,
            // each with its own id (so its own window and its own end).
            for host in hosts {
                self.add_manual(&with_host(spec, host), topology, rng);
            }
            return;
        }
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
            FaultEventSpec::Isolate { host, .. } if !topology.is_host(host) => (
                isolate_each(id, &resolve(std::slice::from_ref(host)), topology),
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
}

/// The members of the group a crash, restart, bounce, pause or resume
/// names (`servers`); `None` for a single host or any other fault.
fn group_members(spec: &FaultEventSpec, topology: &Topology) -> Option<Vec<String>> {
    let host = match spec {
        FaultEventSpec::Crash { host, .. }
        | FaultEventSpec::Restart { host, .. }
        | FaultEventSpec::Bounce { host, .. }
        | FaultEventSpec::Pause { host, .. }
        | FaultEventSpec::Resume { host, .. } => host,
        _ => return None,
    };
    if topology.is_host(host) {
        return None;
    }
    Some(topology.resolve(host).expect("validated group"))
}

/// `spec` aimed at `host` instead.
fn with_host(spec: &FaultEventSpec, member: String) -> FaultEventSpec {
    let mut one = spec.clone();
    match &mut one {
        FaultEventSpec::Crash { host, .. }
        | FaultEventSpec::Restart { host, .. }
        | FaultEventSpec::Bounce { host, .. }
        | FaultEventSpec::Pause { host, .. }
        | FaultEventSpec::Resume { host, .. } => *host = member,
        _ => unreachable!("only host faults are aimed at a group"),
    }
    one
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
