//! What a suite run leaves behind: one [`SeedResult`] per seed
//! (`results.json`, enough to merge shards) and the [`SuiteSummary`]
//! derived from them (`summary.json`, and the Markdown and JUnit views).
//! Plain data, computed from results alone, so a merged report is the
//! report a single machine would have written.

pub use super::seed_results::{SeedResult, SeedResults};
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
    pub results: SeedResults,
}

impl SuiteResults {
    /// Combines shards: results are concatenated and sorted by scenario
    /// then seed (a seed present twice is kept once).
    pub fn merge(parts: Vec<SuiteResults>) -> SuiteResults {
        let mut requirements = BTreeMap::new();
        let mut results: BTreeMap<(String, u64), SeedResult> = BTreeMap::new();
        let mut not_run = 0;
        for part in parts {
            requirements.extend(part.requirements);
            not_run += part.not_run;
            for r in part.results.iter() {
                results.insert((r.scenario.clone(), r.seed), r);
            }
        }
        SuiteResults {
            harness_version: super::HARNESS_VERSION.to_string(),
            requirements,
            not_run,
            results: results.into_values().collect::<Vec<_>>().into(),
        }
    }

    pub fn summary(&self) -> SuiteSummary {
        SuiteSummary::from_results(self.results.iter(), &self.requirements, self.not_run)
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
    /// Seeds scheduled but not run because a time budget ran out.
    pub not_run: u64,
    /// What each scenario's seeds exercised.
    pub coverage: BTreeMap<String, ScenarioCoverage>,
    /// Coverage requirements that were not met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage_failures: Vec<String>,
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
        for r in results {
            let r = r.borrow();
            if r.status != Status::Pass {
                failures.push(r.clone());
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
        let mut coverage_failures = Vec::new();
        for (scenario, reqs) in requirements {
            let Some(seen) = coverage.get(scenario) else {
                continue;
            };
            for req in reqs {
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
            coverage,
            coverage_failures,
        }
    }

    pub fn all_passed(&self) -> bool {
        self.total.passed == self.total.seeds && self.coverage_failures.is_empty()
    }
}
