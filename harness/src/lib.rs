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
//! [`check`] (invariants), [`report`] (JSON and its views), [`suite`]
//! (many seeds on all cores) and [`cli`], which a target crate's `main`
//! calls with its registry of targets.

pub mod check;
pub mod cli;
pub mod clock;
pub mod coverage;
pub mod disk;
pub mod duration;
pub mod gate;
pub mod history;
pub mod host_faults;
pub mod plan;
pub mod record;
pub mod report;
pub mod rpc;
pub mod scenario;
pub mod seed;
pub mod shrink;
pub mod sim;
pub mod suite;
pub mod target;
