//! The commands and their flags, as clap declares them.

use super::output::FormatArg;
use crate::report::{HistoryExport, PerfettoExport};
use crate::suite;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "chaos",
    version,
    about = "Deterministic chaos and fault-injection testing on turmoil",
    long_about = "Runs scenarios (a target system, a workload, a fault plan and invariants) \
                  under seeds, in a deterministic network simulator. The same scenario and seed \
                  always produce the same history, trace and report."
)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(clap::Args, Debug, Clone)]
pub(super) struct ReportArgs {
    /// Where run reports go: DIR/<scenario>/seed-<S>/report.json.
    #[arg(long, default_value = "target/chaos-reports")]
    pub(super) report_dir: PathBuf,
    /// Run every seed twice and fail it if anything observable differs.
    #[arg(long)]
    pub(super) check_determinism: bool,
    /// Override a scenario key, e.g. `--set target.retry_unsafe=true` or
    /// `--set workload.clients=16` (value in TOML syntax; repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(super) set: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
    /// List the scenarios (of ./scenarios, else the bundled ones) and the
    /// targets.
    List,
    /// Run scenarios over many seeds, in parallel.
    Run {
        /// Scenario files or names; the whole bundled suite if none.
        scenarios: Vec<String>,
        /// Seeds 0..N for every scenario (default: each scenario's `seeds`).
        #[arg(long, conflicts_with = "seed_range", value_name = "N")]
        seeds: Option<u64>,
        /// Seeds A..B (B excluded) for every scenario.
        #[arg(long, value_parser = parse_seed_range, value_name = "A..B")]
        seed_range: Option<(u64, u64)>,
        /// Worker threads (default: every core; at most 1024).
        #[arg(long, short, value_parser = parse_jobs)]
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
        /// Which seeds get their history written beside report.json, as
        /// history.edn (Jepsen EDN, what check-history reads) and
        /// history.jsonl: failing (seeds that did not pass), all, or none.
        #[arg(long, value_enum, value_name = "WHICH", default_value_t = HistoryExport::Failing)]
        history: HistoryExport,
        /// Which seeds get a Perfetto trace beside report.json, as
        /// perfetto.json (Chrome trace-event JSON that ui.perfetto.dev
        /// opens): failing (seeds that did not pass), all, or none.
        #[arg(long, value_enum, value_name = "WHICH", default_value_t = PerfettoExport::Failing)]
        perfetto: PerfettoExport,
        #[command(flatten)]
        report: ReportArgs,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Search one scenario's fault plans and workload seeds for a failure,
    /// guided by coverage: keep the runs that reached something new, mutate
    /// them, stop at the first failure (written out and shrunk) or the
    /// budget. Reports go to REPORT_DIR/explore/<scenario>/.
    Explore {
        /// Scenario file or name.
        scenario: String,
        /// Most runs (default 500; with only --time-budget, 1000000).
        #[arg(long)]
        runs: Option<usize>,
        /// Start no new generation after this much wall-clock time (e.g.
        /// "10m"); the report then depends on how far it got.
        #[arg(long, value_parser = crate::duration::parse_duration, value_name = "DURATION")]
        time_budget: Option<std::time::Duration>,
        /// Seeds the search: the same explore seed gives the same corpus,
        /// findings and report, whatever --jobs.
        #[arg(long, default_value_t = 0)]
        explore_seed: u64,
        /// Worker threads (default: every core).
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Candidates per generation.
        #[arg(long, default_value_t = crate::explore::DEFAULT_BATCH)]
        batch: usize,
        /// Most corpus entries.
        #[arg(long, default_value_t = crate::explore::DEFAULT_MAX_CORPUS)]
        max_corpus: usize,
        /// Most candidate runs when shrinking a finding (0: do not shrink).
        #[arg(long, default_value_t = crate::shrink::DEFAULT_MAX_RUNS)]
        shrink_runs: usize,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Check histories (Jepsen log or EDN format) for linearizability, or
    /// transactional histories for a consistency model.
    CheckHistory {
        /// The sequential model (register, kv, counter or queue), or the
        /// transactional one (list-append or rw-register).
        #[arg(long, value_name = "MODEL")]
        model: String,
        /// Most memoised search states per key before answering unknown
        /// (default 4000000).
        #[arg(long)]
        max_states: Option<u64>,
        /// Most bytes one key's search may hold before answering unknown
        /// (default 536870912, 512 MiB).
        #[arg(long)]
        max_memory_bytes: Option<u64>,
        /// Largest history file read, in bytes; a larger one is an error.
        #[arg(long, default_value_t = super::tools::DEFAULT_MAX_INPUT_BYTES)]
        max_input_bytes: u64,
        #[command(flatten)]
        txn: super::txn_history::TxnCheckArgs,
        #[command(flatten)]
        format: FormatArg,
        /// History files: Jepsen log lines or one EDN map per line (as
        /// run and replay write in history.edn).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// The planted-bug gate: run every planted bug of every target against
    /// the bundled scenarios and show which invariant catches it, and when.
    Bugs {
        /// Only this target's bugs (repeatable; default: every target).
        #[arg(long = "target", value_name = "TARGET")]
        targets: Vec<String>,
        /// Seeds tried per bug and scenario.
        #[arg(long, default_value_t = crate::gate::DEFAULT_MAX_SEEDS)]
        max_seeds: u64,
        /// Also run every bug on seeds 0..N of its target's generic swarm
        /// scenarios (`*-swarm`) and report how many fail and the first
        /// (0: off). Reported, not part of the pass/fail verdict.
        #[arg(long, default_value_t = 0)]
        swarm_seeds: u64,
        /// Worker threads (default: every core; at most 1024).
        #[arg(long, short, value_parser = parse_jobs)]
        jobs: Option<usize>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Combine the results of shard runs into one suite report.
    Merge {
        /// Report folders of the shards (each holds a results.json).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Where the merged summary goes.
        #[arg(long, default_value = "target/chaos-reports")]
        report_dir: PathBuf,
    },
    /// Rerun one seed and show its verdicts.
    Replay {
        /// Scenario file or name (a file stem or `name` in the scenarios
        /// folder; see `chaos list`).
        scenario: String,
        /// The seed to run: it fixes the fault plan, the workload and the
        /// network's randomness, so the run is the same every time.
        #[arg(long)]
        seed: u64,
        /// Print the timeline of faults, host events, logs and operations.
        #[arg(long)]
        trace: bool,
        /// Also write the run as Chrome trace-event JSON to FILE, for
        /// ui.perfetto.dev: a track per server, client and the nemesis.
        #[arg(long, value_name = "FILE")]
        perfetto: Option<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Shrink a failing seed to a minimal scenario that fails the same way.
    Shrink {
        /// Scenario file or name (a file stem or `name` in the scenarios
        /// folder; see `chaos list`).
        scenario: String,
        /// The failing seed to shrink.
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
        /// Scenario files (.toml) to validate.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Write a commented starter scenario.
    New {
        /// The scenario's name: the file is DIR/NAME.toml.
        name: String,
        /// The target system it tests (see `chaos list`).
        #[arg(long)]
        target: String,
        /// Folder to write it in.
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script: `source <(chaos completions bash)`,
    /// or see the README for zsh and fish.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Most `--jobs`: more worker threads than this is a typo, not a machine.
pub(super) const MAX_JOBS: usize = 1024;

/// `--jobs N`: at least one thread, at most [`MAX_JOBS`].
pub(super) fn parse_jobs(text: &str) -> Result<usize, String> {
    let n: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of worker threads, found {text:?}"))?;
    match n {
        0 => Err("0 worker threads run nothing: give at least 1".into()),
        n if n > MAX_JOBS => Err(format!(
            "{n} worker threads is more than {MAX_JOBS}; each seed runs on one core, so use at most as many as the machine has"
        )),
        n => Ok(n),
    }
}

pub(super) fn parse_seed_range(text: &str) -> Result<(u64, u64), String> {
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
