//! Process faults on several servers at once: which servers a group names
//! (`servers`, a random `majority`), when each goes down within a spread,
//! and the order of a rolling restart. Each host's share is its own action
//! with its own fault id, marked with the [`Correlation`] it belongs to.

use super::PlanBuilder;
use crate::fault::{role_of_target, Correlation, FaultAction, FaultId};
use crate::scenario::Topology;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// Which process fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Process {
    Crash,
    Bounce,
    Pause,
}

/// The servers `host` names, each with its delay from the fault's start,
/// in the order they go down, and the group they form. A server or a role
/// is one host at once.
pub(super) fn process_targets(
    host: &str,
    spread: Duration,
    topology: &Topology,
    rng: &mut ChaCha8Rng,
) -> (Vec<(String, Duration)>, Option<Correlation>) {
    let (hosts, group) = match host {
        "servers" => (topology.servers.clone(), Correlation::All),
        "majority" => {
            let mut servers = topology.servers.clone();
            servers.shuffle(rng);
            servers.truncate(topology.servers.len() / 2 + 1);
            (servers, Correlation::Majority)
        }
        _ => return (vec![(host.to_string(), Duration::ZERO)], None),
    };
    (spread_out(hosts, spread, rng), Some(group))
}

/// Each host's delay, in whole milliseconds within `spread`, the first at
/// zero; sorted by delay (hosts with equal delays keep their order).
fn spread_out(
    hosts: Vec<String>,
    spread: Duration,
    rng: &mut ChaCha8Rng,
) -> Vec<(String, Duration)> {
    let spread_ms = spread.as_millis() as u64;
    if spread_ms == 0 {
        return hosts.into_iter().map(|h| (h, Duration::ZERO)).collect();
    }
    let mut delays: Vec<(String, u64)> = hosts
        .into_iter()
        .map(|h| (h, rng.random_range(0..=spread_ms)))
        .collect();
    let first = delays.iter().map(|(_, d)| *d).min().unwrap_or(0);
    delays.sort_by_key(|(_, d)| *d);
    delays
        .into_iter()
        .map(|(h, d)| (h, Duration::from_millis(d - first)))
        .collect()
}

impl PlanBuilder {
    /// A process fault on `host` (a server, a role or a group) from `at`;
    /// each host restarts or resumes `duration` after its own start.
    /// Returns the hosts it names (a role as itself).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_process(
        &mut self,
        process: Process,
        at: Duration,
        duration: Option<Duration>,
        host: &str,
        spread: Duration,
        topology: &Topology,
        rng: &mut ChaCha8Rng,
    ) -> Vec<(String, Duration)> {
        let (targets, group) = process_targets(host, spread, topology, rng);
        for (host, delay) in &targets {
            let id = self.id();
            self.add_one_process(id, process, at + *delay, duration, host, group);
        }
        targets
    }

    /// One host's crash, bounce or pause (fault `id`), with its end.
    pub(super) fn add_one_process(
        &mut self,
        id: FaultId,
        process: Process,
        at: Duration,
        duration: Option<Duration>,
        host: &str,
        group: Option<Correlation>,
    ) {
        let host = host.to_string();
        // The end of a fault aimed at a role names the fault, so that it
        // reaches the host the start hit.
        let of = role_of_target(&host).map(|_| id);
        match process {
            Process::Crash => {
                self.push(
                    at,
                    FaultAction::Crash {
                        id,
                        host: host.clone(),
                        group,
                    },
                );
                if let Some(d) = duration {
                    self.push(at + d, FaultAction::Restart { host, of });
                }
            }
            Process::Bounce => self.push(at, FaultAction::Bounce { id, host, group }),
            Process::Pause => {
                self.push(
                    at,
                    FaultAction::Pause {
                        id,
                        host: host.clone(),
                        group,
                    },
                );
                if let Some(d) = duration {
                    self.push(at + d, FaultAction::Resume { host, of });
                }
            }
        }
    }

    /// Each server of `host` in a random order: crashed for `down` and
    /// restarted (bounced without `down`), the next `gap` after. Returns
    /// when the last one is back.
    pub(super) fn add_rolling(
        &mut self,
        at: Duration,
        host: &str,
        down: Option<Duration>,
        gap: Duration,
        topology: &Topology,
        rng: &mut ChaCha8Rng,
    ) -> Duration {
        let (targets, _) = process_targets(host, Duration::ZERO, topology, rng);
        let mut order: Vec<String> = targets.into_iter().map(|(h, _)| h).collect();
        order.shuffle(rng);
        let mut t = at;
        let rolling = Some(Correlation::Rolling);
        for host in order {
            let id = self.id();
            match down {
                Some(down) => {
                    self.add_one_process(id, Process::Crash, t, Some(down), &host, rolling);
                    t += down;
                }
                None => self.add_one_process(id, Process::Bounce, t, None, &host, rolling),
            }
            t += gap;
        }
        t
    }
}
