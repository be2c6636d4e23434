//! The `chaos` command line, as a library function.
//!
//! A crate that provides targets calls [`main`] with its [`Registry`] from
//! a three-line `main`; it then gets `list`, `run`, `replay`, `check` and
//! `new` for its own systems. Exit codes: 0 every invariant held, 1 an
//! invariant failed (or could not be decided), 2 bad input or usage, 130
//! a `run` stopped by Ctrl-C (`interrupt.rs`).
//!
//! `args.rs` declares the commands and their flags; `explore.rs` runs a
//! coverage-guided search and shrinks its finding; `run.rs` runs sweeps
//! and merges shards; `seed.rs` replays and shrinks one seed; `tools.rs`
//! lists, validates, checks histories and runs the planted-bug gate;
//! `new.rs` writes a starter scenario. This file dispatches and finds
//! scenario files.

mod args;
mod explore;
mod interrupt;
mod new;
mod output;
mod run;
mod seed;
mod tools;
mod txn_history;

#[cfg(test)]
mod tests;

use crate::scenario::ScenarioError;
use crate::suite::{ExecOptions, LoadedScenario};
use crate::target::Registry;
use args::{Cli, Command, ReportArgs};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code: every invariant held.
pub const EXIT_PASS: u8 = 0;

/// Exit code: an invariant failed or was undecided.
pub const EXIT_FAIL: u8 = 1;

/// Exit code: bad input or usage.
pub const EXIT_USAGE: u8 = 2;

/// Exit code: `run` was stopped by Ctrl-C (SIGINT); what finished is
/// reported, marked interrupted.
pub use interrupt::EXIT_INTERRUPTED;

/// Entry point for a `chaos` binary.
pub fn main(registry: Registry) -> ExitCode {
    restore_default_sigpipe();
    crate::report::set_replay_program(&invoked_name());
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

/// Rust programs ignore SIGPIPE, so printing to a closed pipe
/// (`chaos list | head -1`) is an error that `println!` turns into a
/// panic. A command-line tool should instead end quietly when its reader
/// has gone, as `ls` and `grep` do: restore the default action.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; setting a
    // signal's disposition to its default has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn dispatch(cli: Cli, registry: &Registry) -> u8 {
    let result = match cli.command {
        Command::List => tools::list(registry),
        Command::Run {
            scenarios,
            seeds,
            seed_range,
            jobs,
            shard,
            shrink,
            time_budget,
            history,
            perfetto,
            report,
            format,
        } => run::run(
            registry,
            &scenarios,
            run::SeedChoice { seeds, seed_range },
            run::Sweep {
                jobs,
                shard,
                shrink,
                time_budget,
                history,
                perfetto,
            },
            &report,
            format.json(),
        ),
        Command::Explore {
            scenario,
            runs,
            time_budget,
            explore_seed,
            jobs,
            batch,
            max_corpus,
            shrink_runs,
            report,
        } => explore::explore(
            registry,
            &scenario,
            &explore::ExploreArgs {
                runs,
                time_budget,
                explore_seed,
                jobs,
                batch,
                max_corpus,
                shrink_runs,
            },
            &report,
        ),
        Command::Merge { dirs, report_dir } => run::merge(&dirs, &report_dir),
        Command::Bugs {
            targets,
            max_seeds,
            swarm_seeds,
            jobs,
            format,
        } => tools::bugs(registry, &targets, max_seeds, swarm_seeds, jobs, format.json()),
        Command::CheckHistory {
            model,
            max_states,
            max_memory_bytes,
            max_input_bytes,
            txn,
            format,
            files,
        } => match model.parse() {
            Ok(_) if max_states.is_some() || max_memory_bytes.is_some() => Err(
                "--max-states and --max-memory-bytes are for the linearizability models (register, kv, counter, queue)"
                    .into(),
            ),
            Ok(txn_model) => {
                txn_history::check_txn_history(txn_model, &txn, max_input_bytes, &files, format.json())
            }
            Err(_) if txn.is_set() => Err(
                "--consistency, --max-txns, --max-edges and --max-search-steps are for list-append and rw-register".into(),
            ),
            Err(_) => tools::check_history(
                &model,
                max_states,
                max_memory_bytes,
                max_input_bytes,
                &files,
                format.json(),
            ),
        },
        Command::Replay {
            scenario,
            seed,
            trace,
            perfetto,
            report,
            format,
        } => seed::replay(
            registry,
            &scenario,
            seed,
            seed::ReplayOutputs {
                trace,
                perfetto: perfetto.as_deref(),
            },
            &report,
            format.json(),
        ),
        Command::Check { files } => tools::check(registry, &files),
        Command::Shrink {
            scenario,
            seed,
            out,
            max_runs,
            report,
        } => seed::shrink(registry, &scenario, seed, out, max_runs, &report),
        Command::New {
            name,
            target,
            dir,
            force,
        } => new::new_scenario(registry, &name, &target, &dir, force),
        Command::Completions { shell } => {
            completions(shell);
            Ok(EXIT_PASS)
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_USAGE
        }
    }
}

/// Writes the completion script for `shell` to stdout, for the name this
/// program was started as (so completions follow a user's own binary).
fn completions(shell: clap_complete::Shell) {
    use clap::CommandFactory;
    let name = invoked_name();
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, name, &mut std::io::stdout());
}

/// The file name this program was started as (`chaos` if unknown).
fn invoked_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| crate::report::DEFAULT_REPLAY_PROGRAM.into())
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
    invoked_name()
}

fn exec_options(report: &ReportArgs) -> ExecOptions {
    ExecOptions {
        check_determinism: report.check_determinism,
        ..ExecOptions::default()
    }
}
