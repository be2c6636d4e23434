//! Reports: pure functions of a plan, a run record and its verdicts.
//!
//! The JSON report is canonical and complete; every other format is a view
//! of it: [`markdown`] for pull requests, [`junit`] for CI, [`html`] for
//! seeing a run's faults and operations on one timeline, [`perfetto`] for
//! opening the run in ui.perfetto.dev, [`text`] for the terminal; a
//! suite's `summary.json` has [`suite_html`] and Markdown views. Field order is fixed by the structs below and maps have sorted
//! keys, so the same seed gives byte-identical reports in any process.
//! Files are written atomically (a temporary file renamed into place), so a
//! crash or a concurrent reader never sees half a report.

mod evidence_log;
pub mod histogram;
pub mod history_files;
pub mod html;
pub mod junit;
pub mod markdown;
mod md_text;
pub mod perfetto;
mod recovery_md;
pub mod recovery_tally;
mod seed_results;
pub mod suite_html;
pub mod summary;
pub mod text;
mod view;

pub use history_files::{write_history, HistoryExport, HISTORY_EDN, HISTORY_JSONL};
pub use perfetto::{PerfettoExport, PERFETTO_JSON};
pub use seed_results::SeedResults;

use crate::assertions::AssertionRecord;
use crate::check::recovery::RecoveryReport;
use crate::check::{Status, Verdict};
use crate::fault::FaultHit;
use crate::history::{History, OpKind, Outcome};
use crate::plan::Plan;
use crate::record::{RunEnd, RunRecord};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The harness version written into every report.
pub const HARNESS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Counts of operations by kind and outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryStats {
    pub events: u64,
    pub dropped_events: u64,
    pub operations: u64,
    pub by_kind: BTreeMap<OpKind, OutcomeCounts>,
}

impl HistoryStats {
    pub fn of(history: &History) -> HistoryStats {
        let mut stats = HistoryStats {
            events: history.len() as u64,
            dropped_events: history.dropped_events,
            ..Default::default()
        };
        if let Ok(ops) = history.operations() {
            stats.operations = ops.len() as u64;
            for op in ops {
                let counts = stats.by_kind.entry(op.f).or_default();
                match op.outcome {
                    Outcome::Ok => counts.ok += 1,
                    Outcome::Fail => counts.fail += 1,
                    Outcome::Info => counts.info += 1,
                }
            }
        }
        stats
    }
}

/// How the simulation went, without the history itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    #[serde(flatten)]
    pub end: RunEnd,
    #[serde(with = "crate::duration::serde_text")]
    pub simulated: Duration,
    pub steps: u64,
    pub trace_events: u64,
    pub trace_dropped: u64,
}

/// The canonical report of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub harness_version: String,
    pub scenario: Scenario,
    /// The scenario file, as given on the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_file: Option<String>,
    pub seed: u64,
    pub status: Status,
    /// `chaos` arguments that reproduce this run.
    pub replay: String,
    pub plan: Plan,
    /// What each fault aimed at a role hit when it fired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fault_hits: Vec<FaultHit>,
    pub run: RunSummary,
    pub history: HistoryStats,
    pub verdicts: Vec<Verdict>,
    /// Every assertion the run reached, sorted by message then kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionRecord>,
    /// Each fault's time to detect, impact and recover (scenarios with
    /// `[invariants.availability]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryReport>,
    pub trace_hash: String,
}

impl RunReport {
    pub fn new(
        scenario: &Scenario,
        scenario_file: Option<&Path>,
        overrides: &[String],
        plan: &Plan,
        record: &RunRecord,
        verdicts: Vec<Verdict>,
    ) -> RunReport {
        let file = scenario_file.map(|p| p.display().to_string());
        RunReport {
            harness_version: HARNESS_VERSION.to_string(),
            scenario: scenario.clone(),
            replay: replay_args(
                file.as_deref().unwrap_or(&scenario.name),
                plan.seed,
                overrides,
            ),
            scenario_file: file,
            seed: plan.seed,
            status: crate::check::overall(&verdicts),
            plan: plan.clone(),
            fault_hits: record.fault_hits.clone(),
            run: RunSummary {
                end: record.end.clone(),
                simulated: record.elapsed,
                steps: record.steps,
                trace_events: record.trace.len() as u64,
                trace_dropped: record.trace_dropped,
            },
            history: HistoryStats::of(&record.history),
            verdicts,
            assertions: record.assertions.clone(),
            recovery: None,
            trace_hash: record.trace_hash.clone(),
        }
    }

    /// The report with its per-fault recovery measures.
    pub fn with_recovery(mut self, recovery: Option<RecoveryReport>) -> RunReport {
        self.recovery = recovery;
        self
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("reports serialise");
        text.push('\n');
        text
    }

    pub fn failed_invariants(&self) -> Vec<&Verdict> {
        self.verdicts
            .iter()
            .filter(|v| v.status != Status::Pass)
            .collect()
    }
}

/// The arguments of `chaos` that replay a run, with any `--set`
/// overrides it was run with. Each word the user supplied (the scenario
/// path, each override) is quoted for a POSIX shell where needed
/// ([`shell_word`]), so the command pastes correctly.
pub fn replay_args(scenario: &str, seed: u64, overrides: &[String]) -> String {
    let mut args = format!("replay {} --seed {seed}", shell_word(scenario));
    for o in overrides {
        args.push_str(&format!(" --set {}", shell_word(o)));
    }
    args
}

/// `n` and a noun, in the plural unless `n` is 1: "1 key", "3 keys".
/// Only for nouns whose plural adds an `s`.
pub fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `word` as one word of a POSIX shell command line: unchanged when every
/// character is one no shell treats specially (letters, digits and
/// `=._-:/`), otherwise in single quotes, a `'` inside written `'\''`
/// (close the quotes, an escaped quote, reopen them). An empty word is
/// `''`.
pub fn shell_word(word: &str) -> std::borrow::Cow<'_, str> {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "=._-:/".contains(c));
    if plain {
        word.into()
    } else {
        format!("'{}'", word.replace('\'', "'\\''")).into()
    }
}

/// How replay commands in reports and shrunk files spell the program
/// until [`set_replay_program`] names it.
pub const DEFAULT_REPLAY_PROGRAM: &str = "chaos";

static REPLAY_PROGRAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the program in every replay command written from now on: the CLI
/// sets it once, at start, to its own binary's file name (`chaos`, or a
/// user's `my-chaos`), so files say what the terminal says. The same
/// binary always writes the same bytes. The first call wins: a binary that
/// stands in for another may name it before calling `cli::main`.
pub fn set_replay_program(name: &str) {
    let _ = REPLAY_PROGRAM.set(name.to_string());
}

/// The program replay commands in files name (see [`set_replay_program`]).
pub fn replay_program() -> &'static str {
    REPLAY_PROGRAM
        .get()
        .map_or(DEFAULT_REPLAY_PROGRAM, String::as_str)
}

/// The full command that replays a run, from its `replay` arguments.
pub fn replay_command(replay: &str) -> String {
    format!("{} {replay}", replay_program())
}

#[cfg(test)]
mod shell_tests {
    use super::*;

    #[test]
    fn plain_words_stay_as_they_are_and_others_are_single_quoted() {
        assert_eq!(
            shell_word("scenarios/register-isolate.toml"),
            "scenarios/register-isolate.toml"
        );
        assert_eq!(shell_word("workload.rate=2.5"), "workload.rate=2.5");
        assert_eq!(shell_word("my dir/x.toml"), "'my dir/x.toml'");
        assert_eq!(shell_word("it's.toml"), "'it'\\''s.toml'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("$HOME;rm"), "'$HOME;rm'");
        assert_eq!(
            replay_args("a b/it's.toml", 3, &["workload.mix={ read = 1 }".into()]),
            "replay 'a b/it'\\''s.toml' --seed 3 --set 'workload.mix={ read = 1 }'"
        );
    }
}

/// `DIR/<scenario>/seed-<S>`.
pub fn run_dir(report_dir: &Path, scenario: &str, seed: u64) -> PathBuf {
    report_dir.join(scenario).join(format!("seed-{seed}"))
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// folder, then a rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |out| out.write_all(contents))
}

/// [`write_atomic`] for contents produced by `write` as it goes, so a big
/// file (a sweep's results) is never held in memory whole.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{:?}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("report"),
        std::process::id(),
        std::thread::current().id()
    ));
    let written = (|| {
        let mut out = io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut out)?;
        io::Write::flush(&mut out)?;
        drop(out);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // Whatever failed (a full disk, `path` a directory), leave no
        // half-written temporary behind.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Writes a run's report files into its folder and returns the folder:
/// `report.json` (canonical), its history (`history.edn`, `history.jsonl`)
/// and `report.md` and `report.html` (its views). Each file is written
/// atomically, the JSON first, so a reader that finds a history or a view
/// also finds the report it belongs to.
pub fn write_run(report_dir: &Path, report: &RunReport, record: &RunRecord) -> io::Result<PathBuf> {
    write_run_views(report_dir, report, record, Views::All, true, false)
}

/// Which views to write beside `report.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Views {
    /// Markdown and HTML too.
    All,
    /// Only the canonical JSON (a passing seed of a big sweep: the views
    /// can be rendered again with `chaos replay`).
    JsonOnly,
}

/// [`write_run`], choosing the views, whether the history is exported and
/// whether a Perfetto trace ([`PERFETTO_JSON`]) is written beside them.
pub fn write_run_views(
    report_dir: &Path,
    report: &RunReport,
    record: &RunRecord,
    views: Views,
    history: bool,
    perfetto: bool,
) -> io::Result<PathBuf> {
    let dir = run_dir(report_dir, &report.scenario.name, report.seed);
    write_atomic(&dir.join("report.json"), report.to_json().as_bytes())?;
    if history {
        write_history(&dir, &record.history)?;
    }
    if perfetto {
        perfetto::write_file(&dir.join(PERFETTO_JSON), report, record)?;
    }
    if views == Views::JsonOnly {
        return Ok(dir);
    }
    write_atomic(
        &dir.join("report.md"),
        markdown::render(report, record).as_bytes(),
    )?;
    write_atomic(
        &dir.join("report.html"),
        html::render(report, record).as_bytes(),
    )?;
    Ok(dir)
}
