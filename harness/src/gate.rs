//! The planted-bug gate: proof that the suite catches what it claims to.
//!
//! Every target declares realistic bugs it can switch on through its
//! settings ([`crate::target::PlantedBug`]). The gate runs each bug against
//! every bundled scenario of its target, seed by seed from 0, and records
//! the first seed that fails, which scenario failed it, and which
//! invariants caught it. A bug is *caught* when some scenario fails within
//! the seed limit with the invariant the target says should catch it; the
//! gate passes when every bug is caught.

use crate::check::Status;
use crate::scenario::{apply_overrides, validate};
use crate::suite::{run_jobs, ExecOptions, Job, LoadedScenario};
use crate::target::Registry;
use serde::{Deserialize, Serialize};

/// Seeds tried per (bug, scenario) by default.
pub const DEFAULT_MAX_SEEDS: u64 = 200;

/// How one bug fared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BugResult {
    pub target: String,
    pub bug: String,
    pub description: String,
    /// The invariant the target expects to catch it.
    pub expected: String,
    /// The scenario and seed that caught it first, if any.
    pub caught: Option<Catch>,
}

/// The first failure of a bug.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Catch {
    pub scenario: String,
    pub seed: u64,
    /// Seeds run on that scenario up to and including the failing one.
    pub seeds_needed: u64,
    /// Invariants that failed on that seed.
    pub invariants: Vec<String>,
    /// `chaos` arguments that replay it.
    pub replay: String,
}

impl BugResult {
    /// Caught by the invariant the target said would catch it.
    pub fn caught_as_expected(&self) -> bool {
        self.caught
            .as_ref()
            .is_some_and(|c| c.invariants.contains(&self.expected))
    }
}

/// Runs every planted bug of `targets` (all if empty) against `scenarios`.
pub fn run(
    registry: &Registry,
    scenarios: &[LoadedScenario],
    targets: &[String],
    max_seeds: u64,
    threads: usize,
) -> Vec<BugResult> {
    let mut results = Vec::new();
    for target in registry.targets() {
        if !targets.is_empty() && !targets.iter().any(|t| t == target.name()) {
            continue;
        }
        for bug in target.planted_bugs() {
            let overrides: Vec<String> = bug.overrides.iter().map(|s| s.to_string()).collect();
            let candidates: Vec<LoadedScenario> = scenarios
                .iter()
                .filter(|l| l.scenario.target.system == target.name())
                .filter_map(|l| with_overrides(l, &overrides, registry))
                .collect();
            let best = first_failure(&candidates, bug.caught_by, max_seeds, threads);
            results.push(BugResult {
                target: target.name().to_string(),
                bug: bug.name.to_string(),
                description: bug.description.to_string(),
                expected: bug.caught_by.to_string(),
                caught: best,
            });
        }
    }
    results
}

fn with_overrides(
    loaded: &LoadedScenario,
    overrides: &[String],
    registry: &Registry,
) -> Option<LoadedScenario> {
    let scenario = apply_overrides(&loaded.scenario, overrides).ok()?;
    let prepared = validate(&scenario, registry).ok()?;
    Some(LoadedScenario {
        scenario,
        path: loaded.path.clone(),
        overrides: overrides.to_vec(),
        prepared,
    })
}

/// The lowest seed below `limit` over all `scenarios` that fails with the
/// `expected` invariant, searched in windows of seeds run on every
/// scenario at once, so every core is busy, the scenario that catches the
/// bug soonest wins, and little is run past the first catch. Ties go to
/// the scenario listed first. A seed failing only other invariants does not
/// end the search (a scenario written for another kind of operation may
/// trip over the bug first); it is the answer only when no seed fails as
/// expected.
fn first_failure(
    scenarios: &[LoadedScenario],
    expected: &str,
    limit: u64,
    threads: usize,
) -> Option<Catch> {
    if scenarios.is_empty() {
        return None;
    }
    let window = ((threads.max(1) * 2) / scenarios.len()).max(1) as u64;
    let mut start = 0;
    let mut fallback = None;
    while start < limit {
        let end = (start + window).min(limit);
        let jobs: Vec<Job> = (start..end)
            .flat_map(|seed| (0..scenarios.len()).map(move |scenario| Job { scenario, seed }))
            .collect();
        let results = run_jobs(
            scenarios,
            &jobs,
            threads,
            &ExecOptions::default(),
            None,
            |_| {},
        );
        let order = |name: &str| scenarios.iter().position(|l| l.scenario.name == name);
        let first = |as_expected: bool| {
            results
                .iter()
                .filter(|r| r.status == Status::Fail)
                .filter(|r| !as_expected || r.failed.iter().any(|i| i == expected))
                .min_by_key(|r| (r.seed, order(&r.scenario)))
                // Only verdicts that failed: an invariant left `unknown`
                // on that seed did not catch anything.
                .map(|failed| Catch {
                    scenario: failed.scenario.clone(),
                    seed: failed.seed,
                    seeds_needed: failed.seed + 1,
                    invariants: failed.failed.clone(),
                    replay: failed.replay.clone(),
                })
        };
        if let Some(catch) = first(true) {
            return Some(catch);
        }
        if fallback.is_none() {
            fallback = first(false);
        }
        start = end;
    }
    fallback
}

/// The gate's table, for the terminal and closing notes.
pub fn table(results: &[BugResult]) -> String {
    let mut out = String::from(
        "| target | bug | expected checker | caught by | scenario | first failing seed | seeds needed |\n\
         |---|---|---|---|---|---:|---:|\n",
    );
    for r in results {
        match &r.caught {
            Some(c) => out.push_str(&format!(
                "| {} | {} | {} | {}{} | {} | {} | {} |\n",
                r.target,
                r.bug,
                r.expected,
                c.invariants.join(", "),
                if r.caught_as_expected() {
                    ""
                } else {
                    " (not the expected one)"
                },
                c.scenario,
                c.seed,
                c.seeds_needed
            )),
            None => out.push_str(&format!(
                "| {} | {} | {} | NOT CAUGHT | - | - | - |\n",
                r.target, r.bug, r.expected
            )),
        }
    }
    out
}

/// How one bug fared on one of its target's generic swarm scenarios: the
/// bundled scenarios of the target named `*-swarm`, which were written
/// without any bug in mind. A user who does not know where their bugs are
/// relies on those, so the gate measures them too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwarmResult {
    pub target: String,
    pub bug: String,
    pub scenario: String,
    /// Seeds run: 0..seeds.
    pub seeds: u64,
    /// Of those, how many failed.
    pub failed: u64,
    /// The lowest failing seed, and the invariants that failed on it.
    pub first: Option<(u64, Vec<String>)>,
}

/// Whether a scenario is one of its target's generic swarm scenarios.
pub fn is_generic_swarm(loaded: &LoadedScenario) -> bool {
    loaded.scenario.name.ends_with("-swarm")
}

/// Runs every planted bug of `targets` (all if empty) on seeds 0..`seeds`
/// of each of its target's generic swarm scenarios, every seed (so the
/// count of failing seeds is exact).
pub fn run_swarm(
    registry: &Registry,
    scenarios: &[LoadedScenario],
    targets: &[String],
    seeds: u64,
    threads: usize,
) -> Vec<SwarmResult> {
    let mut results = Vec::new();
    for target in registry.targets() {
        if !targets.is_empty() && !targets.iter().any(|t| t == target.name()) {
            continue;
        }
        for bug in target.planted_bugs() {
            let overrides: Vec<String> = bug.overrides.iter().map(|s| s.to_string()).collect();
            for loaded in scenarios
                .iter()
                .filter(|l| l.scenario.target.system == target.name() && is_generic_swarm(l))
            {
                let Some(buggy) = with_overrides(loaded, &overrides, registry) else {
                    continue;
                };
                let jobs: Vec<Job> = (0..seeds).map(|seed| Job { scenario: 0, seed }).collect();
                let runs = run_jobs(
                    std::slice::from_ref(&buggy),
                    &jobs,
                    threads,
                    &ExecOptions::default(),
                    None,
                    |_| {},
                );
                let failing: Vec<_> = runs.iter().filter(|r| r.status == Status::Fail).collect();
                let first = failing
                    .iter()
                    .min_by_key(|r| r.seed)
                    .map(|r| (r.seed, r.failed.clone()));
                results.push(SwarmResult {
                    target: target.name().to_string(),
                    bug: bug.name.to_string(),
                    scenario: buggy.scenario.name.clone(),
                    seeds,
                    failed: failing.len() as u64,
                    first,
                });
            }
        }
    }
    results
}

/// The swarm rows, for the terminal and closing notes.
pub fn swarm_table(results: &[SwarmResult]) -> String {
    let mut out = String::from(
        "| target | bug | swarm scenario | failing seeds | first failing seed | caught by |\n\
         |---|---|---|---:|---:|---|\n",
    );
    for r in results {
        let (first, by) = match &r.first {
            Some((seed, invariants)) => (seed.to_string(), invariants.join(", ")),
            None => ("-".to_string(), "NOT CAUGHT".to_string()),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} of {} | {} | {} |\n",
            r.target, r.bug, r.scenario, r.failed, r.seeds, first, by
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swarm_row_says_how_many_seeds_failed_and_the_first() {
        let row = |first: Option<(u64, Vec<String>)>| SwarmResult {
            target: "kv".into(),
            bug: "stale-read".into(),
            scenario: "kv-swarm".into(),
            seeds: 200,
            failed: if first.is_some() { 44 } else { 0 },
            first,
        };
        let table = swarm_table(&[row(Some((10, vec!["linearizable".into()]))), row(None)]);
        assert!(table.contains("| kv | stale-read | kv-swarm | 44 of 200 | 10 | linearizable |"));
        assert!(table.contains("| kv | stale-read | kv-swarm | 0 of 200 | - | NOT CAUGHT |"));
    }
}
