//! The harness's imports point one way (DESIGN.md, "Where the arrows may
//! point"): every top-level module sits on a floor, and a module may use
//! only modules on lower floors. Inside a module, the files beside each
//! other (the children of one folder) may not use each other in a circle.
//! A folder's `mod.rs` is the module's face: it may use its children and
//! they may use it.
//!
//! The check reads `harness/src` as text: every `use` tree and every
//! `crate::…`, `super::…` or `self::…` path outside comments, including the
//! ones in attributes such as `#[serde(with = "crate::…")]`. It relies on
//! rustfmt's layout (an inline `mod x {` ends at the `}` with its own
//! indentation), which CI enforces. A new top-level module needs a floor in
//! [`FLOORS`] before the check passes.
//!
//! `paths.rs` finds the paths a file writes, `rules.rs` judges them, and
//! `check_itself.rs` shows on small made-up trees that every rule fails
//! when it should.

mod check_itself;
mod paths;
mod rules;

use std::path::Path;

/// Top-level modules and their floors, top first. A module may use only
/// modules with a smaller number, so modules on one floor never know each
/// other and the floors cannot form a circle.
const FLOORS: &[(&str, u32)] = &[
    ("cli", 13),
    ("shrink", 12),
    ("gate", 12),
    // The coverage-guided search; the CLI shrinks what it finds.
    ("explore", 12),
    // The one-call test API a user's `#[test]` calls: runs a suite.
    ("testing", 12),
    ("suite", 11),
    ("report", 10),
    // What a sweep exercised, counted from plans, records and verdicts.
    ("coverage", 9),
    ("check", 8),
    ("sim", 7),
    ("plan", 6),
    ("scenario", 5),
    // Request/response for a target's hosts; knows only the target interface.
    ("rpc", 5),
    ("target", 4),
    // The handles a target's host software gets.
    ("disk", 3),
    // What a target names as noticing a fault, matched against records.
    ("detection", 3),
    ("clock", 3),
    // The disk and clock faults in force, which those handles consult.
    ("host_faults", 2),
    ("record", 2),
    ("history", 1),
    // What replicas applied at each log position, compared as reported.
    ("agreement", 1),
    // What system code asserts in a run, tallied on the run's thread; the
    // macros a target calls sit here, below `target` and `record`.
    ("assertions", 1),
    ("fault", 1),
    // The roles targets report, which role-aimed faults resolve against.
    ("role", 1),
    ("seed", 0),
    ("duration", 0),
];

/// Arrows the floors would allow but the data flow forbids (DESIGN.md:
/// "Nothing downstream reaches back upstream"): these modules work on what
/// a run left behind, never on the simulator that produced it.
const NEVER: &[(&str, &str)] = &[("check", "sim"), ("coverage", "sim"), ("report", "sim")];

#[test]
fn harness_imports_point_down_and_form_no_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let sources = paths::read_sources(&root);
    assert!(sources.len() > 20, "read {} files", sources.len());
    let problems = rules::violations(&sources, FLOORS, NEVER);
    assert!(
        problems.is_empty(),
        "{} layering problems (DESIGN.md, \"Where the arrows may point\"):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
