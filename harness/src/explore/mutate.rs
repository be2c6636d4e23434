//! Mutations: a new candidate from a corpus entry.
//!
//! Model: an entry is explicit fault events, a jitter and a workload seed.
//! A mutation stacks one to three edits: add a fault (one drawn from the
//! scenario's own random plan for a fresh seed, so only kinds and
//! parameters the scenario allows appear), drop one, shift one in time,
//! lengthen one, aim one at another server or at a role, change the
//! workload seed, or splice the entry with another (this one's faults
//! before a cut, the other's after). Every fault stays inside the
//! scenario's fault window (from the random plan's `start` to `recovery`
//! before the end), so the quiet time the checkers count on is kept.

use super::corpus::Entry;
use crate::fault::ROLE_PREFIX;
use crate::plan::{expand, explicit_events, to_tick};
use crate::scenario::FaultEventSpec;
use crate::suite::LoadedScenario;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// Cap on the fault events of one candidate; `add` does nothing beyond.
pub const MAX_EVENTS: usize = 64;

/// What mutations need to know about the scenario.
pub struct Space<'a> {
    pub base: &'a LoadedScenario,
    /// Faults start at or after this…
    pub start: Duration,
    /// …and are over by this.
    pub horizon: Duration,
    pub tick: Duration,
    /// Where `retarget` may aim: every server, and `role:R` for every role
    /// a run has reported so far.
    pub targets: Vec<String>,
}

impl<'a> Space<'a> {
    pub fn new(base: &'a LoadedScenario) -> Space<'a> {
        let s = &base.scenario;
        let (start, recovery) = s
            .faults
            .random
            .as_ref()
            .map_or((Duration::ZERO, Duration::ZERO), |r| (r.start, r.recovery));
        let horizon = s.simulation.duration.saturating_sub(recovery).max(start);
        Space {
            base,
            start,
            horizon,
            tick: s.simulation.tick,
            targets: base.prepared.topology.servers.clone(),
        }
    }

    /// Adds `role:R` as a retarget choice (kept sorted, no repeats).
    pub fn learn_role(&mut self, role: &str) {
        let target = format!("{ROLE_PREFIX}{role}");
        if let Err(i) = self.targets.binary_search(&target) {
            self.targets.insert(i, target);
        }
    }

    /// Puts a fault back inside the window: start within it, end by its
    /// horizon, times on the tick.
    fn clamp(&self, spec: &mut FaultEventSpec) {
        let last_start = self.horizon.saturating_sub(self.tick).max(self.start);
        let at = to_tick((*spec.at_mut()).clamp(self.start, last_start), self.tick);
        *spec.at_mut() = at;
        let room = self.horizon.saturating_sub(at).max(self.tick);
        if let Some(Some(d)) = spec.duration_mut() {
            *d = to_tick((*d).min(room).max(self.tick), self.tick).min(room.max(self.tick));
        }
    }

    /// One fault from the scenario's random plan for a fresh seed.
    fn donor(&self, rng: &mut ChaCha8Rng) -> Option<FaultEventSpec> {
        let plan = expand(
            &self.base.scenario,
            &self.base.prepared.topology,
            rng.random(),
        );
        // No run, so no role hits: a role-aimed fault drops out here, and
        // `retarget` puts role aims back.
        let events = explicit_events(&plan, &[]).ok()?;
        if events.is_empty() {
            return None;
        }
        Some(events[rng.random_range(0..events.len())].clone())
    }
}

/// A mutated entry: events, jitter, seed, and the edits' names.
pub struct Mutant {
    pub events: Vec<FaultEventSpec>,
    pub jitter: Duration,
    pub seed: u64,
    pub mutation: String,
}

/// Stacks one to three edits on `entry`; `other` is the splice partner.
pub fn mutate(entry: &Entry, other: &Entry, space: &Space, rng: &mut ChaCha8Rng) -> Mutant {
    let mut m = Mutant {
        events: entry.events.clone(),
        jitter: entry.jitter,
        seed: entry.seed,
        mutation: String::new(),
    };
    let edits = rng.random_range(1..=3);
    let mut names = Vec::new();
    for _ in 0..edits {
        names.push(edit(&mut m, other, space, rng));
    }
    m.events.sort_by_key(FaultEventSpec::at);
    m.mutation = names.join("+");
    m
}

fn edit(m: &mut Mutant, other: &Entry, space: &Space, rng: &mut ChaCha8Rng) -> &'static str {
    let n = m.events.len();
    match rng.random_range(0..10) {
        0..=1 if n < MAX_EVENTS => {
            if let Some(mut spec) = space.donor(rng) {
                *spec.at_mut() = random_time(space, rng);
                space.clamp(&mut spec);
                m.events.push(spec);
                return "add";
            }
            reseed(m, rng)
        }
        2 if n > 0 => {
            m.events.remove(rng.random_range(0..n));
            "drop"
        }
        3..=4 if n > 0 => {
            let spec = &mut m.events[rng.random_range(0..n)];
            let by = Duration::from_millis(rng.random_range(50..3000));
            let at = *spec.at_mut();
            *spec.at_mut() = if rng.random_bool(0.5) {
                at + by
            } else {
                at.saturating_sub(by)
            };
            space.clamp(spec);
            "shift"
        }
        5 if n > 0 => {
            let spec = &mut m.events[rng.random_range(0..n)];
            let factor = rng.random_range(1.5..3.0);
            match spec.duration_mut() {
                Some(Some(d)) => *d = d.mul_f64(factor),
                _ => return reseed(m, rng),
            }
            space.clamp(spec);
            "lengthen"
        }
        6 if n > 0 => {
            let aimable: Vec<usize> = (0..n)
                .filter(|&i| m.events[i].host_mut().is_some())
                .collect();
            if aimable.is_empty() || space.targets.is_empty() {
                return reseed(m, rng);
            }
            let i = aimable[rng.random_range(0..aimable.len())];
            let target = space.targets[rng.random_range(0..space.targets.len())].clone();
            if let Some(host) = m.events[i].host_mut() {
                *host = target;
            }
            "retarget"
        }
        7 => {
            let cut = random_time(space, rng);
            m.events.retain(|e| e.at() < cut);
            m.events
                .extend(other.events.iter().filter(|e| e.at() >= cut).cloned());
            m.events.truncate(MAX_EVENTS);
            "splice"
        }
        _ => reseed(m, rng),
    }
}

fn reseed(m: &mut Mutant, rng: &mut ChaCha8Rng) -> &'static str {
    m.seed = rng.random();
    "reseed"
}

fn random_time(space: &Space, rng: &mut ChaCha8Rng) -> Duration {
    let span = space.horizon.saturating_sub(space.start).as_millis() as u64;
    space.start + Duration::from_millis(rng.random_range(0..=span))
}
