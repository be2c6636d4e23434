//! `explore`: a coverage-guided search of one scenario, its report, and
//! for a finding the failing run as a scenario file, then shrunk.
//!
//! Everything goes into `REPORT_DIR/explore/<scenario>/`: `explore.json`,
//! `explore.md`, `finding.toml` and `finding-shrunk.toml` (files of an
//! earlier search there are removed first, so a folder never mixes two).

use super::args::ReportArgs;
use super::{interrupt, load, program, resolve, EXIT_FAIL, EXIT_PASS};
use crate::explore::{self, FindingFiles, Options, Stop};
use crate::report::write_atomic;
use crate::suite::{LoadedScenario, StopWhen};
use crate::target::Registry;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Cap on runs when only a time budget is given.
pub const TIME_BUDGET_MAX_RUNS: usize = 1_000_000;

/// The flags of `chaos explore`.
pub(super) struct ExploreArgs {
    pub(super) runs: Option<usize>,
    pub(super) time_budget: Option<Duration>,
    pub(super) explore_seed: u64,
    pub(super) jobs: Option<usize>,
    pub(super) batch: usize,
    pub(super) max_corpus: usize,
    pub(super) shrink_runs: usize,
}

const FINDING: &str = "finding.toml";
const FINDING_SHRUNK: &str = "finding-shrunk.toml";

pub(super) fn explore(
    registry: &Registry,
    arg: &str,
    args: &ExploreArgs,
    report_args: &ReportArgs,
) -> Result<u8, String> {
    if report_args.check_determinism {
        return Err("explore does not take --check-determinism: replay a finding with `chaos replay FILE --seed S --check-determinism`".into());
    }
    if args.runs == Some(0) || args.batch == 0 || args.max_corpus == 0 {
        return Err("--runs, --batch and --max-corpus must be at least 1".into());
    }
    let path = resolve(arg, registry)?;
    let loaded = load(&path, registry, &report_args.set).map_err(|e| e.to_string())?;
    let dir = report_args
        .report_dir
        .join("explore")
        .join(&loaded.scenario.name);
    clear_earlier(&dir)?;
    interrupt::install();
    let threads = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let max_runs = args.runs.unwrap_or(if args.time_budget.is_some() {
        TIME_BUDGET_MAX_RUNS
    } else {
        explore::DEFAULT_MAX_RUNS
    });
    let options = Options {
        explore_seed: args.explore_seed,
        max_runs,
        batch: args.batch,
        max_corpus: args.max_corpus,
        threads,
        stop: StopWhen {
            deadline: args.time_budget.map(|t| Instant::now() + t),
            interrupted: Some(&interrupt::INTERRUPTED),
        },
    };
    let name = loaded.scenario.name.clone();
    let exploration = explore::explore(&loaded, registry, &options, |p| {
        eprintln!(
            "explore {name}: {} runs, corpus {}, coverage {} features (+{})",
            p.runs, p.corpus, p.features, p.new_features
        );
    });
    let files = match &exploration.finding {
        Some(finding) => Some(write_finding(
            registry,
            &exploration,
            finding,
            &dir,
            args.shrink_runs,
        )?),
        None => None,
    };
    let json = explore::write(&dir, &exploration, files.as_ref())?;
    println!(
        "explore {name}: {} runs, corpus {}, {} features",
        exploration.runs,
        exploration.corpus.len(),
        exploration.coverage.len()
    );
    println!("report: {}", json.display());
    println!("        {}", dir.join(explore::EXPLORE_MD).display());
    if exploration.problem_runs > 0 {
        println!(
            "{} runs neither passed nor failed (undecided verdicts or harness errors): not a clean search; see {}",
            exploration.problem_runs,
            dir.join(explore::EXPLORE_MD).display()
        );
    }
    match (&exploration.finding, &files) {
        (Some(f), Some(files)) => {
            println!(
                "FAILED at run {} (seed {}): {}",
                f.run,
                f.seed,
                f.details.join("; ")
            );
            println!("  scenario: {}", files.scenario);
            println!("  replay:   {}", with_program(&files.replay));
            if let (Some(s), Some(r)) = (&files.shrunk, &files.shrunk_replay) {
                println!("  shrunk:   {s}");
                println!("  replay:   {}", with_program(r));
            }
            if let Some(why) = &files.shrink {
                println!("  shrink:   {why}");
            }
            Ok(EXIT_FAIL)
        }
        _ if exploration.stop == Stop::Time && interrupt::requested() => {
            Ok(interrupt::EXIT_INTERRUPTED)
        }
        _ if exploration.problem_runs > 0 => Ok(EXIT_FAIL),
        _ => Ok(EXIT_PASS),
    }
}

/// Replay commands in files name the binary; the terminal says how it was
/// run (`cargo run --release --` under cargo).
fn with_program(replay: &str) -> String {
    match replay.strip_prefix(crate::report::replay_program()) {
        Some(rest) => format!("{}{rest}", program()),
        None => replay.to_string(),
    }
}

/// Removes what an earlier search left in `dir`.
fn clear_earlier(dir: &Path) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name == FINDING
            || name == FINDING_SHRUNK
            || name == explore::EXPLORE_JSON
            || name == explore::EXPLORE_MD
            || (name.starts_with("problem-run-") && name.ends_with(".toml"));
        if ours {
            std::fs::remove_file(entry.path())
                .map_err(|e| format!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Writes the finding as a scenario file, then shrinks it.
fn write_finding(
    registry: &Registry,
    exploration: &explore::Exploration,
    finding: &explore::Finding,
    dir: &Path,
    shrink_runs: usize,
) -> Result<FindingFiles, String> {
    let file: PathBuf = dir.join(FINDING);
    let file_text = file.display().to_string();
    let text = explore::finding_file(exploration, finding, &file_text)?;
    write_atomic(&file, text.as_bytes()).map_err(|e| format!("cannot write {file_text}: {e}"))?;
    let mut files = FindingFiles {
        scenario: file_text.clone(),
        replay: explore::replay(&file_text, finding.seed),
        ..FindingFiles::default()
    };
    if shrink_runs == 0 {
        files.shrink = Some("not shrunk (--shrink-runs 0)".into());
        return Ok(files);
    }
    let loaded = match LoadedScenario::from_scenario(finding.scenario.clone(), registry) {
        Ok(mut l) => {
            l.path = Some(file.clone());
            l
        }
        Err(e) => {
            files.shrink = Some(format!("the written-out plan is not a valid scenario: {e}"));
            return Ok(files);
        }
    };
    match crate::shrink::shrink(&loaded, finding.seed, registry, shrink_runs) {
        Ok(shrunk) => {
            let out = dir.join(FINDING_SHRUNK);
            let out_text = out.display().to_string();
            let body = crate::shrink::to_file(&shrunk, &file_text, &out_text)?;
            write_atomic(&out, body.as_bytes())
                .map_err(|e| format!("cannot write {out_text}: {e}"))?;
            files.shrink = Some(format!(
                "{} runs; still fails {}; before: {}; after: {}",
                shrunk.runs, shrunk.invariant, shrunk.before, shrunk.after
            ));
            files.shrunk_replay = Some(explore::replay(&out_text, finding.seed));
            files.shrunk = Some(out_text);
        }
        Err(e) => files.shrink = Some(format!("not shrunk: {e}")),
    }
    Ok(files)
}
