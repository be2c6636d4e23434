//! The chaos harness: deterministic fault injection on turmoil.
//!
//! One run is a pure function of a scenario and a seed:
//!
//! ```text
//! Scenario + seed --expand--> Plan --simulate--> RunRecord --check--> Verdicts --render--> Report
//! ```
//!
//! Each arrow is a module here: [`scenario`] (parse, validate, build),
//! [`plan`] (expand a scenario with a seed into timed fault events),
//! [`sim`] (run a plan in turmoil and record history and trace),
//! [`check`](mod@check) (invariants), [`report`] (JSON and its views), [`suite`]
//! (many seeds on all cores) and [`cli`], which a target crate's `main`
//! calls with its registry of targets.
//!
//! The modules form floors, and an import only ever points down a floor
//! (`harness/tests/layers/` checks it): `cli`; `shrink`, `gate`, `explore`; `suite`;
//! `report`; `coverage`; `check`; `sim`; `plan`; `scenario`; `target`; the
//! handles targets get, [`disk`] and [`clock`]; the fault state they consult,
//! [`host_faults`], and [`record`]; then the plain data every floor shares:
//! [`history`], [`fault`] (what the nemesis can do), [`role`] (the roles
//! targets report for their hosts), [`seed`] and [`duration`]. Checkers and reports read records and never the simulator.
//!
//! For a target's own crate: [`target`] is the interface to implement,
//! [`rpc`] gives it request/response over the simulated network, and
//! [`check()`] runs a scenario's seeds from a `#[test]`. The crates a target
//! must share with the harness are re-exported here — [`turmoil`],
//! [`tokio`], [`tracing`], [`toml`], [`serde`], [`rand`], [`rand_chacha`]
//! — so a target that uses `harness::turmoil` and friends always has the
//! versions the harness was built with.

// turmoil seeds tokio's `select!` randomness only under this cfg; without
// it an unbiased `select!` in any dependency polls its branches in a random
// order and a seed no longer replays the same run. Fail the build, early
// and with the fix, rather than produce runs that do not reproduce.
#[cfg(not(tokio_unstable))]
compile_error!(
    "chaos-harness must be built with `--cfg tokio_unstable`, or seeds do not replay \
     (turmoil can seed tokio's `select!` only under that cfg). Add these lines to \
     `.cargo/config.toml` in your workspace root (the folder of your top-level Cargo.toml), \
     then build again:

[build]
rustflags = [\"--cfg\", \"tokio_unstable\"]
rustdocflags = [\"--cfg\", \"tokio_unstable\"]

A RUSTFLAGS environment variable replaces that setting: if you set RUSTFLAGS, \
add `--cfg tokio_unstable` to it."
);

pub use rand;
pub use rand_chacha;
pub use serde;
pub use serde_json;
pub use tokio;
pub use toml;
pub use tracing;
pub use turmoil;

pub mod agreement;
pub mod assertions;
pub mod check;
pub mod cli;
pub mod clock;
pub mod coverage;
pub mod detection;
pub mod disk;
pub mod duration;
pub mod explore;
pub mod fault;
pub mod gate;
pub mod history;
pub mod host_faults;
pub mod plan;
pub mod record;
pub mod report;
pub mod role;
pub mod rpc;
pub mod scenario;
pub mod seed;
pub mod shrink;
pub mod sim;
pub mod suite;
pub mod target;
pub mod testing;

pub use testing::check;
