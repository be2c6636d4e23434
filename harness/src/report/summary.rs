//! What a suite run leaves behind: one [`SeedResult`] per seed
//! (`results.json`, enough to merge shards) and the [`SuiteSummary`]
//! derived from them (`summary.json`, and the Markdown and JUnit views).
//! Plain data, computed from results alone, so a merged report is the
//! report a single machine would have written.

use super::recovery_tally::{RecoveryTallies, ScenarioRecoverySummary};
pub use super::seed_results::{SeedResult, SeedResults};
use crate::assertions::sweep::{satisfied_seeds, AssertionTally, Tallies};
use crate::check::Status;
use crate::coverage::ScenarioCoverage;
use crate::scenario::CoverageRequirement;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every seed of a suite run, as written to `results.json`: enough to
/// rebuild the summary and its views, so shards can be merged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuiteResults {
    pub harness_version: String,
    /// Coverage requirements per scenario.
    #[serde(default)]
    pub requirements: BTreeMap<String, Vec<CoverageRequirement>>,
    /// Seeds scheduled but not run (a time budget ran out).
    #[serde(default)]
    pub not_run: u64,
    /// `not_run` per scenario (scenarios with none left out): JUnit counts
    /// them as each suite's `skipped`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_run_by_scenario: BTreeMap<String, u64>,
    /// The run was stopped by an interrupt (SIGINT) before it finished:
    /// what ran is reported, and the suite is not green.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Every seed's recovery measures, folded per scenario and fault kind
    /// (the seeds in `results` no longer carry them).
    #[serde(default, skip_serializing_if = "RecoveryTallies::is_empty")]
    pub recovery: RecoveryTallies,
    pub results: SeedResults,
}

impl SuiteResults {
    /// Combines shards: results are concatenated and sorted by scenario
    /// then seed. A seed present twice with the same outcome is kept once;
    /// one present twice with a different status or trace hash, or shards
    /// written by different harness versions, are an error naming them,
    /// since no order of the inputs would make one of them right.
    pub fn merge(parts: Vec<SuiteResults>) -> Result<SuiteResults, String> {
        let mut requirements = BTreeMap::new();
        let mut results: BTreeMap<(String, u64), SeedResult> = BTreeMap::new();
        let mut not_run = 0;
        let mut not_run_by_scenario: BTreeMap<String, u64> = BTreeMap::new();
        let mut conflicts = Vec::new();
        let mut interrupted = false;
        let mut recovery = RecoveryTallies::default();
        // Scenarios with a seed in two parts: their tallies would count it
        // twice.
        let mut overlap: Vec<String> = Vec::new();
        for part in parts {
            if part.harness_version != super::HARNESS_VERSION {
                return Err(format!(
                    "a shard was written by harness {}, this is {}: run every shard with the same version",
                    part.harness_version,
                    super::HARNESS_VERSION
                ));
            }
            requirements.extend(part.requirements);
            not_run += part.not_run;
            for (scenario, n) in part.not_run_by_scenario {
                *not_run_by_scenario.entry(scenario).or_default() += n;
            }
            interrupted |= part.interrupted;
            recovery.merge(&part.recovery);
            for r in part.results.iter() {
                match results.get(&(r.scenario.clone(), r.seed)) {
                    Some(seen) if seen.status != r.status || seen.trace_hash != r.trace_hash => {
                        conflicts.push(format!(
                            "{} seed {}: {} (trace {}) and {} (trace {})",
                            r.scenario,
                            r.seed,
                            seen.status.as_str(),
                            seen.trace_hash,
                            r.status.as_str(),
                            r.trace_hash
                        ));
                    }
                    Some(_) => {
                        if !overlap.contains(&r.scenario) {
                            overlap.push(r.scenario.clone());
                        }
                    }
                    None => {
                        results.insert((r.scenario.clone(), r.seed), r);
                    }
                }
            }
        }
        if !conflicts.is_empty() {
            return Err(format!(
                "the shards disagree on {} seeds: {}",
                conflicts.len(),
                conflicts.join("; ")
            ));
        }
        if let Some(name) = overlap.iter().find(|n| recovery.0.contains_key(*n)) {
            return Err(format!(
                "two folders hold the same seeds of {name}: its recovery tallies would count them twice; merge disjoint shards (run --shard K/N)"
            ));
        }
        Ok(SuiteResults {
            harness_version: super::HARNESS_VERSION.to_string(),
            requirements,
            not_run,
            not_run_by_scenario,
            interrupted,
            recovery,
            results: results.into_values().collect::<Vec<_>>().into(),
        })
    }

    pub fn summary(&self) -> SuiteSummary {
        let mut summary =
            SuiteSummary::from_results(self.results.iter(), &self.requirements, self.not_run);
        summary.interrupted = self.interrupted;
        summary.not_run_by_scenario = self.not_run_by_scenario.clone();
        summary.recovery = self.recovery.summaries();
        summary
    }
}

/// Per-scenario counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioTally {
    pub seeds: u64,
    pub passed: u64,
    pub failed: u64,
    pub unknown: u64,
}

/// `summary.json` of a suite run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuiteSummary {
    pub harness_version: String,
    pub scenarios: BTreeMap<String, ScenarioTally>,
    /// Every seed that did not pass, sorted by scenario then seed.
    pub failures: Vec<SeedResult>,
    pub total: ScenarioTally,
    /// Seeds scheduled but not run because a time budget ran out or the
    /// run was interrupted.
    pub not_run: u64,
    /// `not_run` per scenario, scenarios with none left out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_run_by_scenario: BTreeMap<String, u64>,
    /// The run was stopped by an interrupt (SIGINT): never green.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// What each scenario's seeds exercised.
    pub coverage: BTreeMap<String, ScenarioCoverage>,
    /// Coverage requirements that were not met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage_failures: Vec<String>,
    /// Every assertion each scenario's seeds reached, with hit and pass
    /// counts across the seeds, sorted by message then kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub assertions: BTreeMap<String, Vec<AssertionTally>>,
    /// `sometimes` assertions that were reached but never held, one line
    /// each (`scenario: sometimes "message" …`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub never_satisfied: Vec<String>,
    /// Per scenario and fault kind: times to detect and recover,
    /// availability, the reliability curve (see [`super::recovery_tally`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recovery: BTreeMap<String, ScenarioRecoverySummary>,
}

impl SuiteSummary {
    pub fn from_results<R: std::borrow::Borrow<SeedResult>>(
        results: impl IntoIterator<Item = R>,
        requirements: &BTreeMap<String, Vec<CoverageRequirement>>,
        not_run: u64,
    ) -> SuiteSummary {
        let mut scenarios: BTreeMap<String, ScenarioTally> = BTreeMap::new();
        let mut coverage: BTreeMap<String, ScenarioCoverage> = BTreeMap::new();
        let mut total = ScenarioTally::default();
        let mut failures: Vec<SeedResult> = Vec::new();
        let mut asserted: BTreeMap<String, Tallies> = BTreeMap::new();
        for r in results {
            let r = r.borrow();
            if r.status != Status::Pass {
                failures.push(r.clone());
            }
            if !r.assertions.is_empty() {
                asserted
                    .entry(r.scenario.clone())
                    .or_default()
                    .add(&r.assertions);
            }
            coverage.entry(r.scenario.clone()).or_default().add(
                &r.fault_kinds,
                &r.reached,
                r.status,
            );
            for tally in [scenarios.entry(r.scenario.clone()).or_default(), &mut total] {
                tally.seeds += 1;
                match r.status {
                    Status::Pass => tally.passed += 1,
                    Status::Fail => tally.failed += 1,
                    Status::Unknown => tally.unknown += 1,
                }
            }
        }
        failures.sort_by(|a, b| (&a.scenario, a.seed).cmp(&(&b.scenario, b.seed)));
        let assertions: BTreeMap<String, Vec<AssertionTally>> = asserted
            .into_iter()
            .map(|(scenario, tallies)| (scenario, tallies.finish()))
            .collect();
        let mut never_satisfied = Vec::new();
        for (scenario, tallies) in &assertions {
            for t in tallies.iter().filter(|t| t.never_satisfied()) {
                never_satisfied.push(format!(
                    "{scenario}: {} \"{}\" reached {} times in {} seeds, never held",
                    t.kind.as_str(),
                    t.message,
                    t.hits,
                    t.seeds
                ));
            }
        }
        let mut coverage_failures = Vec::new();
        for (scenario, reqs) in requirements {
            let Some(seen) = coverage.get(scenario) else {
                continue;
            };
            for req in reqs {
                if let Some(message) = &req.assertion {
                    let tallies = assertions.get(scenario).map_or(&[][..], Vec::as_slice);
                    if let Some(failure) =
                        assertion_shortfall(tallies, message, req.min_fraction, seen.seeds)
                    {
                        coverage_failures.push(format!("{scenario}: {failure}"));
                    }
                    continue;
                }
                let fraction = seen.fraction(req);
                if fraction < req.min_fraction {
                    coverage_failures.push(format!(
                        "{scenario}: {} reached in {:.0}% of {} seeds, required {:.0}%",
                        req.describe(),
                        fraction * 100.0,
                        seen.seeds,
                        req.min_fraction * 100.0
                    ));
                }
            }
        }
        SuiteSummary {
            harness_version: super::HARNESS_VERSION.to_string(),
            scenarios,
            failures,
            total,
            not_run,
            not_run_by_scenario: BTreeMap::new(),
            interrupted: false,
            coverage,
            coverage_failures,
            assertions,
            never_satisfied,
            recovery: BTreeMap::new(),
        }
    }

    /// Whether the suite is green: it ran at least one seed, every seed it
    /// scheduled ran (no time budget or interrupt cut it short) and passed,
    /// and every coverage requirement was met. A sweep that tested nothing
    /// is never a pass.
    pub fn all_passed(&self) -> bool {
        self.total.seeds > 0
            && self.not_run == 0
            && !self.interrupted
            && self.total.passed == self.total.seeds
            && self.coverage_failures.is_empty()
    }

    /// The suite's verdict: pass only when [`Self::all_passed`], fail when
    /// a seed failed, unknown otherwise (nothing failed, yet the sweep is
    /// not green: nothing ran, seeds were left out, coverage was not met).
    pub fn status(&self) -> Status {
        if self.all_passed() {
            Status::Pass
        } else if self.total.failed > 0 {
            Status::Fail
        } else {
            Status::Unknown
        }
    }

    /// Why a suite with no failing seed is still not green, if it is not.
    pub fn not_green_because(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.total.seeds == 0 {
            reasons.push("no seed ran".to_string());
        }
        if self.interrupted {
            // Said even when every seed had started: the user stopped the
            // run, and an interrupted run is not a pass.
            reasons.push(format!(
                "the run was interrupted (SIGINT): {} seeds finished, {} scheduled seeds were not started",
                self.total.seeds, self.not_run
            ));
        } else if self.not_run > 0 {
            reasons.push(format!(
                "{} scheduled seeds were not started: the time budget (--time-budget) ran out",
                self.not_run
            ));
        }
        reasons.extend(self.coverage_failures.iter().cloned());
        reasons
    }
}

/// Assertions named in an unmet requirement's message; `summary.json`
/// lists them all.
pub const MAX_NAMED_IN_SHORTFALL: usize = 10;

/// Why an `[[coverage]] assertion = "…"` requirement is not met, if it is
/// not: the assertion held in too few of the `seeds` that ran.
fn assertion_shortfall(
    tallies: &[AssertionTally],
    message: &str,
    min_fraction: f64,
    seeds: u64,
) -> Option<String> {
    let held = satisfied_seeds(tallies, message);
    let fraction = held.unwrap_or(0) as f64 / seeds.max(1) as f64;
    if seeds > 0 && fraction >= min_fraction {
        return None;
    }
    let required = format!("required {:.0}%", min_fraction * 100.0);
    Some(match held {
        None => {
            // Name what was reached, so a misspelt message is easy to spot.
            let mut known: Vec<String> = tallies
                .iter()
                .take(MAX_NAMED_IN_SHORTFALL)
                .map(|t| format!("\"{}\"", t.message))
                .collect();
            if tallies.len() > MAX_NAMED_IN_SHORTFALL {
                known.push(format!(
                    "and {} more",
                    tallies.len() - MAX_NAMED_IN_SHORTFALL
                ));
            }
            let known = if known.is_empty() {
                "no assertion was reached".to_string()
            } else {
                format!("reached: {}", known.join(", "))
            };
            format!(
                "assertion \"{message}\" was never reached in {seeds} seeds, {required} ({known})"
            )
        }
        Some(_) => format!(
            "assertion \"{message}\" held in {:.0}% of {seeds} seeds, {required}",
            fraction * 100.0
        ),
    })
}
