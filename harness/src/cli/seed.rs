//! `replay` and `shrink`: one seed of one scenario, rerun with its
//! verdicts and report, or shrunk to a minimal scenario file.

use super::args::ReportArgs;
use super::output;
use super::{exec_options, load, program, resolve};
use super::{EXIT_FAIL, EXIT_PASS};
use crate::check::Status;
use crate::report::{self, text};
use crate::suite::{self, LoadedScenario};
use crate::target::Registry;
use std::path::{Path, PathBuf};

/// What `replay` writes besides its report.
pub(super) struct ReplayOutputs<'a> {
    /// Print the timeline.
    pub(super) trace: bool,
    /// Write the Perfetto trace here.
    pub(super) perfetto: Option<&'a Path>,
}

pub(super) fn replay(
    registry: &Registry,
    arg: &str,
    seed: u64,
    outputs: ReplayOutputs<'_>,
    report_args: &ReportArgs,
    json: bool,
) -> Result<u8, String> {
    let trace = outputs.trace;
    let path = resolve(arg, registry)?;
    let loaded = load(&path, registry, &report_args.set).map_err(|e| e.to_string())?;
    let run = suite::execute(&loaded, seed, &exec_options(report_args));
    if trace {
        // With JSON on stdout the timeline goes to stderr, whole.
        let timeline = text::timeline(&run.record);
        if json {
            eprint!("{timeline}");
        } else {
            print!("{timeline}");
            println!();
        }
    }
    if !json {
        print!("{}", text::summary_in(&run.report, output::stdout_colour()));
    }
    let dir =
        report::write_run(&report_args.report_dir, &run.report, &run.record).map_err(|err| {
            format!(
                "could not write the report into {}: {err}",
                report_args.report_dir.display()
            )
        })?;
    if let Some(file) = outputs.perfetto {
        report::perfetto::write_file(file, &run.report, &run.record).map_err(|err| {
            format!(
                "could not write the Perfetto trace {}: {err}",
                file.display()
            )
        })?;
    }
    if json {
        let perfetto = outputs.perfetto.map(|file| file.display().to_string());
        let summary = output::ReplaySummary::new(
            &run.report,
            &program(),
            dir.display().to_string(),
            perfetto,
        );
        output::print_json(&summary);
    } else {
        println!("report: {}", dir.join("report.json").display());
        println!("        {} (timeline)", dir.join("report.html").display());
        println!(
            "        {} (history, for check-history)",
            dir.join(report::HISTORY_EDN).display()
        );
        if let Some(file) = outputs.perfetto {
            println!("        {} (for ui.perfetto.dev)", file.display());
        }
        if run.report.status != Status::Pass {
            println!("replay: {} {}", program(), run.report.replay);
        }
    }
    Ok(if run.report.status == Status::Pass {
        EXIT_PASS
    } else {
        EXIT_FAIL
    })
}

/// Shrinks one seed, writes the file, and returns what to print.
pub(super) fn shrink_one(
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
  replay: {} replay {} --seed {seed}
",
        loaded.scenario.name,
        shrunk.runs,
        shrunk.invariant,
        shrunk.before,
        shrunk.after,
        program(),
        report::shell_word(&out_text)
    ))
}

pub(super) fn shrink(
    registry: &Registry,
    arg: &str,
    seed: u64,
    out: Option<PathBuf>,
    max_runs: usize,
    report_args: &ReportArgs,
) -> Result<u8, String> {
    if max_runs == 0 {
        // A usage error (exit 2), before anything runs.
        return Err("--max-runs 0 leaves no run to check that the seed's explicit plan reproduces its failure: give at least 1".into());
    }
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
