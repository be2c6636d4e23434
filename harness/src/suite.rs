//! Running seeds: one at a time, or a whole suite across every core.
//!
//! One seed is executed as expand → simulate → check → report, entirely on
//! one thread. A suite hands (scenario, seed) jobs to a fixed pool of worker
//! threads; each writes its run's report and sends back a small summary,
//! kept compactly ([`SeedResults`]), so a sweep's memory hardly grows with
//! its seeds. A panic in the harness or a
//! checker fails that seed with the panic's message and the sweep goes on.
//! Results are sorted by (scenario, seed) before anything is printed or
//! written, so the suite summary does not depend on thread timing.

use crate::assertions::sweep::SeedAssertion;
use crate::check::{self, Status, Verdict};
use crate::coverage as cov;
use crate::plan::{self, Plan};
use crate::record::{first_divergence, RunRecord};
use crate::report::recovery_tally::SeedRecovery;
use crate::report::{self, RunReport};
use crate::scenario::{Prepared, Scenario};
use crate::sim::{self, RunOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// Re-exported from [`crate::report::summary`]: what a suite leaves behind
/// is report data, which the views below the suite render.
pub use crate::report::summary::{ScenarioTally, SeedResult, SuiteResults, SuiteSummary};
pub use crate::report::SeedResults;

/// A validated scenario, ready to run.
#[derive(Clone)]
pub struct LoadedScenario {
    pub scenario: Scenario,
    /// The file it came from, as given (for replay commands).
    pub path: Option<PathBuf>,
    /// `--set key=value` overrides applied on top of the file, as given.
    pub overrides: Vec<String>,
    pub prepared: Prepared,
}

impl LoadedScenario {
    /// A scenario built in Rust (no file, no overrides).
    pub fn from_scenario(
        scenario: Scenario,
        registry: &crate::target::Registry,
    ) -> Result<LoadedScenario, crate::scenario::ScenarioError> {
        let prepared = crate::scenario::validate(&scenario, registry)?;
        Ok(LoadedScenario {
            scenario,
            path: None,
            overrides: Vec::new(),
            prepared,
        })
    }

    /// A scenario file with `--set` overrides applied; errors name the file.
    pub fn from_file(
        path: &Path,
        overrides: &[String],
        registry: &crate::target::Registry,
    ) -> Result<LoadedScenario, crate::scenario::ScenarioError> {
        let scenario = crate::scenario::load_file(path, registry)?;
        // The file passed on its own: what is wrong now came with a --set.
        let blame = |e| crate::scenario::blame_overrides(e, overrides, path);
        let scenario = crate::scenario::apply_overrides(&scenario, overrides).map_err(blame)?;
        let prepared = crate::scenario::validate(&scenario, registry).map_err(blame)?;
        Ok(LoadedScenario {
            scenario,
            path: Some(path.to_path_buf()),
            overrides: overrides.to_vec(),
            prepared,
        })
    }
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
    /// Which seeds get `history.edn` and `history.jsonl` beside their
    /// report (when a report folder is given).
    pub history: report::HistoryExport,
    /// Which seeds get a Perfetto trace (`perfetto.json`) beside their
    /// report.
    pub perfetto: report::PerfettoExport,
}

/// Runs one seed of a scenario and judges it.
pub fn execute(loaded: &LoadedScenario, seed: u64, options: &ExecOptions) -> SeedRun {
    let plan = plan::expand(&loaded.scenario, &loaded.prepared.topology, seed);
    let record = sim::run(&plan, loaded.prepared.system.clone(), &options.run);
    let checked = check::run_all(&loaded.scenario, &plan, &record, &loaded.prepared.detection);
    let mut verdicts = checked.verdicts;
    if options.check_determinism {
        let again = sim::run(&plan, loaded.prepared.system.clone(), &options.run);
        verdicts.push(match first_divergence(&record, &again) {
            None => Verdict::pass(
                "determinism",
                format!("two runs agree (trace {})", record.trace_hash),
            ),
            Some(divergence) => Verdict::fail("determinism", divergence)
                .with_expected("the same seed to produce the same history and trace"),
        });
    }
    let report = RunReport::new(
        &loaded.scenario,
        loaded.path.as_deref(),
        &loaded.overrides,
        &plan,
        &record,
        verdicts,
    )
    .with_recovery(checked.recovery);
    SeedRun {
        plan,
        record,
        report,
    }
}

/// One (scenario, seed) to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub scenario: usize,
    pub seed: u64,
}

/// The name a seed's failure to write its report goes by, in
/// [`SeedResult::failed`] and its problems.
pub const REPORT_PROBLEM: &str = "report";

/// Runs one job, turning a panic anywhere in the harness into a failed seed.
fn run_job(
    loaded: &LoadedScenario,
    seed: u64,
    options: &ExecOptions,
    report_dir: Option<&Path>,
) -> SeedResult {
    let name = loaded.scenario.name.clone();
    let file = loaded.path.as_ref().map(|p| p.display().to_string());
    let replay = report::replay_args(file.as_deref().unwrap_or(&name), seed, &loaded.overrides);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let run = execute(loaded, seed, options);
        let mut report_failed = false;
        let mut problems: Vec<String> = run
            .report
            .failed_invariants()
            .iter()
            .map(|v| format!("{}: {}", v.invariant, v.summary))
            .collect();
        if let Some(dir) = report_dir {
            // Views of passing seeds cost disk and time in big sweeps; a
            // replay renders them again when someone wants to look.
            let passed = run.report.status == Status::Pass;
            let views = if passed {
                report::Views::JsonOnly
            } else {
                report::Views::All
            };
            let history = options.history.writes(passed);
            let perfetto = options.perfetto.writes(passed);
            if let Err(err) =
                report::write_run_views(dir, &run.report, &run.record, views, history, perfetto)
            {
                problems.push(format!("{REPORT_PROBLEM}: could not write: {err}"));
                report_failed = true;
            }
        }
        let mut failed: Vec<String> = run
            .report
            .verdicts
            .iter()
            .filter(|v| v.status == Status::Fail)
            .map(|v| v.invariant.clone())
            .collect();
        // A seed whose report was lost is not a pass, whatever its
        // verdicts: nobody can look at what it found.
        let status = if report_failed {
            failed.push(REPORT_PROBLEM.to_string());
            Status::Fail
        } else {
            run.report.status
        };
        (
            status,
            problems,
            failed,
            run.report.trace_hash.clone(),
            cov::fault_kinds(&run.plan, &run.record),
            cov::reached(&run.record),
            SeedAssertion::of_run(&run.record.assertions),
            run.report.recovery.as_ref().map(SeedRecovery::of),
        )
    }));
    let (status, problems, failed, trace_hash, fault_kinds, reached, assertions, recovery) =
        match outcome {
            Ok(result) => result,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".into());
                (
                    Status::Fail,
                    vec![format!("harness: panicked: {message}")],
                    vec!["harness".to_string()],
                    String::new(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                    None,
                )
            }
        };
    SeedResult {
        scenario: name,
        seed,
        status,
        problems,
        failed,
        trace_hash,
        replay,
        fault_kinds,
        reached,
        assertions,
        recovery,
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
    on_done: impl FnMut(&SeedResult),
) -> Vec<SeedResult> {
    run_jobs_until(scenarios, jobs, threads, options, report_dir, None, on_done)
        .iter()
        .collect()
}

/// Like [`run_jobs`], but no job starts after `deadline` (wall clock: this
/// is the harness deciding how long to keep going, not simulated code).
/// Jobs not started are simply absent from the result.
pub fn run_jobs_until(
    scenarios: &[LoadedScenario],
    jobs: &[Job],
    threads: usize,
    options: &ExecOptions,
    report_dir: Option<&Path>,
    deadline: Option<std::time::Instant>,
    on_done: impl FnMut(&SeedResult),
) -> SeedResults {
    let stop = StopWhen {
        deadline,
        interrupted: None,
    };
    run_jobs_until_stopped(scenarios, jobs, threads, options, report_dir, stop, on_done)
}

/// When a sweep stops starting jobs before its list is done: a time
/// budget running out, or an interrupt (the flag a SIGINT handler sets).
/// Jobs already running always finish; only new ones are held back.
#[derive(Clone, Copy, Debug, Default)]
pub struct StopWhen<'a> {
    pub deadline: Option<std::time::Instant>,
    pub interrupted: Option<&'a AtomicBool>,
}

impl StopWhen<'_> {
    /// Whether no new job may start now.
    pub fn reached(&self) -> bool {
        self.interrupted.is_some_and(|f| f.load(Ordering::SeqCst))
            || self
                .deadline
                .is_some_and(|d| std::time::Instant::now() >= d)
    }
}

/// Like [`run_jobs`], but no job starts once `stop` is reached. Jobs not
/// started are simply absent from the result.
pub fn run_jobs_until_stopped(
    scenarios: &[LoadedScenario],
    jobs: &[Job],
    threads: usize,
    options: &ExecOptions,
    report_dir: Option<&Path>,
    stop: StopWhen<'_>,
    mut on_done: impl FnMut(&SeedResult),
) -> SeedResults {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<SeedResult>();
    let threads = threads.clamp(1, jobs.len().max(1));
    let mut results = SeedResults::with_capacity(jobs.len());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                if stop.reached() {
                    break;
                }
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
    results.sort_by_scenario(|name| order.get(name).copied());
    results
}

/// Parses `K/N` (1-based K) for `--shard`.
pub fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let (k, n) = text
        .split_once('/')
        .ok_or_else(|| format!("expected K/N such as 2/4, found {text}"))?;
    let k: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("bad shard index: {k}"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("bad shard count: {n}"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: expected 1 <= K <= N"));
    }
    Ok((k, n))
}

/// The jobs of shard `k` of `n`: every n-th (scenario, seed) pair of the
/// full ordered list, starting at the k-th. Deterministic, disjoint, and
/// together the shards cover the list; round robin spreads every scenario
/// over every shard.
pub fn shard(jobs: Vec<Job>, (k, n): (u64, u64)) -> Vec<Job> {
    jobs.into_iter()
        .enumerate()
        .filter(|(i, _)| *i as u64 % n == k - 1)
        .map(|(_, j)| j)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_disjoint_and_cover_every_job() {
        let jobs: Vec<Job> = (0..3)
            .flat_map(|s| (0..7).map(move |seed| Job { scenario: s, seed }))
            .collect();
        let mut seen = Vec::new();
        for k in 1..=4 {
            seen.extend(shard(jobs.clone(), (k, 4)));
        }
        seen.sort_by_key(|j| (j.scenario, j.seed));
        assert_eq!(seen, jobs);
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
    }
}
