//! A plan written out as explicit, hand-written fault events: every random
//! choice already made, each start paired with its end as a duration, times
//! rounded up to the tick (which changes nothing about the run). Replayed
//! with the same seed, the events give the same plan.
//!
//! A fault aimed at a role is written as the fault on the host it actually
//! hit in the run (from the record's [`FaultHit`]s), and one that hit
//! nobody is left out: it did nothing. So the explicit plan reproduces the
//! run exactly, and the shrinker's later edits keep hitting that host even
//! when they change who would hold the role. A group fault is written as
//! one event per host. [`explicit_events_keeping_roles`] writes the plan
//! with its role targets as they were planned instead, for a search that
//! edits the plan and wants the edited run to aim where the plan aimed.

use super::{FaultAction, Plan};
use crate::fault::{role_of_target, FaultHit, FaultId};
use crate::scenario::FaultEventSpec;
use std::collections::BTreeMap;
use std::time::Duration;

/// Rounds up to a whole tick: the nemesis applies events at the first step
/// at or after their time, so this changes nothing about the run, and a
/// file reads `5538ms` rather than `5537336723ns`.
pub fn to_tick(t: Duration, tick: Duration) -> Duration {
    let tick = tick.as_nanos().max(1);
    Duration::from_nanos((t.as_nanos().div_ceil(tick) * tick) as u64)
}

/// `spec` with its duration set to `d` (unchanged for a kind without one).
pub fn with_duration(spec: &FaultEventSpec, d: Duration) -> FaultEventSpec {
    let mut spec = spec.clone();
    if let Some(duration) = spec.duration_mut() {
        *duration = Some(d);
    }
    spec
}

/// The action as it applied in the run: role targets replaced by the hosts
/// they hit. `None`: it did nothing (a process fault whose role nobody
/// held, or the end of one). Without `hits`, the action as planned.
fn as_applied(action: &FaultAction, hits: Option<&[FaultHit]>) -> Option<FaultAction> {
    let Some(hits) = hits else {
        return Some(action.clone());
    };
    let hit_of = |id: FaultId, target: &str| -> Option<String> {
        hits.iter()
            .find(|h| h.id == id && h.target == target)
            .and_then(|h| h.hosts.first().cloned())
    };
    // Roles in sides: the host hit, taken off every other side.
    let sides = |id: FaultId, sides: &[Vec<String>]| -> Vec<Vec<String>> {
        let mut pulled: Vec<(usize, String)> = Vec::new();
        let mut out: Vec<Vec<String>> = sides
            .iter()
            .enumerate()
            .map(|(i, side)| {
                let mut hosts = Vec::new();
                for name in side {
                    let host = match role_of_target(name) {
                        Some(_) => {
                            let host = hit_of(id, name);
                            if let Some(h) = &host {
                                pulled.push((i, h.clone()));
                            }
                            host
                        }
                        None => Some(name.clone()),
                    };
                    if let Some(host) = host.filter(|h| !hosts.contains(h)) {
                        hosts.push(host);
                    }
                }
                hosts
            })
            .collect();
        for (keep, host) in pulled {
            for (i, side) in out.iter_mut().enumerate() {
                if i != keep {
                    side.retain(|h| *h != host);
                }
            }
        }
        out
    };
    let mut action = action.clone();
    match &mut action {
        FaultAction::Partition { id, sides: s } => {
            // A side that was only a role nobody held is empty: it cut
            // nothing off. With fewer than two sides left the partition
            // separated nobody (and an empty side is no valid event).
            *s = sides(*id, s);
            s.retain(|side| !side.is_empty());
            if s.len() < 2 {
                return None;
            }
        }
        FaultAction::PartitionOneway { id, from, to } => {
            let mut both = sides(*id, &[from.clone(), to.clone()]).into_iter();
            *from = both.next().unwrap_or_default();
            *to = both.next().unwrap_or_default();
            if from.is_empty() || to.is_empty() {
                return None;
            }
        }
        FaultAction::Latency {
            id,
            between: Some(between),
            ..
        }
        | FaultAction::Loss {
            id,
            between: Some(between),
            ..
        } => {
            let mut both = sides(*id, between.as_slice()).into_iter();
            *between = [
                both.next().unwrap_or_default(),
                both.next().unwrap_or_default(),
            ];
            // Between nobody and the rest: it slowed or dropped nothing.
            if between.iter().any(Vec::is_empty) {
                return None;
            }
        }
        FaultAction::Crash { id, host, .. }
        | FaultAction::Bounce { id, host, .. }
        | FaultAction::Pause { id, host, .. }
            if role_of_target(host).is_some() =>
        {
            *host = hit_of(*id, host)?;
        }
        FaultAction::Restart { host, of } | FaultAction::Resume { host, of }
            if role_of_target(host).is_some() =>
        {
            let started = hits.iter().find(|h| Some(h.id) == *of)?;
            *host = started.hosts.first()?.clone();
            *of = None;
        }
        FaultAction::DiskError { id, hosts, .. }
        | FaultAction::DiskFull { id, hosts, .. }
        | FaultAction::DiskCorrupt { id, hosts, .. }
        | FaultAction::DiskSlow { id, hosts, .. }
        | FaultAction::ClockJump { id, hosts, .. }
        | FaultAction::ClockDrift { id, hosts, .. } => {
            let resolved = sides(*id, std::slice::from_ref(hosts));
            *hosts = resolved.into_iter().next().unwrap_or_default();
            if hosts.is_empty() {
                return None;
            }
        }
        _ => {}
    }
    Some(action)
}

/// Writes the seed's plan as explicit fault events, role targets as the
/// hosts they hit (`hits`, from the run's record).
pub fn explicit_events(plan: &Plan, hits: &[FaultHit]) -> Result<Vec<FaultEventSpec>, String> {
    write_events(plan, Some(hits))
}

/// Writes the seed's plan as explicit fault events with its role targets
/// kept (`role:leader` stays `role:leader`): with the same seed they give
/// the same run, and after an edit that changes who leads they still aim
/// at whoever does, as the random plan would. What a search mutates.
pub fn explicit_events_keeping_roles(plan: &Plan) -> Result<Vec<FaultEventSpec>, String> {
    write_events(plan, None)
}

fn write_events(plan: &Plan, hits: Option<&[FaultHit]>) -> Result<Vec<FaultEventSpec>, String> {
    // Start events waiting for their end, by fault id or, for crashes and
    // pauses, by host. One host can be crashed (or paused) again before the
    // first restart comes — two overlapping random faults — so each host
    // keeps its open starts oldest first, and an end closes the one it names
    // (`of`) or else the oldest; pairing it with the newest instead would
    // leave the older start's end behind as a lone restart, which an edit
    // can then drop and leave the host down for good.
    let mut events: Vec<FaultEventSpec> = Vec::new();
    let mut open_by_id: BTreeMap<u32, usize> = BTreeMap::new();
    let mut open_by_host: OpenStarts = BTreeMap::new();
    let close = |spec: &mut FaultEventSpec, at: Duration| {
        if spec.duration().is_none() {
            *spec = with_duration(spec, at.saturating_sub(spec.at()));
        }
    };
    for event in &plan.events {
        let at = to_tick(event.at, plan.tick);
        let Some(action) = as_applied(&event.action, hits) else {
            continue;
        };
        match &action {
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
            FaultAction::Ring { id, order } => {
                open_by_id.insert(*id, events.len());
                events.push(FaultEventSpec::Ring {
                    at,
                    duration: None,
                    order: Some(order.clone()),
                });
            }
            FaultAction::Crash { id, host, .. } => {
                open_starts(&mut open_by_host, "crash", host).push((*id, events.len()));
                events.push(FaultEventSpec::Crash {
                    at,
                    duration: None,
                    host: host.clone(),
                    spread: None,
                });
            }
            FaultAction::Pause { id, host, .. } => {
                open_starts(&mut open_by_host, "pause", host).push((*id, events.len()));
                events.push(FaultEventSpec::Pause {
                    at,
                    duration: None,
                    host: host.clone(),
                    spread: None,
                });
            }
            FaultAction::Bounce { host, .. } => events.push(FaultEventSpec::Bounce {
                at,
                host: host.clone(),
                spread: None,
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
            FaultAction::Restart { host, of } | FaultAction::Resume { host, of } => {
                let restart = matches!(action, FaultAction::Restart { .. });
                let kind = if restart { "crash" } else { "pause" };
                match take_open(&mut open_by_host, kind, host, *of) {
                    Some(i) => close(&mut events[i], at),
                    // An end with no start of ours: written as it came.
                    None => {
                        let host = host.clone();
                        events.push(if restart {
                            FaultEventSpec::Restart { at, host }
                        } else {
                            FaultEventSpec::Resume { at, host }
                        });
                    }
                }
            }
            FaultAction::HealPartitions => {
                let ids: Vec<u32> = open_by_id.keys().copied().collect();
                for id in ids {
                    let i = open_by_id[&id];
                    if matches!(
                        events[i],
                        FaultEventSpec::Partition { .. }
                            | FaultEventSpec::PartitionOneway { .. }
                            | FaultEventSpec::Ring { .. }
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
                for (_, starts) in std::mem::take(&mut open_by_host) {
                    for (_, i) in starts {
                        close(&mut events[i], at);
                    }
                }
            }
        }
    }
    Ok(events)
}

/// Crash and pause starts still waiting for their end, per (kind, host),
/// oldest first: the fault's id and the index of its event.
type OpenStarts = BTreeMap<(&'static str, String), Vec<(FaultId, usize)>>;

fn open_starts<'a>(
    open: &'a mut OpenStarts,
    kind: &'static str,
    host: &str,
) -> &'a mut Vec<(FaultId, usize)> {
    open.entry((kind, host.to_string())).or_default()
}

/// The start an end closes: the one it names, else the host's oldest.
fn take_open(
    open: &mut OpenStarts,
    kind: &'static str,
    host: &str,
    of: Option<FaultId>,
) -> Option<usize> {
    let starts = open.get_mut(&(kind, host.to_string()))?;
    let position = of
        .and_then(|of| starts.iter().position(|(id, _)| *id == of))
        .unwrap_or(0);
    let (_, index) = (position < starts.len()).then(|| starts.remove(position))?;
    if starts.is_empty() {
        open.remove(&(kind, host.to_string()));
    }
    Some(index)
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

    fn servers_and_a_client(servers: &[&str]) -> Topology {
        Topology {
            servers: servers.iter().map(|s| s.to_string()).collect(),
            clients: vec!["client-0".into()],
        }
    }

    #[test]
    fn disk_and_clock_faults_round_trip_through_explicit_events() {
        let topology = servers_and_a_client(&["n1", "n2"]);
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
        explicit.faults.events = explicit_events(&plan, &[]).unwrap();
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

    #[test]
    fn keeping_roles_writes_role_aims_as_planned_and_replays_to_the_same_plan() {
        let topology = servers_and_a_client(&["n1", "n2", "n3"]);
        let mut random = RandomFaultsSpec::with_kinds(vec![
            RandomFaultKind::Crash,
            RandomFaultKind::Isolate,
            RandomFaultKind::DiskCorrupt,
        ]);
        random.swarm = false;
        random.roles = vec!["leader".into()];
        random.role_weight = 1.0;
        let scenario = ScenarioBuilder::new("s", "test")
            .duration(Duration::from_secs(20))
            .random_faults(random)
            .build();
        let plan = expand(&scenario, &topology, 7);
        let kept = explicit_events_keeping_roles(&plan).unwrap();
        assert!(!kept.is_empty());
        // Every one-host fault is aimed at the leader, as planned; without
        // a run's hits, the resolving writer leaves them all out.
        assert!(kept.iter().all(|e| {
            let mut e = e.clone();
            e.host_mut().is_none_or(|h| h == "role:leader")
        }));
        assert!(explicit_events(&plan, &[]).unwrap().len() < kept.len());
        let mut explicit = scenario.clone();
        explicit.faults.random = None;
        explicit.faults.events = kept.clone();
        let again = expand(&explicit, &topology, 7);
        assert_eq!(explicit_events_keeping_roles(&again).unwrap(), kept);
    }

    #[test]
    fn a_role_partition_that_hit_nobody_is_left_out_and_one_that_hit_a_host_names_it() {
        let topology = servers_and_a_client(&["n1", "n2", "n3"]);
        let isolate = |at: u64| FaultEventSpec::Isolate {
            at: Duration::from_secs(at),
            duration: Some(Duration::from_secs(1)),
            host: "role:leader".into(),
        };
        let scenario = ScenarioBuilder::new("s", "test")
            .duration(Duration::from_secs(10))
            .fault(isolate(2))
            .fault(isolate(5))
            .build();
        let plan = expand(&scenario, &topology, 0);
        let ids: Vec<FaultId> = plan
            .events
            .iter()
            .filter_map(|e| match &e.action {
                FaultAction::Partition { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(ids.len(), 2, "{:?}", plan.events);
        // In the run, nobody led at 2 s and n2 led at 5 s.
        let hit = |id, hosts: &[&str]| FaultHit {
            id,
            time_ns: 0,
            target: "role:leader".into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        };
        let hits = [hit(ids[0], &[]), hit(ids[1], &["n2"])];
        let events = explicit_events(&plan, &hits).unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        let FaultEventSpec::Partition { at, sides, .. } = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(*at, Duration::from_secs(5));
        assert_eq!(sides[0], vec!["n2".to_string()]);
        assert!(!sides[1].contains(&"n2".to_string()), "{sides:?}");
        // No empty side: scenario validation refuses one.
        assert!(sides.iter().all(|side| !side.is_empty()), "{sides:?}");
    }

    #[test]
    fn overlapping_pauses_and_crashes_of_one_host_each_keep_their_end() {
        let topology = servers_and_a_client(&["n1", "n2"]);
        let secs = Duration::from_secs;
        let crash = |at, lasting| FaultEventSpec::Crash {
            at: secs(at),
            duration: Some(secs(lasting)),
            host: "n1".into(),
            spread: None,
        };
        let pause = |at, lasting| FaultEventSpec::Pause {
            at: secs(at),
            duration: Some(secs(lasting)),
            host: "n2".into(),
            spread: None,
        };
        // The second of each starts before the first has ended.
        let scenario = ScenarioBuilder::new("s", "test")
            .duration(secs(20))
            .fault(crash(2, 4))
            .fault(crash(3, 1))
            .fault(pause(8, 5))
            .fault(pause(9, 2))
            .build();
        let plan = expand(&scenario, &topology, 0);
        let events = explicit_events(&plan, &[]).unwrap();
        // Every start got an end and no end was left over on its own: the
        // first end closes the oldest start, the next end the other.
        let lasting: Vec<(String, Duration, Option<Duration>)> = events
            .iter()
            .map(|e| match e {
                FaultEventSpec::Crash { at, duration, .. } => ("crash".into(), *at, *duration),
                FaultEventSpec::Pause { at, duration, .. } => ("pause".into(), *at, *duration),
                other => panic!("a lone end or another fault: {other:?}"),
            })
            .collect();
        assert_eq!(
            lasting,
            vec![
                ("crash".into(), secs(2), Some(secs(2))),
                ("crash".into(), secs(3), Some(secs(3))),
                ("pause".into(), secs(8), Some(secs(3))),
                ("pause".into(), secs(9), Some(secs(4))),
            ]
        );
        // Written back, the host goes down and comes up at the same times.
        let mut explicit = scenario.clone();
        explicit.faults.events = events;
        let again = expand(&explicit, &topology, 0);
        let times = |p: &Plan| -> Vec<(Duration, String)> {
            p.events
                .iter()
                .map(|e| (to_tick(e.at, p.tick), e.action.describe()))
                .collect()
        };
        let (mut before, mut after) = (times(&plan), times(&again));
        before.sort();
        after.sort();
        assert_eq!(before, after);
    }
}
