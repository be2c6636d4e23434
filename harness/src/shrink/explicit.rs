//! A plan written out as explicit, hand-written fault events: every random
//! choice already made, each start paired with its end as a duration, times
//! rounded up to the tick (which changes nothing about the run). Replayed
//! with the same seed, the events give the same plan.

use super::{to_tick, with_duration};
use crate::plan::{FaultAction, Plan};
use crate::scenario::FaultEventSpec;
use std::collections::BTreeMap;
use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::SignedDuration;
    use crate::plan::expand;
    use crate::scenario::Topology;
    use crate::scenario::{RandomFaultKind, RandomFaultsSpec, ScenarioBuilder};
    use std::time::Duration;

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
