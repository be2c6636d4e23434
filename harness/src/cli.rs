//! The `chaos` command line, as a library function.
//!
//! A crate that provides targets calls [`main`] with its [`Registry`] from
//! a three-line `main`; it then gets `list`, `run`, `replay`, `check` and
//! `new` for its own systems. Exit codes: 0 every invariant held, 1 an
//! invariant failed (or could not be decided), 2 bad input or usage.

use crate::check::Status;
use crate::report::{self, text};
use crate::scenario::{self, ScenarioError};
use crate::suite::{
    self, ExecOptions, Job, LoadedScenario, SeedResult, SuiteResults, SuiteSummary,
};
use crate::target::Registry;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code: every invariant held.
pub const EXIT_PASS: u8 = 0;
/// Exit code: an invariant failed or was undecided.
pub const EXIT_FAIL: u8 = 1;
/// Exit code: bad input or usage.
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "chaos",
    version,
    about = "Deterministic chaos and fault-injection testing on turmoil",
    long_about = "Runs scenarios (a target system, a workload, a fault plan and invariants) \
                  under seeds, in a deterministic network simulator. The same scenario and seed \
                  always produce the same history, trace and report."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Debug, Clone)]
struct ReportArgs {
    /// Where run reports go: DIR/<scenario>/seed-<S>/report.json.
    #[arg(long, default_value = "target/chaos-reports")]
    report_dir: PathBuf,
    /// Run every seed twice and fail it if anything observable differs.
    #[arg(long)]
    check_determinism: bool,
    /// Override a scenario key, e.g. `--set target.retry_unsafe=true` or
    /// `--set workload.clients=16` (value in TOML syntax; repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the bundled scenarios.
    List,
    /// Run scenarios over many seeds, in parallel.
    Run {
        /// Scenario files or names; the whole bundled suite if none.
        scenarios: Vec<String>,
        /// Seeds 0..N for every scenario (default: each scenario's `seeds`).
        #[arg(long, conflicts_with = "seed_range")]
        seeds: Option<u64>,
        /// Seeds A..B (B excluded) for every scenario.
        #[arg(long, value_parser = parse_seed_range)]
        seed_range: Option<(u64, u64)>,
        /// Worker threads (default: every core).
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Run only shard K of N (1-based): every N-th (scenario, seed)
        /// pair, for CI matrices; combine the shards with `chaos merge`.
        #[arg(long, value_parser = suite::parse_shard, value_name = "K/N")]
        shard: Option<(u64, u64)>,
        /// Shrink every failing seed (at most this many) to a minimal
        /// scenario, written beside its report as shrunk.toml.
        #[arg(long, value_name = "MAX_FAILURES", num_args = 0..=1, default_missing_value = "5")]
        shrink: Option<usize>,
        /// Stop starting new seeds after this much wall-clock time
        /// (e.g. "10m"); seeds already running finish.
        #[arg(long, value_parser = crate::duration::parse_duration, value_name = "DURATION")]
        time_budget: Option<std::time::Duration>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Check histories (Jepsen log or EDN format) for linearizability.
    CheckHistory {
        /// The sequential model: register, kv, counter or queue.
        #[arg(long)]
        model: String,
        /// Most memoised search states per key before answering unknown
        /// (default 4000000).
        #[arg(long)]
        max_states: Option<u64>,
        /// Most bytes one key's search may hold before answering unknown
        /// (default 536870912, 512 MiB).
        #[arg(long)]
        max_memory_bytes: Option<u64>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The planted-bug gate: run every planted bug of every target against
    /// the bundled scenarios and show which invariant catches it, and when.
    Bugs {
        /// Only these targets (default: all).
        #[arg(long = "target")]
        targets: Vec<String>,
        /// Seeds tried per bug and scenario.
        #[arg(long, default_value_t = crate::gate::DEFAULT_MAX_SEEDS)]
        max_seeds: u64,
        /// Worker threads (default: every core).
        #[arg(long, short)]
        jobs: Option<usize>,
    },
    /// Combine the results of shard runs into one suite report.
    Merge {
        /// Report folders of the shards (each holds a results.json).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the merged summary goes.
        #[arg(long, default_value = "target/chaos-reports")]
        report_dir: PathBuf,
    },
    /// Rerun one seed and show its verdicts.
    Replay {
        /// Scenario file or name.
        scenario: String,
        #[arg(long)]
        seed: u64,
        /// Print the timeline of faults, host events, logs and operations.
        #[arg(long)]
        trace: bool,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Shrink a failing seed to a minimal scenario that fails the same way.
    Shrink {
        /// Scenario file or name.
        scenario: String,
        #[arg(long)]
        seed: u64,
        /// Where to write the shrunk scenario (default:
        /// REPORT_DIR/<scenario>/seed-<S>/shrunk.toml).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Most candidate runs.
        #[arg(long, default_value_t = crate::shrink::DEFAULT_MAX_RUNS)]
        max_runs: usize,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Validate scenario files without running them.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a commented starter scenario.
    New {
        name: String,
        /// The target system it tests.
        #[arg(long)]
        target: String,
        /// Folder to write it in.
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

fn parse_seed_range(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("expected A..B, found {text}"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("bad start of range: {a}"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("bad end of range: {b}"))?;
    if a >= b {
        return Err(format!("empty range {a}..{b}: the end is excluded"));
    }
    Ok((a, b))
}

/// Entry point for a `chaos` binary.
pub fn main(registry: Registry) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_PASS
            });
        }
    };
    ExitCode::from(dispatch(cli, &registry))
}

fn dispatch(cli: Cli, registry: &Registry) -> u8 {
    let result = match cli.command {
        Command::List => list(registry),
        Command::Run {
            scenarios,
            seeds,
            seed_range,
            jobs,
            shard,
            shrink,
            time_budget,
            report,
        } => run(
            registry,
            &scenarios,
            SeedChoice { seeds, seed_range },
            Sweep {
                jobs,
                shard,
                shrink,
                time_budget,
            },
            &report,
        ),
        Command::Merge { dirs, report_dir } => merge(&dirs, &report_dir),
        Command::Bugs {
            targets,
            max_seeds,
            jobs,
        } => bugs(registry, &targets, max_seeds, jobs),
        Command::CheckHistory {
            model,
            max_states,
            max_memory_bytes,
            files,
        } => check_history(&model, max_states, max_memory_bytes, &files),
        Command::Replay {
            scenario,
            seed,
            trace,
            report,
        } => replay(registry, &scenario, seed, trace, &report),
        Command::Check { files } => check(registry, &files),
        Command::Shrink {
            scenario,
            seed,
            out,
            max_runs,
            report,
        } => shrink(registry, &scenario, seed, out, max_runs, &report),
        Command::New {
            name,
            target,
            dir,
            force,
        } => new_scenario(registry, &name, &target, &dir, force),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_USAGE
        }
    }
}

/// The scenario folder: `./scenarios` if present, else the bundled one.
fn scenario_dir(registry: &Registry) -> Option<PathBuf> {
    let local = PathBuf::from("scenarios");
    if local.is_dir() {
        return Some(local);
    }
    registry.bundled_dir().filter(|d| d.is_dir()).cloned()
}

fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn load(
    path: &Path,
    registry: &Registry,
    overrides: &[String],
) -> Result<LoadedScenario, ScenarioError> {
    LoadedScenario::from_file(path, overrides, registry)
}

/// Resolves a command-line scenario argument: a file path, or the name of
/// a scenario (file stem or `name`) in the scenario folder.
fn resolve(arg: &str, registry: &Registry) -> Result<PathBuf, String> {
    let path = PathBuf::from(arg);
    if path.is_file() {
        return Ok(path);
    }
    let Some(dir) = scenario_dir(registry) else {
        return Err(format!(
            "no file {arg}, and no scenarios folder to look it up in"
        ));
    };
    let candidate = dir.join(format!("{arg}.toml"));
    if candidate.is_file() {
        return Ok(candidate);
    }
    Err(format!(
        "no scenario file or bundled scenario named \"{arg}\" (see `chaos list`)"
    ))
}

/// How to spell the `chaos` command in printed replay commands.
fn program() -> String {
    if std::env::var_os("CARGO_MANIFEST_DIR").is_some() {
        let release = std::env::current_exe()
            .map(|p| p.components().any(|c| c.as_os_str() == "release"))
            .unwrap_or(false);
        return if release {
            "cargo run --release --".into()
        } else {
            "cargo run --".into()
        };
    }
    std::env::args()
        .next()
        .map(|a| {
            Path::new(&a)
                .file_name()
                .map_or(a.clone(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "chaos".into())
}

fn list(registry: &Registry) -> Result<u8, String> {
    let dir = scenario_dir(registry).ok_or("no scenarios folder found")?;
    let mut bad = false;
    for path in scenario_files(&dir)? {
        match scenario::load_file(&path, registry) {
            Ok(s) => println!("{:<32} {:<12} {}", s.name, s.target.system, s.description),
            Err(err) => {
                bad = true;
                eprintln!("error: {err}");
            }
        }
    }
    println!();
    println!("targets:");
    for t in registry.targets() {
        println!("  {:<14} {}", t.name(), t.description());
    }
    Ok(if bad { EXIT_USAGE } else { EXIT_PASS })
}

fn check(registry: &Registry, files: &[PathBuf]) -> Result<u8, String> {
    let mut bad = false;
    for file in files {
        match load(file, registry, &[]) {
            Ok(l) => println!("ok {} ({})", file.display(), l.scenario.name),
            Err(err) => {
                bad = true;
                eprintln!("error: {err}");
            }
        }
    }
    Ok(if bad { EXIT_USAGE } else { EXIT_PASS })
}

fn exec_options(report: &ReportArgs) -> ExecOptions {
    ExecOptions {
        check_determinism: report.check_determinism,
        ..ExecOptions::default()
    }
}

/// Which seeds `run` uses.
struct SeedChoice {
    seeds: Option<u64>,
    seed_range: Option<(u64, u64)>,
}

/// How `run` spreads the work.
struct Sweep {
    jobs: Option<usize>,
    shard: Option<(u64, u64)>,
    shrink: Option<usize>,
    time_budget: Option<std::time::Duration>,
}

fn run(
    registry: &Registry,
    args: &[String],
    choice: SeedChoice,
    sweep: Sweep,
    report_args: &ReportArgs,
) -> Result<u8, String> {
    let SeedChoice { seeds, seed_range } = choice;
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

    let mut job_list = Vec::new();
    for (i, l) in loaded.iter().enumerate() {
        let range = match (seeds, seed_range) {
            (_, Some((a, b))) => a..b,
            (Some(n), None) => 0..n,
            (None, None) => 0..l.scenario.seeds,
        };
        job_list.extend(range.map(|seed| Job { scenario: i, seed }));
    }
    if let Some(shard) = sweep.shard {
        job_list = suite::shard(job_list, shard);
    }
    let threads = sweep
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = exec_options(report_args);
    let program = program();

    let interactive = std::io::stderr().is_terminal();
    let bar = interactive.then(|| {
        let bar = indicatif::ProgressBar::new(job_list.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} seeds, {msg}",
            )
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
    let deadline = sweep.time_budget.map(|b| std::time::Instant::now() + b);
    let results = suite::run_jobs_until(
        &loaded,
        &job_list,
        threads,
        &options,
        Some(&report_args.report_dir),
        deadline,
        |r: &SeedResult| {
            if r.status != Status::Pass {
                failed += 1;
                let line = format!(
                    "{} {} seed {}: {}",
                    text::status_word(r.status),
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
    let suite_results = SuiteResults {
        harness_version: report::HARNESS_VERSION.to_string(),
        requirements: loaded
            .iter()
            .filter(|l| !l.scenario.coverage.is_empty())
            .map(|l| (l.scenario.name.clone(), l.scenario.coverage.clone()))
            .collect(),
        not_run,
        results,
    };
    let summary = write_suite(&report_args.report_dir, &suite_results);
    print_suite(&summary, &program);
    if let Some(max) = sweep.shrink {
        println!();
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
                Ok(text) => print!("{text}"),
                Err(err) => println!(
                    "{} seed {}: could not shrink: {err}",
                    failure.scenario, failure.seed
                ),
            }
        }
    }
    Ok(if summary.all_passed() {
        EXIT_PASS
    } else {
        EXIT_FAIL
    })
}

/// Writes `results.json` (everything needed to merge shards) and the suite
/// summary derived from it; `run` and `merge` both end here, so a merged
/// report is the report a single machine would have written.
fn write_suite(dir: &Path, results: &SuiteResults) -> SuiteSummary {
    let summary = results.summary();
    let files = [
        (
            "results.json",
            serde_json::to_string_pretty(results).expect("results serialise") + "\n",
        ),
        (
            "summary.json",
            serde_json::to_string_pretty(&summary).expect("summary serialises") + "\n",
        ),
        ("summary.md", report::markdown::render_suite(&summary)),
        ("junit.xml", report::junit::render_suite(&results.results)),
    ];
    for (name, text) in files {
        if let Err(err) = report::write_atomic(&dir.join(name), text.as_bytes()) {
            eprintln!("warning: could not write {name}: {err}");
        }
    }
    summary
}

/// Shrinks one seed, writes the file, and returns what to print.
fn shrink_one(
    registry: &Registry,
    loaded: &LoadedScenario,
    seed: u64,
    out: &Path,
    max_runs: usize,
) -> Result<String, String> {
    let shrunk = crate::shrink::shrink(loaded, seed, registry, max_runs)?;
    let source = loaded
        .path
        .as_ref()
        .map_or(loaded.scenario.name.clone(), |p| p.display().to_string());
    let out_text = out.display().to_string();
    let file = crate::shrink::to_file(&shrunk, &source, &out_text)?;
    report::write_atomic(out, file.as_bytes())
        .map_err(|e| format!("cannot write {out_text}: {e}"))?;
    Ok(format!(
        "shrunk {} seed {seed} in {} runs; still fails {}
  before: {}
  after:  {}
  wrote {out_text}
  replay: {} replay {out_text} --seed {seed}
",
        loaded.scenario.name,
        shrunk.runs,
        shrunk.invariant,
        shrunk.before,
        shrunk.after,
        program()
    ))
}

fn shrink(
    registry: &Registry,
    arg: &str,
    seed: u64,
    out: Option<PathBuf>,
    max_runs: usize,
    report_args: &ReportArgs,
) -> Result<u8, String> {
    let path = resolve(arg, registry)?;
    let loaded = load(&path, registry, &report_args.set).map_err(|e| e.to_string())?;
    let out = out.unwrap_or_else(|| {
        report::run_dir(&report_args.report_dir, &loaded.scenario.name, seed).join("shrunk.toml")
    });
    match shrink_one(registry, &loaded, seed, &out, max_runs) {
        Ok(text) => {
            print!("{text}");
            Ok(EXIT_PASS)
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(EXIT_FAIL)
        }
    }
}

fn check_history(
    model: &str,
    max_states: Option<u64>,
    max_memory_bytes: Option<u64>,
    files: &[PathBuf],
) -> Result<u8, String> {
    use crate::check::linearizability::{check_history_text, Budget, ModelKind};
    use std::io::Write;
    let model: ModelKind = model.parse().map_err(|_| {
        format!(
            "unknown model \"{model}\": expected one of {}",
            crate::check::linearizability_model_names().join(", ")
        )
    })?;
    let budget = Budget::with_limits(max_states, max_memory_bytes)
        .map_err(|(knob, message)| format!("--{}: {message}", knob.replace('_', "-")))?;
    let mut out = std::io::stdout().lock();
    let mut worst = EXIT_PASS;
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let started = std::time::Instant::now();
        let verdict = check_history_text(&text, model, &budget)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let elapsed = started.elapsed();
        let word = match verdict.status {
            Status::Pass => "linearizable",
            Status::Fail => "not-linearizable",
            Status::Unknown => "unknown",
        };
        let mut text = format!(
            "{} {word} ({:.1} ms): {}\n",
            file.display(),
            elapsed.as_secs_f64() * 1e3,
            verdict.summary
        );
        if verdict.status != Status::Pass {
            worst = EXIT_FAIL;
            if let Some(expected) = &verdict.expected {
                text.push_str(&format!("  expected: {expected}\n"));
            }
            for event in &verdict.evidence {
                let event = crate::history::jepsen::write_edn_event(event);
                text.push_str(&format!("  {event}\n"));
            }
        }
        // A closed pipe (`| head`) ends the output, not the process.
        if out.write_all(text.as_bytes()).is_err() {
            break;
        }
    }
    Ok(worst)
}

fn bugs(
    registry: &Registry,
    targets: &[String],
    max_seeds: u64,
    jobs: Option<usize>,
) -> Result<u8, String> {
    for t in targets {
        if registry.get(t).is_none() {
            return Err(format!(
                "unknown target \"{t}\": expected one of {}",
                registry.names().join(", ")
            ));
        }
    }
    let dir = scenario_dir(registry).ok_or("no scenarios folder found")?;
    let mut scenarios = Vec::new();
    for path in scenario_files(&dir)? {
        scenarios.push(load(&path, registry, &[]).map_err(|e| e.to_string())?);
    }
    let threads =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let results = crate::gate::run(registry, &scenarios, targets, max_seeds, threads);
    print!("{}", crate::gate::table(&results));
    let program = program();
    for r in &results {
        if let Some(c) = &r.caught {
            println!("{} {}: {program} {}", r.target, r.bug, c.replay);
        }
    }
    let all = results.iter().all(|r| r.caught_as_expected());
    if !all {
        println!(
            "some planted bugs were not caught by their expected checker within {max_seeds} seeds"
        );
    }
    Ok(if all { EXIT_PASS } else { EXIT_FAIL })
}

fn merge(dirs: &[PathBuf], out: &Path) -> Result<u8, String> {
    let mut parts = Vec::new();
    for dir in dirs {
        let path = dir.join("results.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let part: SuiteResults = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a chaos results file: {e}", path.display()))?;
        parts.push(part);
    }
    let merged = SuiteResults::merge(parts);
    let summary = write_suite(out, &merged);
    eprintln!(
        "merged {} results from {} folders into {}",
        merged.results.len(),
        dirs.len(),
        out.display()
    );
    print_suite(&summary, &program());
    Ok(if summary.all_passed() {
        EXIT_PASS
    } else {
        EXIT_FAIL
    })
}

/// `summary.json` (canonical), `summary.md` (for a pull request) and
/// `junit.xml` (for CI) beside the run folders. A file that cannot be
/// written is a warning: the verdicts are already printed and decide the
/// exit code.
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
    if summary.not_run > 0 {
        println!(
            "time budget: {} seeds ran, {} were not started",
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
                "  {name}: {}; {} target states reached",
                kinds.join(", "),
                c.states.len()
            );
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
}

fn replay(
    registry: &Registry,
    arg: &str,
    seed: u64,
    trace: bool,
    report_args: &ReportArgs,
) -> Result<u8, String> {
    let path = resolve(arg, registry)?;
    let loaded = load(&path, registry, &report_args.set).map_err(|e| e.to_string())?;
    let run = suite::execute(&loaded, seed, &exec_options(report_args));
    if trace {
        print!("{}", text::timeline(&run.record));
        println!();
    }
    print!("{}", text::summary(&run.report));
    match report::write_run(&report_args.report_dir, &run.report, &run.record) {
        Ok(dir) => {
            println!("report: {}", dir.join("report.json").display());
            println!("        {} (timeline)", dir.join("report.html").display());
        }
        Err(err) => eprintln!("warning: could not write the report: {err}"),
    }
    if run.report.status != Status::Pass {
        println!("replay: {} {}", program(), run.report.replay);
    }
    Ok(if run.report.status == Status::Pass {
        EXIT_PASS
    } else {
        EXIT_FAIL
    })
}

fn new_scenario(
    registry: &Registry,
    name: &str,
    target: &str,
    dir: &Path,
    force: bool,
) -> Result<u8, String> {
    let t = registry.get(target).ok_or_else(|| {
        format!(
            "unknown target \"{target}\": expected one of {}",
            registry.names().join(", ")
        )
    })?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "\"{name}\" is not a valid name: use letters, digits, '-' and '_'"
        ));
    }
    let path = dir.join(format!("{name}.toml"));
    if path.exists() && !force {
        return Err(format!(
            "{} exists; pass --force to overwrite it",
            path.display()
        ));
    }
    let host = t
        .configure(&toml::Table::new())
        .ok()
        .and_then(|system| system.hosts().into_iter().next())
        .unwrap_or_else(|| "servers".into());
    let text = starter_scenario(name, t.name(), t.settings_template(), &host);
    // The template must itself be valid: check before writing.
    scenario::parse_str(&text, Some(&path), registry)
        .map_err(|e| format!("internal: the starter scenario is invalid: {e}"))?;
    report::write_atomic(&path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    println!("try it: {} run {}", program(), path.display());
    Ok(EXIT_PASS)
}

fn starter_scenario(name: &str, target: &str, settings: &str, host: &str) -> String {
    let settings: String = settings.lines().map(|l| format!("{l}\n")).collect();
    format!(
        r#"# A scenario: a target system, a workload, faults and the invariants that must hold.
# Every key is optional unless marked; the values shown are the defaults.
name = "{name}"                    # required; names the report folder
description = "what this scenario shows"
seeds = 20                        # seeds `chaos run` uses by default

[target]
system = "{target}"               # required
{settings}
[simulation]
duration = "10s"                  # how long the workload runs (simulated time)
tick = "1ms"                      # simulated time per step
drain = "10s"                     # extra time for in-flight operations and final reads

[network]
latency = "1ms"                   # one-way latency of every link
jitter = "0s"                     # plus up to this much, at random

[workload]
clients = 4                       # logical clients
client_hosts = 1                  # hosts they run on (client-0, client-1, ...)
rate = 20.0                       # operations per second per client
mix = {{ read = 1, write = 1 }}     # weights of read, write, cas, append, add, ...
keys = 1                          # keys k0, k1, ...
timeout = "1s"                    # after this an operation is recorded as info
final_read = false                # read every key after the workload

# Hand-written faults: each starts `at` and, with `duration`, is undone after it.
[[faults.events]]
kind = "isolate"                  # partition, isolate, majority-minority, bridge,
at = "3s"                         # partition-oneway, heal, latency, loss, crash,
duration = "2s"                   # restart, bounce, pause, resume
host = "{host}"

# A random ("swarm") fault plan, drawn per seed:
# [faults.random]
# kinds = ["isolate", "crash", "pause", "latency", "loss"]
# interval = ["1s", "4s"]
# duration = ["500ms", "3s"]
# recovery = "5s"                 # every fault healed this long before the end

[invariants.availability]
min_ok_ratio_after_heal = 0.9     # of operations invoked after the last heal
"#,
    )
}
