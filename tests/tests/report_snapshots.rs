//! Snapshots of the reports of fixed seeds of a bundled scenario.
//!
//! A report is a pure function of (scenario, seed): if one of these changes,
//! either the simulation, a checker or a renderer changed, and the diff
//! shows which. The snapshots live in the top-level `reports/snapshots`.
//! To accept a deliberate change, run with `INSTA_UPDATE=always` (or
//! `cargo insta review`) and read the diff before committing it.

use harness::report::{junit, markdown, RunReport};
use harness::suite::{self, ExecOptions, LoadedScenario, SeedRun};
use std::path::{Path, PathBuf};

/// As `chaos` spells it when run from the workspace root, so replay
/// commands in the snapshots do not depend on where the checkout lives.
const SCENARIO_FILE: &str = "scenarios/register-isolate.toml";

fn load() -> LoadedScenario {
    let registry = target_sims::registry();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(SCENARIO_FILE);
    let scenario =
        harness::scenario::load_file(&path, &registry).expect("the bundled scenario loads");
    let prepared = harness::scenario::validate(&scenario, &registry).expect("and is valid");
    LoadedScenario {
        scenario,
        path: Some(PathBuf::from(SCENARIO_FILE)),
        overrides: Vec::new(),
        prepared,
    }
}

fn execute(loaded: &LoadedScenario, seed: u64) -> SeedRun {
    suite::execute(loaded, seed, &ExecOptions::default())
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ snapshot_path => "../../reports/snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn json_and_markdown_reports_of_fixed_seeds() {
    let loaded = load();
    for seed in [1, 2] {
        let run = execute(&loaded, seed);
        snapshot!(
            format!("register-isolate-seed-{seed}.json"),
            run.report.to_json()
        );
        snapshot!(
            format!("register-isolate-seed-{seed}.md"),
            markdown::render(&run.report, &run.record)
        );
    }
}

/// The bundled scenario passes, so a stricter copy of it shows how a
/// failure reads: the ok ratio during the isolation is near zero.
#[test]
fn a_failing_run_shows_its_evidence_and_replay_command() {
    let mut loaded = load();
    let availability = loaded
        .scenario
        .invariants
        .availability
        .as_mut()
        .expect("the scenario checks availability");
    availability.min_ok_ratio_during_faults = Some(0.5);
    let run = execute(&loaded, 1);
    let report: &RunReport = &run.report;
    assert_eq!(report.status, harness::check::Status::Fail);
    let md = markdown::render(report, &run.record);
    assert!(md.contains("chaos replay scenarios/register-isolate.toml --seed 1"));
    snapshot!("register-isolate-strict-seed-1.md", md);
    snapshot!(
        "register-isolate-strict-seed-1.junit.xml",
        junit::render_run(report)
    );
}

#[test]
fn two_executions_render_identical_bytes() {
    let loaded = load();
    let (a, b) = (execute(&loaded, 3), execute(&loaded, 3));
    assert_eq!(a.report.to_json(), b.report.to_json());
    assert_eq!(
        markdown::render(&a.report, &a.record),
        markdown::render(&b.report, &b.record)
    );
    assert_eq!(
        harness::report::html::render(&a.report, &a.record),
        harness::report::html::render(&b.report, &b.record)
    );
    assert_eq!(junit::render_run(&a.report), junit::render_run(&b.report));
}
