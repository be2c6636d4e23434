//! Running seeds: one at a time, or a whole suite across every core.
//!
//! One seed is executed as expand → simulate → check → report, entirely on
//! one thread. A suite hands (scenario, seed) jobs to a fixed pool of worker
//! threads; each writes its run's report and sends back a small summary, so
//! memory stays flat however many seeds run. A panic in the harness or a
//! checker fails that seed with the panic's message and the sweep goes on.
//! Results are sorted by (scenario, seed) before anything is printed or
//! written, so the suite summary does not depend on thread timing.

use crate::check::{self, Status, Verdict};
use crate::plan::{self, Plan};
use crate::record::{first_divergence, RunRecord};
use crate::report::{self, RunReport};
use crate::scenario::{Prepared, Scenario};
use crate::sim::{self, RunOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// A validated scenario, ready to run.
#[derive(Clone)]
pub struct LoadedScenario {
    pub scenario: Scenario,
    /// The file it came from, as given (for replay commands).
    pub path: Option<PathBuf>,
    pub prepared: Prepared,
}

/// Everything one seed produced.
pub struct SeedRun {
    pub plan: Plan,
    pub record: RunRecord,
    pub report: RunReport,
}

/// Options that apply to every seed.
#[derive(Clone, Debug, Default)]
pub struct ExecOptions {
    pub run: RunOptions,
    /// Run each seed twice and fail it if anything differs.
    pub check_determinism: bool,
}

/// Runs one seed of a scenario and judges it.
pub fn execute(loaded: &LoadedScenario, seed: u64, options: &ExecOptions) -> SeedRun {
    let plan = plan::expand(&loaded.scenario, &loaded.prepared.topology, seed);
    let record = sim::run(&plan, loaded.prepared.system.clone(), &options.run);
    let mut verdicts = check::run_all(&loaded.scenario, &plan, &record);
    if options.check_determinism {
        let again = sim::run(&plan, loaded.prepared.system.clone(), &options.run);
        verdicts.push(match first_divergence(&record, &again) {
            None => Verdict::pass("determinism", format!("two runs agree (trace {})", record.trace_hash)),
            Some(divergence) => Verdict::fail("determinism", divergence)
                .with_expected("the same seed to produce the same history and trace"),
        });
    }
    let report = RunReport::new(&loaded.scenario, loaded.path.as_deref(), &plan, &record, verdicts);
    SeedRun { plan, record, report }
}

/// What the suite keeps of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    pub scenario: String,
    pub seed: u64,
    pub status: Status,
    /// `invariant: summary` of every verdict that did not pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    pub trace_hash: String,
    pub replay: String,
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
}

impl SuiteSummary {
    pub fn from_results(results: &[SeedResult]) -> SuiteSummary {
        let mut scenarios: BTreeMap<String, ScenarioTally> = BTreeMap::new();
        let mut total = ScenarioTally::default();
        for r in results {
            for tally in [scenarios.entry(r.scenario.clone()).or_default(), &mut total] {
                tally.seeds += 1;
                match r.status {
                    Status::Pass => tally.passed += 1,
                    Status::Fail => tally.failed += 1,
                    Status::Unknown => tally.unknown += 1,
                }
            }
        }
        let mut failures: Vec<SeedResult> =
            results.iter().filter(|r| r.status != Status::Pass).cloned().collect();
        failures.sort_by(|a, b| (&a.scenario, a.seed).cmp(&(&b.scenario, b.seed)));
        SuiteSummary {
            harness_version: report::HARNESS_VERSION.to_string(),
            scenarios,
            failures,
            total,
        }
    }

    pub fn all_passed(&self) -> bool {
        self.total.passed == self.total.seeds
    }
}

/// One (scenario, seed) to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub scenario: usize,
    pub seed: u64,
}

/// Runs one job, turning a panic anywhere in the harness into a failed seed.
fn run_job(
    loaded: &LoadedScenario,
    seed: u64,
    options: &ExecOptions,
    report_dir: Option<&Path>,
) -> SeedResult {
    let name = loaded.scenario.name.clone();
    let file = loaded.path.as_ref().map(|p| p.display().to_string());
    let replay = report::replay_args(file.as_deref().unwrap_or(&name), seed);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let run = execute(loaded, seed, options);
        let mut problems: Vec<String> = run
            .report
            .failed_invariants()
            .iter()
            .map(|v| format!("{}: {}", v.invariant, v.summary))
            .collect();
        if let Some(dir) = report_dir {
            if let Err(err) = report::write_run(dir, &run.report, &run.record) {
                problems.push(format!("report: could not write: {err}"));
            }
        }
        (run.report.status, problems, run.report.trace_hash.clone())
    }));
    let (status, problems, trace_hash) = match outcome {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".into());
            (Status::Fail, vec![format!("harness: panicked: {message}")], String::new())
        }
    };
    SeedResult {
        scenario: name,
        seed,
        status,
        problems,
        trace_hash,
        replay,
    }
}

/// Runs `jobs` on `threads` workers; `on_done` sees each result as it
/// arrives (for progress), and the returned list is sorted.
pub fn run_jobs(
    scenarios: &[LoadedScenario],
    jobs: &[Job],
    threads: usize,
    options: &ExecOptions,
    report_dir: Option<&Path>,
    mut on_done: impl FnMut(&SeedResult),
) -> Vec<SeedResult> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<SeedResult>();
    let threads = threads.clamp(1, jobs.len().max(1));
    let mut results = Vec::with_capacity(jobs.len());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let result = run_job(&scenarios[job.scenario], job.seed, options, report_dir);
                if tx.send(result).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for result in rx {
            on_done(&result);
            results.push(result);
        }
    });
    let order: BTreeMap<&str, usize> = scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| (s.scenario.name.as_str(), i))
        .collect();
    results.sort_by_key(|r| (order.get(r.scenario.as_str()).copied(), r.seed));
    results
}
