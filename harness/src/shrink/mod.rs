//! Shrinking: from a failing seed to the smallest scenario that still
//! fails the same way.
//!
//! First the seed's plan is written out as explicit, hand-written fault
//! events (random choices already made), which reproduces the failure with
//! the same seed. Then, keeping whatever still fails with the same
//! invariant, the shrinker removes fault events (delta debugging: halves,
//! then quarters, … of the list, then single events), shortens each
//! remaining fault, and trims clients, keys and the workload's duration —
//! in rounds, again while a round still made something smaller, because a
//! smaller workload can make a fault unnecessary.
//! Every candidate is a full deterministic run, so the result is itself a
//! scenario file that `chaos replay FILE --seed S` reproduces. Bounded by
//! a number of runs; what it has when the budget ends is still a valid,
//! failing scenario.
//!
//! [`crate::plan::explicit_events`] writes a plan out as hand-written
//! events (the explorer needs it too, so it lives below both); this module
//! runs the candidates.

pub use crate::plan::explicit_events;
use crate::plan::{to_tick, with_duration};

use crate::check::Status;
use crate::scenario::{validate, FaultEventSpec, Scenario};
use crate::suite::{execute, ExecOptions, LoadedScenario};
use crate::target::Registry;
use serde::Serialize;
use std::time::Duration;

/// Default cap on candidate runs per shrink.
pub const DEFAULT_MAX_RUNS: usize = 300;

/// How big a failing run is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Size {
    pub fault_events: usize,
    /// Sum of the faults' durations (instant faults count zero).
    #[serde(with = "crate::duration::serde_text")]
    pub fault_time: Duration,
    pub clients: u32,
    pub keys: u32,
    #[serde(with = "crate::duration::serde_text")]
    pub duration: Duration,
    pub operations: u64,
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::report::counted;
        write!(
            f,
            "{} ({} of faults), {}, {}, {} workload, {}",
            counted(self.fault_events as u64, "fault event"),
            crate::duration::human(self.fault_time),
            counted(u64::from(self.clients), "client"),
            counted(u64::from(self.keys), "key"),
            crate::duration::human(self.duration),
            counted(self.operations, "operation")
        )
    }
}

/// The outcome of a shrink.
#[derive(Clone, Debug)]
pub struct Shrunk {
    pub scenario: Scenario,
    pub seed: u64,
    /// The invariant that fails before and after.
    pub invariant: String,
    pub before: Size,
    pub after: Size,
    pub runs: usize,
}

fn fault_time(events: &[FaultEventSpec]) -> Duration {
    events.iter().filter_map(FaultEventSpec::duration).sum()
}

/// Runs candidates and remembers how many it ran.
struct Oracle<'a> {
    registry: &'a Registry,
    seed: u64,
    invariant: String,
    runs: usize,
    max_runs: usize,
}

impl Oracle<'_> {
    fn exhausted(&self) -> bool {
        self.runs >= self.max_runs
    }

    /// Whether `scenario` still fails `invariant`, and its operation count.
    fn fails(&mut self, scenario: &Scenario) -> Option<u64> {
        if self.exhausted() {
            return None;
        }
        let prepared = validate(scenario, self.registry).ok()?;
        self.runs += 1;
        let loaded = LoadedScenario {
            scenario: scenario.clone(),
            path: None,
            overrides: Vec::new(),
            prepared,
        };
        let run = execute(&loaded, self.seed, &ExecOptions::default());
        run.report
            .verdicts
            .iter()
            .any(|v| v.status == Status::Fail && v.invariant == self.invariant)
            .then_some(run.report.history.operations)
    }
}

/// Why a seed with no failed invariant cannot be shrunk: it passed, or
/// some invariant could not be decided — which is not a pass, and not a
/// failure the shrinker could keep failing either.
fn nothing_to_shrink(name: &str, seed: u64, report: &crate::report::RunReport) -> String {
    let unknown: Vec<String> = report
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Unknown)
        .map(|v| format!("{}: {}", v.invariant, v.summary))
        .collect();
    if unknown.is_empty() {
        return format!("seed {seed} of {name} passes: nothing to shrink");
    }
    format!(
        "seed {seed} of {name} did not fail, but it did not pass either: {} (unknown). Shrinking keeps a failed invariant failing, so there is nothing to shrink until the verdict is decided: raise the budget or knob it names, then shrink again",
        unknown.join("; ")
    )
}

fn size(scenario: &Scenario, operations: u64) -> Size {
    Size {
        fault_events: scenario.faults.events.len(),
        fault_time: fault_time(&scenario.faults.events),
        clients: scenario.workload.clients,
        keys: scenario.workload.keys,
        duration: scenario.simulation.duration,
        operations,
    }
}

/// Shrinks a failing seed of `loaded`.
pub fn shrink(
    loaded: &LoadedScenario,
    seed: u64,
    registry: &Registry,
    max_runs: usize,
) -> Result<Shrunk, String> {
    if max_runs == 0 {
        return Err(
            "--max-runs 0 leaves no run to check that the seed's explicit plan reproduces its failure: give at least 1"
                .into(),
        );
    }
    let original = execute(loaded, seed, &ExecOptions::default());
    let failed: Vec<&str> = original
        .report
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .map(|v| v.invariant.as_str())
        .collect();
    // Prefer a real invariant over the bare "the run did not complete".
    let invariant = failed
        .iter()
        .find(|i| **i != "run")
        .or(failed.first())
        .ok_or_else(|| nothing_to_shrink(&loaded.scenario.name, seed, &original.report))?
        .to_string();

    let mut current = loaded.scenario.clone();
    current.faults.random = None;
    current.faults.events = explicit_events(&original.plan, &original.record.fault_hits)?;
    // A random plan may draw the seed's jitter; without it the seed's
    // message races would resolve differently.
    current.network.jitter = original.plan.jitter;
    current.name = format!("{}-seed-{seed}-shrunk", loaded.scenario.name);
    current.description = format!(
        "{} seed {seed}, shrunk: still fails {invariant}",
        loaded.scenario.name
    );
    current.seeds = 1;
    let before = size(&current, original.report.history.operations);

    let mut oracle = Oracle {
        registry,
        seed,
        invariant: invariant.clone(),
        runs: 0,
        max_runs,
    };
    let mut operations = oracle.fails(&current).ok_or_else(|| {
        format!("the explicit plan of seed {seed} does not reproduce the {invariant} failure")
    })?;

    // Each pass can open the way for another: a fault that was needed with
    // eight clients may not be with one. So the passes repeat until a
    // whole round changes nothing (or the run budget ends).
    loop {
        let fewer_events = remove_events(&mut current, &mut operations, &mut oracle);
        let shorter = shorten_faults(&mut current, &mut operations, &mut oracle);
        let smaller = trim_workload(&mut current, &mut operations, &mut oracle);
        if !(fewer_events || shorter || smaller) || oracle.exhausted() {
            break;
        }
    }

    let after = size(&current, operations);
    Ok(Shrunk {
        scenario: current,
        seed,
        invariant,
        before,
        after,
        runs: oracle.runs,
    })
}

/// Fewer fault events: delta debugging over the list (halves, then
/// quarters, … then single events). True if any was removed.
fn remove_events(current: &mut Scenario, operations: &mut u64, oracle: &mut Oracle) -> bool {
    let mut changed = false;
    let mut chunk = current.faults.events.len().div_ceil(2).max(1);
    while !current.faults.events.is_empty() && !oracle.exhausted() {
        let mut removed_any = false;
        let mut start = 0;
        while start < current.faults.events.len() {
            let mut candidate = current.clone();
            let end = (start + chunk).min(candidate.faults.events.len());
            candidate.faults.events.drain(start..end);
            if let Some(ops) = oracle.fails(&candidate) {
                *current = candidate;
                *operations = ops;
                removed_any = true;
                changed = true;
            } else {
                start += chunk;
            }
        }
        if chunk == 1 && !removed_any {
            break;
        }
        chunk = if removed_any { chunk } else { chunk / 2 };
        if chunk == 0 {
            break;
        }
    }
    changed
}

/// Shorter faults: each duration halved while the failure holds.
fn shorten_faults(current: &mut Scenario, operations: &mut u64, oracle: &mut Oracle) -> bool {
    let mut changed = false;
    for i in 0..current.faults.events.len() {
        while let Some(d) = current.faults.events[i].duration() {
            let shorter = to_tick(d / 2, current.simulation.tick);
            if shorter >= d || shorter < current.simulation.tick || oracle.exhausted() {
                break;
            }
            let mut candidate = current.clone();
            candidate.faults.events[i] = with_duration(&candidate.faults.events[i], shorter);
            match oracle.fails(&candidate) {
                Some(ops) => {
                    *current = candidate;
                    *operations = ops;
                    changed = true;
                }
                None => break,
            }
        }
    }
    changed
}

/// Fewer clients, keys, and a shorter workload.
fn trim_workload(current: &mut Scenario, operations: &mut u64, oracle: &mut Oracle) -> bool {
    let mut changed = false;
    let mut try_change = |change: &dyn Fn(&mut Scenario) -> bool| loop {
        let mut candidate = current.clone();
        if !change(&mut candidate) || oracle.exhausted() {
            return;
        }
        match oracle.fails(&candidate) {
            Some(ops) => {
                *current = candidate;
                *operations = ops;
                changed = true;
            }
            None => return,
        }
    };
    try_change(&|s| {
        if s.workload.clients <= 1 {
            return false;
        }
        s.workload.clients /= 2;
        s.workload.client_hosts = s.workload.client_hosts.min(s.workload.clients);
        true
    });
    try_change(&|s| {
        if s.workload.keys <= 1 {
            return false;
        }
        s.workload.keys /= 2;
        true
    });
    try_change(&|s| {
        let last_fault = s
            .faults
            .events
            .iter()
            .map(|e| e.at() + e.duration().unwrap_or_default())
            .max()
            .unwrap_or_default();
        let cut = s.simulation.duration.saturating_sub(last_fault) / 2;
        if cut < Duration::from_millis(100) {
            return false;
        }
        s.simulation.duration = to_tick(s.simulation.duration - cut, Duration::from_millis(100));
        true
    });
    changed
}

/// The shrunk scenario as a file: a header saying where it came from and
/// how to replay it, then the scenario in TOML.
pub fn to_file(shrunk: &Shrunk, source: &str, out: &str) -> Result<String, String> {
    let body = toml::to_string(&shrunk.scenario).map_err(|e| format!("cannot write TOML: {e}"))?;
    Ok(format!(
        "# Shrunk by `chaos shrink` from {source} seed {seed}: it still fails `{invariant}`.\n\
         # Before: {before}\n\
         # After:  {after}\n\
         # Replay: {program} replay {out} --seed {seed}\n\n{body}",
        program = crate::report::replay_program(),
        out = crate::report::shell_word(out),
        seed = shrunk.seed,
        invariant = shrunk.invariant,
        before = shrunk.before,
        after = shrunk.after,
    ))
}
