//! How the commands print: as text for a person (the default) or as one
//! JSON document for a program (`--format json`), and whether the words
//! PASS, FAIL and UNKNOWN are coloured.
//!
//! The JSON documents are what the README's "Machine-readable output"
//! section describes; each starts with `"format"` naming its schema and
//! version (`chaos.replay/1`, …), so a consumer can refuse one it does not
//! know. `run --format json` prints `summary.json` itself. With JSON on
//! stdout, anything else a command says goes to stderr.
//!
//! Colour follows the conventions other tools share: on when the stream
//! is a terminal, off when `NO_COLOR` is set to anything but the empty
//! string (<https://no-color.org>) and on, even when piped, when
//! `CLICOLOR_FORCE` is set to anything but `0` or the empty string.

use crate::check::{Status, Verdict};
use crate::report::RunReport;
use serde::Serialize;
use std::io::IsTerminal;

/// `--format`: how a command's summary is printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Format {
    /// For a person: lines of text.
    #[default]
    Text,
    /// For a program: one JSON document on stdout (schemas in the README).
    Json,
}

/// The `--format` flag, shared by the commands that have it.
#[derive(clap::Args, Debug, Clone, Copy)]
pub(super) struct FormatArg {
    /// How to print the summary: `text` for a person, or `json`, one JSON
    /// document on stdout with a documented schema (see the README).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub(super) format: Format,
}

impl FormatArg {
    pub(super) fn json(self) -> bool {
        self.format == Format::Json
    }
}

/// Whether to colour what goes to a stream that is (`terminal`) or is not
/// a terminal, given the environment.
pub(super) fn colour_wanted(terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("NO_COLOR") {
        return false;
    }
    if set("CLICOLOR_FORCE") && std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    terminal
}

/// Colour for stdout.
pub(super) fn stdout_colour() -> bool {
    colour_wanted(std::io::stdout().is_terminal())
}

/// Colour for stderr.
pub(super) fn stderr_colour() -> bool {
    colour_wanted(std::io::stderr().is_terminal())
}

/// Prints `value` as pretty JSON with a closing newline. A closed pipe
/// ends the output quietly, as everywhere else in the CLI.
pub(super) fn print_json<T: Serialize>(value: &T) {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value).expect("summaries serialise");
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.write_all(b"\n");
}

/// One verdict, without its evidence and details (those are in
/// report.json).
#[derive(Serialize)]
pub(super) struct VerdictLine<'a> {
    invariant: &'a str,
    status: Status,
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<&'a str>,
}

impl<'a> From<&'a Verdict> for VerdictLine<'a> {
    fn from(v: &'a Verdict) -> Self {
        VerdictLine {
            invariant: &v.invariant,
            status: v.status,
            summary: &v.summary,
            expected: v.expected.as_deref(),
        }
    }
}

/// `replay --format json` (schema `chaos.replay/1`).
#[derive(Serialize)]
pub(super) struct ReplaySummary<'a> {
    format: &'static str,
    scenario: &'a str,
    seed: u64,
    status: Status,
    /// Simulated time the run took, e.g. `"2.5s"`.
    simulated: String,
    operations: u64,
    trace_hash: &'a str,
    verdicts: Vec<VerdictLine<'a>>,
    /// The command that replays this run.
    replay: String,
    /// Where report.json, report.html and history.edn were written.
    report_dir: String,
    /// The Perfetto trace, when `--perfetto` asked for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    perfetto: Option<String>,
}

impl<'a> ReplaySummary<'a> {
    pub(super) fn new(
        report: &'a RunReport,
        program: &str,
        report_dir: String,
        perfetto: Option<String>,
    ) -> Self {
        ReplaySummary {
            format: "chaos.replay/1",
            scenario: &report.scenario.name,
            seed: report.seed,
            status: report.status,
            simulated: crate::duration::human(report.run.simulated),
            operations: report.history.operations,
            trace_hash: &report.trace_hash,
            verdicts: report.verdicts.iter().map(VerdictLine::from).collect(),
            replay: format!("{program} {}", report.replay),
            report_dir,
            perfetto,
        }
    }
}

/// One file's verdict in `check-history --format json` (schema
/// `chaos.check-history/1`).
#[derive(Serialize)]
pub(super) struct HistoryVerdict {
    pub(super) file: String,
    pub(super) status: Status,
    /// The model's word for the outcome: `linearizable`,
    /// `not-linearizable`, `serializable`, `not-serializable`, `unknown`, ….
    pub(super) verdict: String,
    pub(super) summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) expected: Option<String>,
    /// The events that show the violation, as EDN lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) evidence: Vec<String>,
    /// The checker's counts, as report.json carries them: for
    /// linearizability `states_explored`, `operations`, `partitions` and,
    /// where they apply, `found_within_states` and `undecided_keys`.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub(super) details: serde_json::Map<String, serde_json::Value>,
    /// Wall-clock time the check took: the one field that differs between
    /// two runs on the same file.
    pub(super) elapsed_ms: f64,
}

impl HistoryVerdict {
    pub(super) fn new(
        file: &std::path::Path,
        verdict: &Verdict,
        word: String,
        elapsed: std::time::Duration,
    ) -> Self {
        HistoryVerdict {
            file: file.display().to_string(),
            status: verdict.status,
            verdict: word,
            summary: verdict.summary.clone(),
            expected: verdict.expected.clone(),
            evidence: verdict
                .evidence
                .iter()
                .map(crate::history::jepsen::write_edn_event)
                .collect(),
            details: verdict.details.clone(),
            elapsed_ms: elapsed.as_secs_f64() * 1e3,
        }
    }
}

/// `check-history --format json`.
#[derive(Serialize)]
pub(super) struct HistorySummary<'a> {
    format: &'static str,
    model: &'a str,
    /// For list-append and rw-register: the consistency model checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    consistency: Option<&'a str>,
    files: Vec<HistoryVerdict>,
}

impl<'a> HistorySummary<'a> {
    pub(super) fn new(
        model: &'a str,
        consistency: Option<&'a str>,
        files: Vec<HistoryVerdict>,
    ) -> Self {
        HistorySummary {
            format: "chaos.check-history/1",
            model,
            consistency,
            files,
        }
    }
}

/// `bugs --format json` (schema `chaos.bugs/1`).
#[derive(Serialize)]
pub(super) struct BugsSummary<'a> {
    format: &'static str,
    max_seeds: u64,
    /// Every planted bug caught by the invariant its target expects.
    all_caught: bool,
    bugs: &'a [crate::gate::BugResult],
    /// With `--swarm-seeds N`: how each bug fared on the swarm scenarios.
    #[serde(skip_serializing_if = "Option::is_none")]
    swarm: Option<SwarmPart<'a>>,
}

#[derive(Serialize)]
struct SwarmPart<'a> {
    seeds: u64,
    results: &'a [crate::gate::SwarmResult],
}

impl<'a> BugsSummary<'a> {
    pub(super) fn new(
        max_seeds: u64,
        all_caught: bool,
        bugs: &'a [crate::gate::BugResult],
        swarm: Option<(u64, &'a [crate::gate::SwarmResult])>,
    ) -> Self {
        BugsSummary {
            format: "chaos.bugs/1",
            max_seeds,
            all_caught,
            bugs,
            swarm: swarm.map(|(seeds, results)| SwarmPart { seeds, results }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_flag_parses_text_and_json_only() {
        use clap::ValueEnum;
        assert_eq!(Format::from_str("json", false), Ok(Format::Json));
        assert_eq!(Format::from_str("text", false), Ok(Format::Text));
        assert!(Format::from_str("yaml", false).is_err());
    }
}
