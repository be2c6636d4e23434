//! The nemesis: applies plan events to a running turmoil simulation.
//!
//! turmoil keeps one state per link (healthy, partitioned one or both ways,
//! held) and its calls overwrite each other: `release` after a `hold` makes
//! a partitioned link healthy again, and repairing one partition would heal
//! an overlapping one. So the nemesis keeps the *causes* — which faults
//! block which directed link, which hosts are paused, which latency and loss
//! faults cover which link — derives the state each link should be in, and
//! changes only links whose state differs. Overlapping faults then compose:
//! a link is healthy only when no fault blocks it. Disk and clock faults
//! go to [`crate::host_faults`], which the hosts' disks and clocks read.
//! Role targets are resolved first (`aim.rs`), so everything below sees
//! plain host names.

use super::aim::Aim;
use crate::fault::FaultHit;
use crate::plan::{FaultAction, FaultId};
use crate::seed::Seed;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use turmoil::Sim;

/// What turmoil should have on one link (a < b by host index).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct LinkState {
    held: bool,
    block_ab: bool,
    block_ba: bool,
    latency: Option<(Duration, Duration)>,
    loss: Option<u64>, // rate in millionths, so it can be compared exactly
}

pub(super) struct Nemesis {
    hosts: Vec<String>,
    base_latency: Duration,
    base_jitter: Duration,
    /// Directed link (from, to) → faults blocking it.
    blocks: BTreeMap<(usize, usize), BTreeSet<FaultId>>,
    paused: BTreeSet<usize>,
    crashed: BTreeSet<String>,
    /// Undirected link → latency faults on it.
    latency: BTreeMap<(usize, usize), BTreeMap<FaultId, (Duration, Duration)>>,
    loss: BTreeMap<(usize, usize), BTreeMap<FaultId, f64>>,
    applied: BTreeMap<(usize, usize), LinkState>,
    aim: Aim,
}

/// What happened when an action was applied, for the trace.
pub(super) struct Applied {
    pub description: String,
    /// Host lifecycle changes (crash, restart, …) with their host.
    pub lifecycle: Vec<(String, String)>,
    /// What the action's role targets resolved to.
    pub hits: Vec<FaultHit>,
    /// Hosts whose software stopped (crashed or bounced): they hold no
    /// role any more.
    pub gone: Vec<String>,
}

impl Nemesis {
    pub fn new(
        servers: &[String],
        clients: &[String],
        latency: Duration,
        jitter: Duration,
        seed: Seed,
    ) -> Nemesis {
        let hosts: Vec<String> = servers.iter().chain(clients).cloned().collect();
        let mut applied = BTreeMap::new();
        for a in 0..hosts.len() {
            for b in a + 1..hosts.len() {
                applied.insert((a, b), LinkState::default());
            }
        }
        Nemesis {
            hosts,
            base_latency: latency,
            base_jitter: jitter,
            blocks: BTreeMap::new(),
            paused: BTreeSet::new(),
            crashed: BTreeSet::new(),
            latency: BTreeMap::new(),
            loss: BTreeMap::new(),
            applied,
            aim: Aim::new(seed),
        }
    }

    fn index(&self, host: &str) -> usize {
        self.hosts
            .iter()
            .position(|h| h == host)
            .unwrap_or_else(|| panic!("plan names unknown host {host}"))
    }

    fn indices(&self, hosts: &[String]) -> Vec<usize> {
        hosts.iter().map(|h| self.index(h)).collect()
    }

    fn undirected(a: usize, b: usize) -> (usize, usize) {
        (a.min(b), a.max(b))
    }

    fn links_between(&self, between: &Option<[Vec<String>; 2]>) -> Vec<(usize, usize)> {
        match between {
            None => self.applied.keys().copied().collect(),
            Some([a, b]) => {
                let (a, b) = (self.indices(a), self.indices(b));
                let mut links = BTreeSet::new();
                for &x in &a {
                    for &y in &b {
                        if x != y {
                            links.insert(Self::undirected(x, y));
                        }
                    }
                }
                links.into_iter().collect()
            }
        }
    }

    /// Applies one action at simulated time `now`.
    pub fn apply(&mut self, sim: &mut Sim<'_>, planned: &FaultAction, now: Duration) -> Applied {
        let aimed = self.aim.aim(planned, now.as_nanos() as u64);
        let aim_note = (!aimed.notes.is_empty()).then(|| aimed.notes.join(", "));
        if aimed.skipped {
            return Applied {
                description: format!(
                    "{} ({}; skipped)",
                    planned.describe(),
                    aim_note.unwrap_or_default()
                ),
                lifecycle: Vec::new(),
                hits: aimed.hits,
                gone: Vec::new(),
            };
        }
        let action = &aimed.action;
        let mut lifecycle = Vec::new();
        let mut gone = Vec::new();
        let mut note = None;
        // Disk and clock faults are state the host's Disk and WallClock
        // read, not turmoil link state.
        crate::host_faults::apply(action, now);
        match action {
            FaultAction::DiskError { .. }
            | FaultAction::DiskFull { .. }
            | FaultAction::DiskCorrupt { .. }
            | FaultAction::DiskSlow { .. }
            | FaultAction::EndDiskFault { .. }
            | FaultAction::ClockJump { .. }
            | FaultAction::ClockDrift { .. }
            | FaultAction::EndClockFault { .. } => {}
            FaultAction::Partition { id, sides } => {
                let sides: Vec<Vec<usize>> = sides.iter().map(|s| self.indices(s)).collect();
                for (i, a) in sides.iter().enumerate() {
                    for b in sides.iter().skip(i + 1) {
                        for &x in a {
                            for &y in b {
                                if x != y {
                                    self.blocks.entry((x, y)).or_default().insert(*id);
                                    self.blocks.entry((y, x)).or_default().insert(*id);
                                }
                            }
                        }
                    }
                }
            }
            FaultAction::Ring { id, order } => {
                let ring = self.indices(order);
                let n = ring.len();
                for i in 0..n {
                    for j in i + 1..n {
                        let neighbours = j == i + 1 || (i == 0 && j == n - 1);
                        if !neighbours {
                            let (x, y) = (ring[i], ring[j]);
                            self.blocks.entry((x, y)).or_default().insert(*id);
                            self.blocks.entry((y, x)).or_default().insert(*id);
                        }
                    }
                }
            }
            FaultAction::PartitionOneway { id, from, to } => {
                for x in self.indices(from) {
                    for y in self.indices(to) {
                        if x != y {
                            self.blocks.entry((x, y)).or_default().insert(*id);
                        }
                    }
                }
            }
            FaultAction::EndPartition { id } => {
                for ids in self.blocks.values_mut() {
                    ids.remove(id);
                }
            }
            FaultAction::HealPartitions => self.blocks.clear(),
            FaultAction::Latency {
                id,
                between,
                latency,
                jitter,
            } => {
                for link in self.links_between(between) {
                    self.latency
                        .entry(link)
                        .or_default()
                        .insert(*id, (*latency, *jitter));
                }
            }
            FaultAction::EndLatency { id } => {
                for faults in self.latency.values_mut() {
                    faults.remove(id);
                }
            }
            FaultAction::Loss { id, between, rate } => {
                for link in self.links_between(between) {
                    self.loss.entry(link).or_default().insert(*id, *rate);
                }
            }
            FaultAction::EndLoss { id } => {
                for faults in self.loss.values_mut() {
                    faults.remove(id);
                }
            }
            FaultAction::Crash { host, .. } => {
                if self.crashed.insert(host.clone()) {
                    sim.crash(host.as_str());
                    lifecycle.push((host.clone(), "crashed".to_string()));
                    gone.push(host.clone());
                } else {
                    note = Some("already down; ignored");
                }
            }
            FaultAction::Restart { host, .. } => {
                if self.crashed.remove(host) {
                    sim.bounce(host.as_str());
                    lifecycle.push((host.clone(), "restarted".to_string()));
                } else {
                    note = Some("not down; ignored");
                }
            }
            FaultAction::Bounce { host, .. } => {
                if self.crashed.contains(host) {
                    note = Some("down; ignored");
                } else {
                    sim.bounce(host.as_str());
                    lifecycle.push((host.clone(), "bounced".to_string()));
                    gone.push(host.clone());
                }
            }
            FaultAction::Pause { host, .. } => {
                let index = self.index(host);
                if self.paused.insert(index) {
                    lifecycle.push((host.clone(), "paused".to_string()));
                } else {
                    note = Some("already paused; ignored");
                }
            }
            FaultAction::Resume { host, .. } => {
                let index = self.index(host);
                if self.paused.remove(&index) {
                    lifecycle.push((host.clone(), "resumed".to_string()));
                } else {
                    note = Some("not paused; ignored");
                }
            }
            FaultAction::HealAll => {
                self.blocks.clear();
                self.latency.clear();
                self.loss.clear();
                for index in std::mem::take(&mut self.paused) {
                    lifecycle.push((self.hosts[index].clone(), "resumed".to_string()));
                }
                for host in std::mem::take(&mut self.crashed) {
                    sim.bounce(host.as_str());
                    lifecycle.push((host, "restarted".to_string()));
                }
            }
        }
        if !action.is_host_fault() {
            self.sync_links(sim);
        }
        let mut description = planned.describe();
        let notes: Vec<&str> = aim_note.iter().map(String::as_str).chain(note).collect();
        if !notes.is_empty() {
            description.push_str(&format!(" ({})", notes.join("; ")));
        }
        Applied {
            description,
            lifecycle,
            hits: aimed.hits,
            gone,
        }
    }

    fn desired(&self, (a, b): (usize, usize)) -> LinkState {
        let blocked = |x, y| self.blocks.get(&(x, y)).is_some_and(|ids| !ids.is_empty());
        let latency = self.latency.get(&(a, b)).and_then(|faults| {
            faults
                .values()
                .copied()
                .max_by_key(|(latency, jitter)| (*latency, *jitter))
        });
        let loss = self.loss.get(&(a, b)).and_then(|faults| {
            faults
                .values()
                .map(|rate| (rate * 1e6).round() as u64)
                .max()
        });
        LinkState {
            held: self.paused.contains(&a) || self.paused.contains(&b),
            block_ab: blocked(a, b),
            block_ba: blocked(b, a),
            latency,
            loss,
        }
    }

    /// Brings every link whose desired state changed into that state.
    fn sync_links(&mut self, sim: &mut Sim<'_>) {
        let links: Vec<(usize, usize)> = self.applied.keys().copied().collect();
        for link in links {
            let want = self.desired(link);
            let have = self.applied[&link];
            if want == have {
                continue;
            }
            let (a, b) = (self.hosts[link.0].as_str(), self.hosts[link.1].as_str());
            if have.held && !want.held {
                // Delivers what was held, like a resumed process reading
                // its socket buffers.
                sim.release(a, b);
            }
            if want.held {
                if !have.held {
                    sim.hold(a, b);
                }
            } else {
                match (want.block_ab, want.block_ba) {
                    (true, true) => sim.partition(a, b),
                    (false, false) => sim.repair(a, b),
                    (true, false) => {
                        sim.repair(a, b);
                        sim.partition_oneway(a, b);
                    }
                    (false, true) => {
                        sim.repair(a, b);
                        sim.partition_oneway(b, a);
                    }
                }
            }
            if want.latency != have.latency {
                let (latency, jitter) = want
                    .latency
                    .unwrap_or((self.base_latency, self.base_jitter));
                sim.set_link_latency(a, b, latency);
                sim.set_link_max_message_latency(a, b, latency + jitter);
            }
            if want.loss != have.loss {
                sim.set_link_fail_rate(a, b, want.loss.unwrap_or(0) as f64 / 1e6);
            }
            self.applied.insert(link, want);
        }
    }
}
