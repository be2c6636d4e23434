//! Aiming: turning the role targets of an action (`role:leader`) into the
//! hosts holding those roles at the instant the action fires.
//!
//! A role held by nobody resolves to nothing: a crash, bounce or pause of
//! it is skipped, a partition side holding only it is empty (so it cuts
//! nothing), a disk or clock fault on it touches no host. A role held by
//! several hosts at once (two leaders of different terms) resolves to one
//! of them, drawn from the seed's `nemesis` stream, so a seed always picks
//! the same one. In a partition, the host a role resolves to is taken off
//! every other side. The end of a crash or pause aimed at a role
//! (`restart role:leader` with `of`) goes to the host its start hit, not to
//! whoever holds the role later. Each resolution is recorded as a
//! [`FaultHit`].

use crate::fault::{role_of_target, FaultAction, FaultHit, FaultId};
use crate::seed::Seed;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

pub(super) struct Aim {
    rng: ChaCha8Rng,
    /// The hosts each role-aimed fault hit, for its end.
    hit: BTreeMap<FaultId, Vec<String>>,
}

/// An action with its role targets resolved.
pub(super) struct Aimed {
    pub action: FaultAction,
    pub hits: Vec<FaultHit>,
    /// What the role targets resolved to, in words, for the trace.
    pub notes: Vec<String>,
    /// Nothing to do: a process fault aimed at a role nobody held.
    pub skipped: bool,
}

/// Resolves the role targets of one action, each role at most once.
struct Resolver<'a> {
    aim: &'a mut Aim,
    id: Option<FaultId>,
    time_ns: u64,
    resolved: BTreeMap<String, Option<String>>,
    hits: Vec<FaultHit>,
    notes: Vec<String>,
}

impl Resolver<'_> {
    /// The host `name` stands for now: itself, or the holder of its role.
    fn host(&mut self, name: &str) -> Option<String> {
        let Some(role) = role_of_target(name) else {
            return Some(name.to_string());
        };
        if let Some(done) = self.resolved.get(name) {
            return done.clone();
        }
        let holders = crate::role::holders(role);
        let host = match holders.len() {
            0 => None,
            1 => Some(holders[0].clone()),
            n => Some(holders[self.aim.rng.random_range(0..n)].clone()),
        };
        self.notes.push(match &host {
            Some(host) => format!("{name} = {host}"),
            None => format!("{name}: nobody holds it"),
        });
        if let Some(id) = self.id {
            self.hits.push(FaultHit {
                id,
                time_ns: self.time_ns,
                target: name.to_string(),
                hosts: host.iter().cloned().collect(),
            });
            self.aim
                .hit
                .entry(id)
                .or_default()
                .extend(host.iter().cloned());
        }
        self.resolved.insert(name.to_string(), host.clone());
        host
    }

    /// Host sets (partition sides): roles resolved, and the hosts they
    /// resolved to taken off every other set.
    fn sides(&mut self, sides: &[Vec<String>]) -> Vec<Vec<String>> {
        let mut pulled: Vec<(usize, String)> = Vec::new();
        let mut out: Vec<Vec<String>> = Vec::new();
        for (i, side) in sides.iter().enumerate() {
            let mut hosts = Vec::new();
            for name in side {
                let is_role = role_of_target(name).is_some();
                if let Some(host) = self.host(name) {
                    if is_role {
                        pulled.push((i, host.clone()));
                    }
                    if !hosts.contains(&host) {
                        hosts.push(host);
                    }
                }
            }
            out.push(hosts);
        }
        for (keep, host) in pulled {
            for (i, side) in out.iter_mut().enumerate() {
                if i != keep {
                    side.retain(|h| *h != host);
                }
            }
        }
        out
    }

    fn set(&mut self, hosts: &[String]) -> Vec<String> {
        self.sides(std::slice::from_ref(&hosts.to_vec()))
            .pop()
            .unwrap_or_default()
    }
}

impl Aim {
    pub fn new(seed: Seed) -> Aim {
        Aim {
            rng: seed.stream("nemesis"),
            hit: BTreeMap::new(),
        }
    }

    /// The action as it applies now. Actions without role targets come back
    /// unchanged, with nothing drawn.
    pub fn aim(&mut self, action: &FaultAction, time_ns: u64) -> Aimed {
        if !has_role_target(action) {
            return Aimed {
                action: action.clone(),
                hits: Vec::new(),
                notes: Vec::new(),
                skipped: false,
            };
        }
        let id = started_id(action);
        let mut r = Resolver {
            aim: self,
            id,
            time_ns,
            resolved: BTreeMap::new(),
            hits: Vec::new(),
            notes: Vec::new(),
        };
        let mut skipped = false;
        let mut action = action.clone();
        match &mut action {
            FaultAction::Partition { sides, .. } => *sides = r.sides(sides),
            FaultAction::PartitionOneway { from, to, .. } => {
                let mut sides = r.sides(&[from.clone(), to.clone()]).into_iter();
                *from = sides.next().unwrap_or_default();
                *to = sides.next().unwrap_or_default();
            }
            FaultAction::Latency {
                between: Some(between),
                ..
            }
            | FaultAction::Loss {
                between: Some(between),
                ..
            } => {
                let mut sides = r.sides(between.as_slice()).into_iter();
                *between = [
                    sides.next().unwrap_or_default(),
                    sides.next().unwrap_or_default(),
                ];
            }
            FaultAction::Crash { host, .. }
            | FaultAction::Bounce { host, .. }
            | FaultAction::Pause { host, .. } => match r.host(host) {
                Some(hit) => *host = hit,
                None => skipped = true,
            },
            FaultAction::Restart { host, of } | FaultAction::Resume { host, of } => {
                // The end of a role-aimed fault goes where its start went.
                let started = of.and_then(|of| r.aim.hit.get(&of)).and_then(|h| h.first());
                match started {
                    Some(hit) => {
                        r.notes.push(format!("{host} = {hit}, as at its start"));
                        *host = hit.clone();
                    }
                    None => {
                        r.notes.push(format!("{host}: its start hit nobody"));
                        skipped = true;
                    }
                }
            }
            FaultAction::DiskError { hosts, .. }
            | FaultAction::DiskFull { hosts, .. }
            | FaultAction::DiskCorrupt { hosts, .. }
            | FaultAction::DiskSlow { hosts, .. }
            | FaultAction::ClockJump { hosts, .. }
            | FaultAction::ClockDrift { hosts, .. } => *hosts = r.set(hosts),
            _ => {}
        }
        Aimed {
            action,
            hits: r.hits,
            notes: r.notes,
            skipped,
        }
    }
}

/// The fault an action starts, whose id a hit is recorded under.
fn started_id(action: &FaultAction) -> Option<FaultId> {
    match action {
        FaultAction::Partition { id, .. }
        | FaultAction::PartitionOneway { id, .. }
        | FaultAction::Latency { id, .. }
        | FaultAction::Loss { id, .. }
        | FaultAction::Crash { id, .. }
        | FaultAction::Bounce { id, .. }
        | FaultAction::Pause { id, .. }
        | FaultAction::DiskError { id, .. }
        | FaultAction::DiskFull { id, .. }
        | FaultAction::DiskCorrupt { id, .. }
        | FaultAction::DiskSlow { id, .. }
        | FaultAction::ClockJump { id, .. }
        | FaultAction::ClockDrift { id, .. } => Some(*id),
        _ => None,
    }
}

/// Whether an action names a role anywhere (the cheap common case: no).
pub(super) fn has_role_target(action: &FaultAction) -> bool {
    let any = |hosts: &[String]| hosts.iter().any(|h| role_of_target(h).is_some());
    match action {
        FaultAction::Partition { sides, .. } => sides.iter().any(|s| any(s)),
        FaultAction::PartitionOneway { from, to, .. } => any(from) || any(to),
        FaultAction::Latency { between, .. } | FaultAction::Loss { between, .. } => {
            between.as_ref().is_some_and(|[a, b]| any(a) || any(b))
        }
        FaultAction::Crash { host, .. }
        | FaultAction::Bounce { host, .. }
        | FaultAction::Pause { host, .. }
        | FaultAction::Restart { host, .. }
        | FaultAction::Resume { host, .. } => role_of_target(host).is_some(),
        FaultAction::DiskError { hosts, .. }
        | FaultAction::DiskFull { hosts, .. }
        | FaultAction::DiskCorrupt { hosts, .. }
        | FaultAction::DiskSlow { hosts, .. }
        | FaultAction::ClockJump { hosts, .. }
        | FaultAction::ClockDrift { hosts, .. } => any(hosts),
        _ => false,
    }
}
