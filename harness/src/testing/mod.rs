//! Chaos tests in one call, for `cargo test` in a target's own crate.
//!
//! ```no_run
//! # fn registry() -> harness::target::Registry { harness::target::Registry::new() }
//! // The correct system keeps every invariant on these seeds…
//! harness::check(registry(), "scenarios/lost-replies.toml")
//!     .seeds(0..20)
//!     .run()
//!     .assert_passed();
//! // …and the planted bug is caught by the checker meant to catch it.
//! harness::check(registry(), "scenarios/lost-replies.toml")
//!     .seeds(0..20)
//!     .set("target.bug", "timeout-is-fail")
//!     .run()
//!     .assert_fails_with("linearizable");
//! ```
//!
//! A check runs exactly what `chaos run SCENARIO --seed-range A..B --set …`
//! runs, on every core, and keeps one [`SeedResult`] per seed. Its
//! assertions panic with what a developer needs to act: the failing seed,
//! the failed invariant's summary, and the command that replays that seed
//! with its trace (see [`CheckSummary`]).

mod summary;

pub use summary::CheckSummary;

use crate::scenario::ScenarioError;
use crate::suite::{run_jobs, ExecOptions, Job, LoadedScenario, SeedResult};
use crate::target::Registry;
use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Starts a check of `scenario` — a file path, or the name of a scenario
/// in `./scenarios` (or, if there is no such folder, in the registry's
/// bundled folder), as `chaos run` resolves it — against the targets of
/// `registry`.
pub fn check(registry: Registry, scenario: impl AsRef<Path>) -> Check {
    Check {
        registry,
        scenario: scenario.as_ref().to_path_buf(),
        seeds: None,
        overrides: Vec::new(),
        threads: None,
        check_determinism: false,
        program: None,
    }
}

/// A check being set up; [`run`](Check::run) it.
#[must_use = "a check does nothing until it is run"]
pub struct Check {
    registry: Registry,
    scenario: PathBuf,
    seeds: Option<Vec<u64>>,
    overrides: Vec<String>,
    threads: Option<usize>,
    check_determinism: bool,
    program: Option<String>,
}

impl Check {
    /// The seeds to run, e.g. `0..50` (default: `0..` the scenario's
    /// `seeds`, as `chaos run` does).
    pub fn seeds(mut self, seeds: impl IntoIterator<Item = u64>) -> Check {
        self.seeds = Some(seeds.into_iter().collect());
        self
    }

    /// Overrides one scenario key, like `chaos run --set key=value`:
    /// `.set("target.bug", "ack-before-fsync")`, `.set("workload.clients", 16)`.
    /// The value is read as TOML, or else taken as a string.
    pub fn set(mut self, key: &str, value: impl Display) -> Check {
        self.overrides.push(format!("{key}={value}"));
        self
    }

    /// Worker threads (default: every core).
    pub fn threads(mut self, threads: usize) -> Check {
        self.threads = Some(threads.max(1));
        self
    }

    /// Runs every seed twice and fails it if anything differs.
    pub fn check_determinism(mut self) -> Check {
        self.check_determinism = true;
        self
    }

    /// How replay commands spell the program (default `cargo run
    /// --release --`, or `cargo run --` for a debug build, run from the
    /// directory the check ran in).
    pub fn program(mut self, program: impl Into<String>) -> Check {
        self.program = Some(program.into());
        self
    }

    /// Runs the seeds. Panics if the scenario cannot be found or is
    /// invalid, with the error the CLI would print (file, line, key).
    #[track_caller]
    pub fn run(self) -> CheckSummary {
        match self.try_run() {
            Ok(summary) => summary,
            Err(message) => panic!("{message}"),
        }
    }

    /// Runs the seeds, or says why the scenario could not be loaded.
    pub fn try_run(self) -> Result<CheckSummary, String> {
        let path = self.resolve()?;
        let loaded = LoadedScenario::from_file(&path, &self.overrides, &self.registry)
            .map_err(|e: ScenarioError| e.to_string())?;
        let seeds = self
            .seeds
            .unwrap_or_else(|| (0..loaded.scenario.seeds).collect());
        let jobs: Vec<Job> = seeds
            .iter()
            .map(|&seed| Job { scenario: 0, seed })
            .collect();
        let threads = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let options = ExecOptions {
            check_determinism: self.check_determinism,
            ..ExecOptions::default()
        };
        let loaded = [loaded];
        let results: Vec<SeedResult> = run_jobs(&loaded, &jobs, threads, &options, None, |_| {});
        Ok(CheckSummary::new(
            loaded[0].scenario.name.clone(),
            self.scenario.display().to_string(),
            self.overrides,
            results,
            self.program.unwrap_or_else(default_program),
            std::env::current_dir().unwrap_or_default(),
        ))
    }

    fn resolve(&self) -> Result<PathBuf, String> {
        if self.scenario.is_file() {
            return Ok(self.scenario.clone());
        }
        let local = Path::new("scenarios");
        let dir = if local.is_dir() {
            Some(local.to_path_buf())
        } else {
            self.registry.bundled_dir().filter(|d| d.is_dir()).cloned()
        };
        let name = self.scenario.display();
        let candidate = dir.map(|d| d.join(format!("{name}.toml")));
        match candidate {
            Some(file) if file.is_file() => Ok(file),
            _ => Err(format!(
                "no scenario file {name} (relative to {}), and no scenario of that name in the scenarios folder",
                std::env::current_dir().unwrap_or_default().display()
            )),
        }
    }
}

/// `cargo run --release --` when this is a release build (the test binary
/// lives under `target/release`), else `cargo run --`.
fn default_program() -> String {
    let release = std::env::current_exe()
        .map(|p| p.components().any(|c| c.as_os_str() == "release"))
        .unwrap_or(false);
    if release {
        "cargo run --release --".into()
    } else {
        "cargo run --".into()
    }
}
