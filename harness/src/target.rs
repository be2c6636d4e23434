//! The interface between the harness and a system under test.
//!
//! A [`Target`] is a kind of system (a register server, a replicated KV
//! store, …) that a scenario names. Given the scenario's `[target]` settings
//! it produces a [`System`]: a fixed topology of server hosts plus the means
//! to install them into a simulation and to create clients for them. Clients
//! run inside the harness's client hosts and turn workload operations into
//! requests; the harness records what they observe as the history.
//!
//! A user testing their own service implements these two traits and hands a
//! [`Registry`] to [`crate::cli::main`].

pub use crate::detection::DetectionSignal;
use crate::history::{Op, OpKind, Outcome, Value};
use crate::seed::Seed;
use rand_chacha::ChaCha8Rng;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, single-threaded future: simulated hosts run on a current-thread
/// runtime, so nothing here needs to be `Send`.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A kind of system a scenario can name in `[target] system = "..."`.
pub trait Target: Send + Sync {
    /// The name scenarios use.
    fn name(&self) -> &'static str;

    /// One line for `chaos list` and the docs.
    fn description(&self) -> &'static str;

    /// A commented TOML fragment of this target's settings (the keys that go
    /// in `[target]` beside `system`), used by `chaos new`.
    fn settings_template(&self) -> &'static str {
        ""
    }

    /// The realistic bugs this target can switch on, each caught by some
    /// bundled scenario (see `chaos bugs`).
    fn planted_bugs(&self) -> Vec<PlantedBug> {
        Vec::new()
    }

    /// Validates the settings and builds the system. `settings` holds every
    /// key of the scenario's `[target]` table except `system`; unknown keys
    /// must be rejected.
    fn configure(&self, settings: &toml::Table) -> Result<Arc<dyn System>, SettingsError>;
}

/// A configured system: its topology, and how to start it and talk to it.
pub trait System: Send + Sync {
    /// The names of the server hosts, in a fixed order. Faults name them.
    fn hosts(&self) -> Vec<String>;

    /// The roles its hosts report through [`crate::role`] (`leader`,
    /// `follower`, …), so scenarios can aim faults at them
    /// (`host = "role:leader"`). None by default.
    fn roles(&self) -> Vec<String> {
        Vec::new()
    }

    /// Registers the server hosts in the simulation.
    fn install(&self, sim: &mut turmoil::Sim<'_>, env: &HostEnv);

    /// A client for one logical client. Called inside a client host, once
    /// per process number (a client whose operation ended in `info` is
    /// replaced by a fresh one, as in Jepsen).
    fn client(&self, process: u64, env: &ClientEnv) -> Box<dyn Client>;

    /// The operation kinds its clients can serve. `chaos check` refuses a
    /// workload mix with any other kind (every such operation would fail,
    /// and a scenario must not pass on requests the system never
    /// understood), and `chaos new` writes a starter mix from them; a
    /// `final_read` needs `read`. The default, every kind, accepts any
    /// mix: override it to get that check.
    fn op_kinds(&self) -> Vec<OpKind> {
        OpKind::ALL.to_vec()
    }

    /// The reactions that mean "noticed a fault" (a role taken, a
    /// `tracing` event, an assertion; see [`crate::detection`]): a fault's
    /// time to detect runs from its start to the first of them. None by
    /// default, and then no fault of this system counts as detected; a
    /// scenario may replace the list with
    /// `[invariants.availability] detection_signals`.
    fn detection_signals(&self) -> Vec<DetectionSignal> {
        Vec::new()
    }
}

/// A bug a target can switch on through its settings, so the harness can
/// prove it catches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlantedBug {
    /// Short name, e.g. `ack-before-fsync`.
    pub name: &'static str,
    /// What goes wrong, in a sentence.
    pub description: &'static str,
    /// `--set` overrides that switch it on, e.g. `target.bug=ack-before-fsync`.
    pub overrides: &'static [&'static str],
    /// The invariant expected to catch it (`linearizable`, `durability`, …).
    pub caught_by: &'static str,
}

/// What a client reports for one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub outcome: Outcome,
    /// For `ok` reads the value read; otherwise usually the input echoed.
    pub value: Value,
    /// Requests sent for this operation, retries included (0 = not counted).
    pub attempts: u32,
    /// The answer came from a fallback rather than the system of record.
    pub degraded: bool,
    /// Why a `fail` or `info` happened (`timeout`, `unavailable`, …). A
    /// `fail` without one is a definite answer, like a failed comparison.
    pub error: Option<String>,
}

impl Completion {
    pub fn ok(value: Value) -> Completion {
        Completion {
            outcome: Outcome::Ok,
            value,
            attempts: 0,
            degraded: false,
            error: None,
        }
    }

    pub fn fail(value: Value) -> Completion {
        Completion {
            outcome: Outcome::Fail,
            value,
            attempts: 0,
            degraded: false,
            error: None,
        }
    }

    pub fn info(value: Value) -> Completion {
        Completion {
            outcome: Outcome::Info,
            value,
            attempts: 0,
            degraded: false,
            error: None,
        }
    }

    /// A `fail` because the system could not be reached or refused to
    /// serve: the operation certainly did not happen.
    pub fn unavailable(value: Value, error: impl Into<String>) -> Completion {
        Completion::fail(value).with_error(error)
    }

    pub fn with_error(mut self, error: impl Into<String>) -> Completion {
        self.error = Some(error.into());
        self
    }

    pub fn with_degraded(mut self, degraded: bool) -> Completion {
        self.degraded = degraded;
        self
    }

    pub fn with_attempts(mut self, attempts: u32) -> Completion {
        self.attempts = attempts;
        self
    }
}

/// A client of the system, driven by one logical client of the workload.
pub trait Client {
    /// Performs one operation. The harness bounds it with the workload's
    /// operation timeout (and records `info` if that fires), but a client
    /// should apply its own timeouts and retries like a real one would.
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion>;
}

/// What server hosts get from the harness: their seeded randomness.
#[derive(Clone, Debug)]
pub struct HostEnv {
    pub seed: Seed,
}

impl HostEnv {
    /// The random stream of one host. Call it inside the host's software
    /// factory so a restarted host draws from a fresh, still seeded, stream
    /// (mixing in a restart counter if it must differ per incarnation).
    pub fn host_rng(&self, host: &str) -> ChaCha8Rng {
        self.seed.stream(&format!("host/{host}"))
    }

    /// The host's disk (see [`crate::disk`] for its durability model and
    /// faults). Use it from inside that host's software only.
    pub fn disk(&self, host: &str) -> crate::disk::Disk {
        crate::disk::Disk::new(host)
    }

    /// The host's wall clock, which clock faults can jump and skew.
    pub fn clock(&self, host: &str) -> crate::clock::WallClock {
        crate::clock::WallClock::new(host)
    }
}

/// What clients get from the harness.
#[derive(Clone, Debug)]
pub struct ClientEnv {
    pub seed: Seed,
    /// The server hosts, as [`System::hosts`] listed them.
    pub hosts: Vec<String>,
}

impl ClientEnv {
    pub fn client_rng(&self, process: u64) -> ChaCha8Rng {
        self.seed.stream(&format!("client/{process}"))
    }
}

/// A target's settings were not acceptable. `key` is the path below
/// `[target]` (e.g. `replicas`), so the scenario parser can point at the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    pub key: String,
    pub message: String,
}

impl SettingsError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> SettingsError {
        SettingsError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Deserialises a target's settings struct from the `[target]` table,
/// turning serde's error into a [`SettingsError`] that names the key. Use
/// `#[serde(deny_unknown_fields)]` on `T` so typos are rejected.
pub fn parse_settings<T: serde::de::DeserializeOwned>(
    settings: &toml::Table,
) -> Result<T, SettingsError> {
    let value = toml::Value::Table(settings.clone());
    serde_path_to_error::deserialize(value).map_err(|err| {
        let key = path_to_string(err.path());
        let message = err.into_inner().message().to_string();
        SettingsError { key, message }
    })
}

/// Renders a serde path as `a.b[0].c`, the key paths errors name (for
/// settings here, for whole scenarios in [`crate::scenario`]).
pub fn path_to_string(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

/// The targets a `chaos` binary knows, and where its bundled scenarios are.
#[derive(Clone, Default)]
pub struct Registry {
    targets: Vec<Arc<dyn Target>>,
    bundled_dir: Option<PathBuf>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn with_target(mut self, target: impl Target + 'static) -> Registry {
        assert!(
            self.get(target.name()).is_none(),
            "target {} registered twice",
            target.name()
        );
        self.targets.push(Arc::new(target));
        self
    }

    /// The folder of bundled scenarios, used when the working directory has
    /// no `scenarios/` folder of its own.
    pub fn with_bundled_scenarios(mut self, dir: impl Into<PathBuf>) -> Registry {
        self.bundled_dir = Some(dir.into());
        self
    }

    /// The same targets with no bundled scenario folder: a binary that
    /// only finds scenarios in the working directory (or is given files).
    pub fn without_bundled_scenarios(mut self) -> Registry {
        self.bundled_dir = None;
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Target>> {
        self.targets.iter().find(|t| t.name() == name)
    }

    pub fn targets(&self) -> &[Arc<dyn Target>] {
        &self.targets
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.targets.iter().map(|t| t.name()).collect()
    }

    pub fn bundled_dir(&self) -> Option<&PathBuf> {
        self.bundled_dir.as_ref()
    }
}
