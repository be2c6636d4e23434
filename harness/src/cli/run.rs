//! `run` and `merge`: sweeps of many seeds over the worker threads, with
//! progress, the suite files written beside the run folders, and the
//! summary printed; `merge` rebuilds that summary from shards.

use super::args::ReportArgs;
use super::interrupt;
use super::seed::shrink_one;
use super::{exec_options, load, program, resolve, scenario_dir, scenario_files};
use super::{EXIT_FAIL, EXIT_PASS};
use crate::check::Status;
use crate::report::{self, text};
use crate::scenario::MAX_SEEDS;
use crate::suite::{self, Job, SeedResult, SuiteResults, SuiteSummary};
use crate::target::Registry;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Which seeds `run` uses.
pub(super) struct SeedChoice {
    pub(super) seeds: Option<u64>,
    pub(super) seed_range: Option<(u64, u64)>,
}

/// How `run` spreads the work.
pub(super) struct Sweep {
    pub(super) jobs: Option<usize>,
    pub(super) shard: Option<(u64, u64)>,
    pub(super) shrink: Option<usize>,
    pub(super) time_budget: Option<std::time::Duration>,
    pub(super) history: report::HistoryExport,
    pub(super) perfetto: report::PerfettoExport,
}

pub(super) fn run(
    registry: &Registry,
    args: &[String],
    choice: SeedChoice,
    sweep: Sweep,
    report_args: &ReportArgs,
    json: bool,
) -> Result<u8, String> {
    let SeedChoice { seeds, seed_range } = choice;
    // From here on Ctrl-C stops the sweep cleanly rather than killing it.
    interrupt::install();
    let paths: Vec<PathBuf> = if args.is_empty() {
        let dir = scenario_dir(registry).ok_or("no scenarios folder found")?;
        scenario_files(&dir)?
    } else {
        args.iter()
            .map(|a| resolve(a, registry))
            .collect::<Result<_, _>>()?
    };
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for path in &paths {
        match load(path, registry, &report_args.set) {
            Ok(l) => loaded.push(l),
            Err(err) => errors.push(err.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("\nerror: "));
    }
    let mut names = std::collections::BTreeSet::new();
    for l in &loaded {
        if !names.insert(l.scenario.name.clone()) {
            return Err(format!("two scenarios are named \"{}\"", l.scenario.name));
        }
    }

    if loaded.is_empty() {
        return Err("no scenario to run: the scenarios folder holds no .toml file".into());
    }
    let seeds_per_scenario = match (seeds, seed_range) {
        (_, Some((a, b))) => b.saturating_sub(a),
        (Some(n), None) => n,
        (None, None) => 0,
    };
    if seeds_per_scenario > MAX_SEEDS {
        return Err(format!(
            "{seeds_per_scenario} seeds per scenario is more than one run takes ({MAX_SEEDS}); \
             split them over several runs with --seed-range A..B (or --shard K/N) and combine \
             their report folders with `chaos merge`"
        ));
    }
    let mut job_list = Vec::new();
    for (i, l) in loaded.iter().enumerate() {
        let range = match (seeds, seed_range) {
            (_, Some((a, b))) => a..b,
            (Some(n), None) => 0..n,
            (None, None) => 0..l.scenario.seeds,
        };
        job_list.extend(range.map(|seed| Job { scenario: i, seed }));
    }
    if job_list.is_empty() {
        return Err(
            "no seeds to run: --seeds 0 or an empty --seed-range tests nothing, and a run that \
             tests nothing is not a pass"
                .into(),
        );
    }
    if let Some(shard) = sweep.shard {
        job_list = suite::shard(job_list, shard);
        if job_list.is_empty() {
            let (k, n) = shard;
            return Err(format!(
                "shard {k}/{n} holds no seeds: the run has fewer seeds than shards; use fewer shards"
            ));
        }
    }
    let running: std::collections::BTreeSet<&str> = job_list
        .iter()
        .map(|j| loaded[j.scenario].scenario.name.as_str())
        .collect();
    let removed = remove_earlier_seed_dirs(&report_args.report_dir, &running)?;
    if removed > 0 {
        eprintln!(
            "removed {removed} seed folders an earlier run left in {} for the scenarios this run runs",
            report_args.report_dir.display()
        );
    }
    let threads = sweep
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = crate::suite::ExecOptions {
        history: sweep.history,
        perfetto: sweep.perfetto,
        ..exec_options(report_args)
    };
    let program = program();

    let interactive = std::io::stderr().is_terminal();
    let colour = super::output::stderr_colour();
    let bar = interactive.then(|| {
        let bar = indicatif::ProgressBar::new(job_list.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(PROGRESS_TEMPLATE)
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar
    });
    eprintln!(
        "running {} seeds of {} scenarios on {} threads; reports in {}",
        job_list.len(),
        loaded.len(),
        threads.min(job_list.len().max(1)),
        report_args.report_dir.display()
    );
    let mut failed = 0usize;
    let stop = suite::StopWhen {
        deadline: sweep.time_budget.map(|b| std::time::Instant::now() + b),
        interrupted: Some(&interrupt::INTERRUPTED),
    };
    let results = suite::run_jobs_until_stopped(
        &loaded,
        &job_list,
        threads,
        &options,
        Some(&report_args.report_dir),
        stop,
        |r: &SeedResult| {
            if r.status != Status::Pass {
                failed += 1;
                let line = format!(
                    "{} {} seed {}: {}",
                    text::painted(r.status, colour),
                    r.scenario,
                    r.seed,
                    r.problems.first().map(String::as_str).unwrap_or("")
                );
                match &bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
            if let Some(bar) = &bar {
                bar.set_message(format!("{failed} failed"));
                bar.inc(1);
            }
        },
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    let not_run = (job_list.len() - results.len()) as u64;
    let not_run_by_scenario = unstarted_per_scenario(&loaded, &job_list, &results);
    let interrupted = interrupt::requested();
    let suite_results = SuiteResults {
        harness_version: report::HARNESS_VERSION.to_string(),
        requirements: loaded
            .iter()
            .filter(|l| !l.scenario.coverage.is_empty())
            .map(|l| (l.scenario.name.clone(), l.scenario.coverage.clone()))
            .collect(),
        not_run,
        not_run_by_scenario,
        interrupted,
        recovery: results.recovery().clone(),
        results,
    };
    let (summary, write_errors) = write_suite(&report_args.report_dir, &suite_results);
    if json {
        super::output::print_json(&summary);
    } else {
        print_suite(&summary, &program);
    }
    // With JSON on stdout, the rest of what `run` says goes to stderr.
    let say = |line: &str| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    if interrupted {
        say(&format!(
            "interrupted: {} seeds finished and are reported in {}; {} were not started; \
             not a pass",
            summary.total.seeds,
            report_args.report_dir.display(),
            summary.not_run
        ));
        // A lost report is still said, but the run ends as interrupted.
        if let Err(err) = report_errors(&summary, write_errors) {
            eprintln!("error: {err}");
        }
        // Shrinking would start new runs, which the user just asked not to.
        return Ok(interrupt::EXIT_INTERRUPTED);
    }
    if let Some(max) = sweep.shrink {
        say("");
        for failure in summary.failures.iter().take(max) {
            let Some(loaded) = loaded.iter().find(|l| l.scenario.name == failure.scenario) else {
                continue;
            };
            let out = report::run_dir(&report_args.report_dir, &failure.scenario, failure.seed)
                .join("shrunk.toml");
            match shrink_one(
                registry,
                loaded,
                failure.seed,
                &out,
                crate::shrink::DEFAULT_MAX_RUNS,
            ) {
                Ok(text) => say(text.trim_end()),
                Err(err) => say(&format!(
                    "{} seed {}: could not shrink: {err}",
                    failure.scenario, failure.seed
                )),
            }
        }
    }
    report_errors(&summary, write_errors)?;
    Ok(if summary.all_passed() {
        EXIT_PASS
    } else {
        EXIT_FAIL
    })
}

/// The progress bar (on a terminal only): elapsed time, the bar, seeds
/// done, the estimated time left (from the rate so far), and failures.
pub(super) const PROGRESS_TEMPLATE: &str =
    "{elapsed_precise} [{bar:40}] {pos}/{len} seeds, ETA {eta}, {msg}";

/// How many of each scenario's scheduled seeds have no result, for the
/// scenarios that have any such.
fn unstarted_per_scenario(
    loaded: &[suite::LoadedScenario],
    jobs: &[Job],
    results: &suite::SeedResults,
) -> std::collections::BTreeMap<String, u64> {
    let mut scheduled = vec![0u64; loaded.len()];
    for job in jobs {
        scheduled[job.scenario] += 1;
    }
    let mut counts = std::collections::BTreeMap::new();
    for (l, n) in loaded.iter().zip(scheduled) {
        counts.insert(l.scenario.name.clone(), n);
    }
    for r in results.iter() {
        if let Some(n) = counts.get_mut(&r.scenario) {
            *n = n.saturating_sub(1);
        }
    }
    counts.retain(|_, n| *n > 0);
    counts
}

/// Removes the `seed-N` folders under `<report_dir>/<scenario>/` of each
/// scenario about to run, so a reused report folder never shows a seed
/// this run did not produce (an earlier run's failure beside this run's
/// summary). Other files and other scenarios' folders are left alone.
/// Returns how many folders went.
fn remove_earlier_seed_dirs(
    report_dir: &Path,
    scenarios: &std::collections::BTreeSet<&str>,
) -> Result<usize, String> {
    let mut removed = 0;
    for name in scenarios {
        let dir = report_dir.join(name);
        // No folder yet (or not a folder: writing the seeds will say so).
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let is_seed = file_name
                .to_str()
                .and_then(|n| n.strip_prefix("seed-"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !is_seed || !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            std::fs::remove_dir_all(entry.path()).map_err(|e| {
                format!(
                    "cannot remove {} left by an earlier run: {e}; remove it or choose another --report-dir",
                    entry.path().display()
                )
            })?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Writes `results.json` (everything needed to merge shards) and the suite
/// summary derived from it; `run` and `merge` both end here, so a merged
/// report is the report a single machine would have written: `summary.json`
/// (canonical), `summary.md` (for a pull request), `summary.html` (the
/// same with a reliability chart, for a browser) and `junit.xml` (for
/// CI). Files that could not be written are returned, for the caller to
/// fail with once the summary is printed.
fn write_suite(dir: &Path, results: &SuiteResults) -> (SuiteSummary, Vec<String>) {
    let summary = results.summary();
    // A run cut short is a failing JUnit case, named for what cut it; its
    // reason is the first of those the summary gives (the cut comes first).
    let cut_short = (summary.interrupted || summary.not_run > 0).then(|| {
        let name = if summary.interrupted {
            "interrupted"
        } else {
            "time-budget"
        };
        let reason = summary
            .not_green_because()
            .into_iter()
            .next()
            .unwrap_or_default();
        (name, reason)
    });
    // The two files with a line per seed are written as they are made, so
    // a big sweep never holds them whole.
    let streamed = [
        (
            "results.json",
            report::write_atomic_with(&dir.join("results.json"), |out| {
                serde_json::to_writer_pretty(&mut *out, results)?;
                out.write_all(b"\n")
            }),
        ),
        (
            "junit.xml",
            report::write_atomic_with(&dir.join("junit.xml"), |out| {
                report::junit::write_suite(
                    out,
                    || results.results.iter(),
                    &report::junit::SuiteNotes::of(
                        &summary,
                        cut_short.as_ref().map(|(n, r)| (*n, r.as_str())),
                    ),
                )
            }),
        ),
    ];
    let files = [
        (
            "summary.json",
            serde_json::to_string_pretty(&summary).expect("summary serialises") + "\n",
        ),
        ("summary.md", report::markdown::render_suite(&summary)),
        ("summary.html", report::suite_html::render(&summary)),
    ];
    let written = streamed.into_iter().chain(
        files
            .into_iter()
            .map(|(name, text)| (name, report::write_atomic(&dir.join(name), text.as_bytes()))),
    );
    let errors: Vec<String> = written
        .filter_map(|(name, result)| {
            result
                .err()
                .map(|err| format!("could not write {}: {err}", dir.join(name).display()))
        })
        .collect();
    (summary, errors)
}

/// The run's end when a report could not be written: an error (exit 2)
/// naming every file lost, after the summary was printed.
fn report_errors(summary: &SuiteSummary, mut errors: Vec<String>) -> Result<(), String> {
    let lost: Vec<String> = summary
        .failures
        .iter()
        .filter(|f| f.failed.iter().any(|i| i == suite::REPORT_PROBLEM))
        .map(|f| format!("{} seed {}", f.scenario, f.seed))
        .collect();
    if !lost.is_empty() {
        errors.push(format!(
            "the reports of {} seeds could not be written ({}{})",
            lost.len(),
            lost[..lost.len().min(5)].join(", "),
            if lost.len() > 5 { ", …" } else { "" }
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\nerror: "))
    }
}

pub(super) fn merge(dirs: &[PathBuf], out: &Path) -> Result<u8, String> {
    let mut parts = Vec::new();
    for dir in dirs {
        let path = dir.join("results.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let part: SuiteResults = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a chaos results file: {e}", path.display()))?;
        parts.push(part);
    }
    let merged = SuiteResults::merge(parts)?;
    let (summary, write_errors) = write_suite(out, &merged);
    eprintln!(
        "merged {} results from {} folders into {}",
        merged.results.len(),
        dirs.len(),
        out.display()
    );
    print_suite(&summary, &program());
    report_errors(&summary, write_errors)?;
    Ok(if summary.all_passed() {
        EXIT_PASS
    } else {
        EXIT_FAIL
    })
}

/// Prints the suite's table of counts, its fault coverage, the coverage
/// requirements not met, and each failure with its replay command.
fn print_suite(summary: &SuiteSummary, program: &str) {
    println!();
    println!(
        "{:<34} {:>7} {:>7} {:>7} {:>7}",
        "scenario", "seeds", "passed", "failed", "unknown"
    );
    for (name, t) in &summary.scenarios {
        println!(
            "{name:<34} {:>7} {:>7} {:>7} {:>7}",
            t.seeds, t.passed, t.failed, t.unknown
        );
    }
    let t = &summary.total;
    println!(
        "{:<34} {:>7} {:>7} {:>7} {:>7}",
        "total", t.seeds, t.passed, t.failed, t.unknown
    );
    if summary.not_run > 0 && !summary.interrupted {
        println!(
            "time budget: {} seeds ran, {} were not started: not a pass",
            t.seeds, summary.not_run
        );
    }
    let with_faults: Vec<_> = summary
        .coverage
        .iter()
        .filter(|(_, c)| !c.faults.is_empty())
        .collect();
    if !with_faults.is_empty() {
        println!();
        println!("fault coverage (seeds that applied each kind, and of those how many failed):");
        for (name, c) in with_faults {
            let kinds: Vec<String> = c
                .faults
                .iter()
                .map(|(k, s)| format!("{k} {}/{} ({} failed)", s.seeds, c.seeds, s.failed))
                .collect();
            println!(
                "  {name}: {}; {} reached (distinct `target: message` events)",
                kinds.join(", "),
                crate::report::counted(c.states.len() as u64, "target state")
            );
        }
    }
    if !summary.assertions.is_empty() {
        println!();
        println!("assertions (summary.md and summary.json list each with its counts):");
        for (name, tallies) in &summary.assertions {
            let broken = tallies.iter().filter(|t| t.violated_seeds > 0).count();
            let never = tallies.iter().filter(|t| t.never_satisfied()).count();
            println!(
                "  {name}: {} reached, {broken} broken, {never} sometimes never held",
                tallies.len()
            );
        }
        for line in &summary.never_satisfied {
            println!("  {line}");
        }
    }
    if !summary.coverage_failures.is_empty() {
        println!();
        println!("coverage requirements not met:");
        for f in &summary.coverage_failures {
            println!("  {f}");
        }
    }
    if !summary.failures.is_empty() {
        println!();
        println!("failures (replay with the command shown):");
        for f in &summary.failures {
            println!(
                "  {} seed {}: {}",
                f.scenario,
                f.seed,
                f.problems.join("; ")
            );
            println!("    {program} {}", f.replay);
        }
    }
    // The last line says the outcome, as the exit code and summary.md do:
    // PASS only when every scheduled seed ran and passed and coverage was
    // met; a run with no failing seed that is still not green is UNKNOWN.
    let status = summary.status();
    println!();
    println!(
        "{}: {} of {} seeds passed",
        text::painted(status, super::output::stdout_colour()),
        t.passed,
        t.seeds
    );
}
