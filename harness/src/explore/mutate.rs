//! Mutations: a new candidate from a corpus entry.
//!
//! Model: an entry is explicit fault events, a jitter and a workload seed.
//! A mutation stacks one to three edits: add a fault (one drawn from the
//! scenario's own random plan for a fresh seed, so only kinds and
//! parameters the scenario allows appear, together with the faults that
//! plan put on the same host while it lasts, such as the restart paired
//! with a disk fault), drop one, shift one in time,
//! lengthen one, aim one at another server or at a role, change the
//! workload seed, or splice the entry with another (this one's faults
//! before a cut, the other's after). Every fault stays inside the
//! scenario's fault window (from the random plan's `start` to `recovery`
//! before the end), so the quiet time the checkers count on is kept, and
//! every crash and pause has an end (`end_every_fault`).

use super::corpus::Entry;
use crate::fault::ROLE_PREFIX;
use crate::plan::{expand, explicit_events_keeping_roles, to_tick};
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

    /// One fault from the scenario's random plan for a fresh seed, with the
    /// faults the plan put on the same host while it lasts (the restart a
    /// disk fault is paired with, say): a fault alone would lose what the
    /// planner correlated. The first event is the one drawn.
    fn donor(&self, rng: &mut ChaCha8Rng) -> Vec<FaultEventSpec> {
        let plan = expand(
            &self.base.scenario,
            &self.base.prepared.topology,
            rng.random(),
        );
        // Role-aimed faults stay aimed at the role: the donor fault lands
        // on whoever holds it when it fires in the mutant's run.
        let Ok(events) = explicit_events_keeping_roles(&plan) else {
            return Vec::new();
        };
        if events.is_empty() {
            return Vec::new();
        }
        let i = rng.random_range(0..events.len());
        with_companions(events, i)
    }
}

/// Event `i` of `events`, then every other event on the same host that
/// starts while it lasts.
fn with_companions(mut events: Vec<FaultEventSpec>, i: usize) -> Vec<FaultEventSpec> {
    let drawn = events.remove(i);
    let start = drawn.at();
    let end = start + drawn.duration().unwrap_or_default();
    let host = host_of(&drawn);
    let mut chunk = vec![drawn];
    if host.is_some() {
        chunk.extend(
            events
                .into_iter()
                .filter(|e| host_of(e) == host && e.at() >= start && e.at() < end),
        );
    }
    chunk
}

/// The one host a fault event names, if it names one.
fn host_of(spec: &FaultEventSpec) -> Option<String> {
    spec.clone().host_mut().cloned()
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
    end_every_fault(&mut m.events, space.horizon, space.tick);
    m.mutation = names.join("+");
    m
}

fn edit(m: &mut Mutant, other: &Entry, space: &Space, rng: &mut ChaCha8Rng) -> &'static str {
    let n = m.events.len();
    match rng.random_range(0..10) {
        0..=1 if n < MAX_EVENTS => {
            let chunk = space.donor(rng);
            let Some(first) = chunk.first() else {
                return reseed(m, rng);
            };
            // The chunk moves as one: its first fault to a random time.
            let to = random_time(space, rng);
            let from = first.at();
            for mut spec in chunk.into_iter().take(MAX_EVENTS - n) {
                let at = spec.at();
                *spec.at_mut() = to + at.saturating_sub(from);
                space.clamp(&mut spec);
                m.events.push(spec);
            }
            "add"
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

/// Gives every crash and pause an end. A start written without a duration
/// waits for a separate restart (resume) event, and an edit can drop, shift
/// or splice that end away, leaving the host down to the end of the run: a
/// "failure" no correct system can avoid. Such a start takes the first
/// later end of its host as its duration (the end is folded into it), or
/// else lasts to the horizon. `events` are sorted by time.
fn end_every_fault(events: &mut Vec<FaultEventSpec>, horizon: Duration, tick: Duration) {
    let mut i = 0;
    while i < events.len() {
        let (at, host, is_crash) = match &events[i] {
            FaultEventSpec::Crash {
                at,
                duration: None,
                host,
                ..
            } => (*at, host.clone(), true),
            FaultEventSpec::Pause {
                at,
                duration: None,
                host,
                ..
            } => (*at, host.clone(), false),
            _ => {
                i += 1;
                continue;
            }
        };
        let ends_it = |e: &FaultEventSpec| {
            ending(e)
                .is_some_and(|(restart, h)| restart == is_crash && (h == host || h == "servers"))
        };
        let end = events[i + 1..].iter().position(ends_it).map(|j| i + 1 + j);
        let until = match end {
            Some(j) => {
                let until = events[j].at();
                // A group end also ends the other hosts' faults: keep it.
                if ending(&events[j]).is_some_and(|(_, h)| h == host) {
                    events.remove(j);
                }
                until
            }
            None => horizon,
        };
        if let Some(duration) = events[i].duration_mut() {
            *duration = Some(until.saturating_sub(at).max(tick));
        }
        i += 1;
    }
}

/// What a restart (`true`) or resume (`false`) event ends, and on which
/// host.
fn ending(spec: &FaultEventSpec) -> Option<(bool, &str)> {
    match spec {
        FaultEventSpec::Restart { host, .. } => Some((true, host)),
        FaultEventSpec::Resume { host, .. } => Some((false, host)),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_donor_fault_brings_the_faults_on_its_host_while_it_lasts() {
        let s = Duration::from_secs;
        let crash = |at: u64, host: &str| FaultEventSpec::Crash {
            at: s(at),
            duration: Some(s(1)),
            host: host.into(),
            spread: None,
        };
        let corrupt = FaultEventSpec::DiskCorrupt {
            at: s(2),
            duration: Some(s(3)),
            host: "n1".into(),
            probability: 0.5,
        };
        let events = vec![
            crash(1, "n1"),
            corrupt.clone(),
            crash(3, "n1"),
            crash(3, "n2"),
            crash(6, "n1"),
        ];
        assert_eq!(
            with_companions(events.clone(), 1),
            vec![corrupt, crash(3, "n1")]
        );
        // A crash lasts a second: nothing else on n1 starts within it.
        assert_eq!(with_companions(events, 0), vec![crash(1, "n1")]);
    }

    #[test]
    fn a_crash_or_pause_left_open_by_an_edit_gets_an_end() {
        let s = Duration::from_secs;
        let tick = Duration::from_millis(2);
        let crash = |at: u64, host: &str| FaultEventSpec::Crash {
            at: s(at),
            duration: None,
            host: host.into(),
            spread: None,
        };
        let pause = |at: u64, duration: Option<Duration>| FaultEventSpec::Pause {
            at: s(at),
            duration,
            host: "n2".into(),
            spread: None,
        };
        let restart = |at: u64, host: &str| FaultEventSpec::Restart {
            at: s(at),
            host: host.into(),
        };
        let mut events = vec![
            crash(1, "n1"),
            crash(2, "n3"),
            pause(3, None),
            restart(4, "n2"),
            restart(5, "n1"),
            restart(6, "servers"),
        ];
        end_every_fault(&mut events, s(10), tick);
        let with = |spec: FaultEventSpec, d: u64| {
            let mut spec = spec;
            *spec.duration_mut().unwrap() = Some(s(d));
            spec
        };
        assert_eq!(
            events,
            vec![
                // Its own restart is folded in.
                with(crash(1, "n1"), 4),
                // The group restart ends it and stays for the others.
                with(crash(2, "n3"), 4),
                // A restart does not end a pause: it lasts to the horizon.
                pause(3, Some(s(7))),
                restart(4, "n2"),
                restart(6, "servers"),
            ]
        );
    }
}
