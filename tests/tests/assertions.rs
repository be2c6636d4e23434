//! Assertions in system code, end to end: a target that asserts its design
//! runs in sweeps, a broken `always` or a reached `unreachable` fails its
//! seed with the evidence, every assertion is counted in the suite report,
//! a `sometimes` that never held is reported, a scenario can require an
//! assertion, and the report bytes do not depend on the number of threads.

mod common;
use common::*;

use harness::assertions::prelude::*;
use harness::check::Status;
use harness::history::{Op, Value};
use harness::report::summary::{SeedResult, SuiteResults, SuiteSummary};
use harness::report::{junit, markdown};
use harness::scenario::{CoverageRequirement, ScenarioBuilder};
use harness::serde_json::json;
use harness::suite::{run_jobs, ExecOptions, Job, LoadedScenario};
use harness::target::{
    Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, Registry, SettingsError, System, Target,
};
use std::sync::Arc;
use std::time::Duration;

/// A server that states its design with assertions; on odd seeds (drawn
/// from its host RNG) it breaks two of them a second into the run.
struct Asserting;
struct AssertingSystem;
struct Quiet;

/// What the server asserts, a plain function so the test can also call it
/// outside any simulation.
fn serve_once(odd: bool, round: u32) {
    assert_reachable!("the server started", &json!({ "round": round }));
    assert_always!(
        !odd,
        "the server only runs on even seeds",
        &json!({ "odd": odd, "round": round })
    );
    assert_sometimes!(odd, "an odd seed ran");
    assert_sometimes!(round > 100, "a condition that never holds");
    assert_always_less_than_or_equal_to!(round, 3u32, "rounds stay within three");
    if odd {
        assert_unreachable!("the odd branch", &json!({ "round": round }));
    }
}

impl Target for Asserting {
    fn name(&self) -> &'static str {
        "asserting"
    }
    fn description(&self) -> &'static str {
        "asserts its design; odd seeds break it"
    }
    fn configure(&self, _: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        Ok(Arc::new(AssertingSystem))
    }
}

impl System for AssertingSystem {
    fn hosts(&self) -> Vec<String> {
        vec!["server".into()]
    }
    fn install(&self, sim: &mut turmoil::Sim<'_>, env: &HostEnv) {
        use rand::Rng;
        let odd = env.host_rng("server").random_range(0..2) == 1;
        sim.host("server", move || async move {
            for round in 1..=3 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                serve_once(odd, round);
            }
            std::future::pending::<()>().await;
            Ok(())
        });
    }
    fn client(&self, _: u64, _: &ClientEnv) -> Box<dyn Client> {
        Box::new(Quiet)
    }
}

impl Client for Quiet {
    fn invoke<'a>(&'a mut self, _: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(async { Completion::ok(Value::Nil) })
    }
}

fn loaded(requirements: &[(&str, f64)]) -> LoadedScenario {
    let registry = Registry::new().with_target(Asserting);
    let mut builder = ScenarioBuilder::new("asserting", "asserting")
        .duration(Duration::from_secs(5))
        .clients(1);
    for (message, min_fraction) in requirements {
        builder = builder.require_coverage(CoverageRequirement {
            fault: None,
            event: None,
            assertion: Some(message.to_string()),
            min_fraction: *min_fraction,
        });
    }
    LoadedScenario::from_scenario(builder.build(), &registry).expect("valid scenario")
}

const SEEDS: u64 = 8;

fn sweep(loaded: &LoadedScenario, threads: usize) -> SuiteResults {
    let jobs: Vec<Job> = (0..SEEDS).map(|seed| Job { scenario: 0, seed }).collect();
    let mut results = run_jobs(
        std::slice::from_ref(loaded),
        &jobs,
        threads,
        &ExecOptions::default(),
        None,
        |_| {},
    );
    results.sort_by_key(|r| r.seed);
    SuiteResults {
        harness_version: harness::report::HARNESS_VERSION.to_string(),
        requirements: [(
            loaded.scenario.name.clone(),
            loaded.scenario.coverage.clone(),
        )]
        .into_iter()
        .collect(),
        not_run: 0,
        not_run_by_scenario: Default::default(),
        interrupted: false,
        recovery: Default::default(),
        results: results.into(),
    }
}

fn odd_seeds(results: &[SeedResult]) -> Vec<&SeedResult> {
    results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .collect()
}

#[test]
fn a_broken_always_and_a_reached_unreachable_fail_the_seed_with_their_evidence() {
    let scenario = loaded(&[]);
    let results: Vec<SeedResult> = sweep(&scenario, 2).results.iter().collect();
    let failed = odd_seeds(&results);
    assert!(
        !failed.is_empty() && failed.len() < results.len(),
        "odd seeds fail, even ones pass: {results:#?}"
    );
    for r in &failed {
        assert_eq!(r.failed, ["assertions"], "{:?}", r.problems);
        assert!(
            r.problems[0].starts_with(
                "assertions: always \"the server only runs on even seeds\" failed at 1s on server (3 of 3 hits)"
            ),
            "{:?}",
            r.problems
        );
        assert!(
            r.problems[0].ends_with("; 1 more assertions broken"),
            "{:?}",
            r.problems
        );
    }

    // The report of a failing seed has the first failure's time, host,
    // site and details; the record keeps every assertion's counts.
    let run = harness::suite::execute(&scenario, failed[0].seed, &ExecOptions::default());
    let verdict = run
        .report
        .verdicts
        .iter()
        .find(|v| v.invariant == "assertions")
        .expect("an assertions verdict");
    assert_eq!(verdict.status, Status::Fail);
    let broken = verdict.details["broken"].as_array().unwrap();
    let first = &broken[0]["first_failure"];
    assert_eq!(first["time_ns"], 1_000_000_000u64);
    assert_eq!(first["host"], "server");
    assert_eq!(first["details"], json!({ "odd": true, "round": 1 }));
    assert!(
        first["site"]
            .as_str()
            .unwrap()
            .starts_with("tests/tests/assertions.rs:"),
        "{first}"
    );
    assert_eq!(broken[1]["kind"], "unreachable");
    let bound = run.record.assertion("rounds stay within three").unwrap();
    assert_eq!((bound.hits, bound.passes, bound.failures), (3, 3, 0));
    let extreme = bound.extreme.as_ref().unwrap();
    assert_eq!(extreme.margin, 0.0, "the closest call is round 3 of 3");

    // The markdown of that run lists the assertions with the evidence.
    let md = markdown::render(&run.report, &run.record);
    assert!(md.contains("### Assertions"), "{md}");
    assert!(
        md.contains(
            "| the server only runs on even seeds | always | 3 | 0 | 3 | first failed at 1.000s on server: {\"odd\":true,\"round\":1} |"
        ),
        "{md}"
    );

    // A passing seed has a passing verdict that still counts the hits.
    let even = results.iter().find(|r| r.status == Status::Pass).unwrap();
    let run = harness::suite::execute(&scenario, even.seed, &ExecOptions::default());
    let verdict = run
        .report
        .verdicts
        .iter()
        .find(|v| v.invariant == "assertions")
        .unwrap();
    assert_eq!(verdict.status, Status::Pass);
    assert!(run.record.assertion("the odd branch").is_none());
}

#[test]
fn a_sweep_counts_every_assertion_and_reports_what_never_held() {
    let summary = sweep(&loaded(&[]), 2).summary();
    let tallies = &summary.assertions["asserting"];
    let names: Vec<(&str, &str)> = tallies
        .iter()
        .map(|t| (t.message.as_str(), t.kind.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("a condition that never holds", "sometimes"),
            ("an odd seed ran", "sometimes"),
            ("rounds stay within three", "always"),
            ("the odd branch", "unreachable"),
            ("the server only runs on even seeds", "always"),
            ("the server started", "reachable"),
        ]
    );
    let odd = summary.total.failed;
    let started = &tallies[5];
    assert_eq!(
        (started.seeds, started.satisfied_seeds, started.hits),
        (SEEDS, SEEDS, 3 * SEEDS)
    );
    let even_only = &tallies[4];
    assert_eq!(even_only.violated_seeds, odd);
    assert_eq!(even_only.passes, 3 * (SEEDS - odd));
    assert_eq!(tallies[3].seeds, odd, "reached only on odd seeds");
    assert_eq!(
        summary.never_satisfied,
        [format!(
            "asserting: sometimes \"a condition that never holds\" reached {} times in {SEEDS} seeds, never held",
            3 * SEEDS
        )]
    );

    let md = markdown::render_suite(&summary);
    assert!(md.contains("### Assertions"), "{md}");
    assert!(
        md.contains(&format!(
            "| asserting | a condition that never holds | sometimes | {SEEDS} | 0 | {} | 0 | {} | ⚠️ never held |",
            3 * SEEDS,
            3 * SEEDS
        )),
        "{md}"
    );
    assert!(
        md.contains(&format!("| ❌ broken in {odd} seeds |")),
        "{md}"
    );
}

#[test]
fn a_scenario_can_require_an_assertion_to_hold() {
    let summary = sweep(
        &loaded(&[
            ("the server started", 1.0),
            ("an odd seed ran", 0.1),
            ("a condition that never holds", 0.5),
            ("the server stared", 0.5),
        ]),
        2,
    )
    .summary();
    assert!(!summary.all_passed());
    assert_eq!(
        summary.coverage_failures.len(),
        2,
        "{:#?}",
        summary.coverage_failures
    );
    assert_eq!(
        summary.coverage_failures[0],
        format!("asserting: assertion \"a condition that never holds\" held in 0% of {SEEDS} seeds, required 50%")
    );
    assert!(
        summary.coverage_failures[1].starts_with(&format!(
            "asserting: assertion \"the server stared\" was never reached in {SEEDS} seeds, required 50% (reached: \"a condition that never holds\", "
        )),
        "{}",
        summary.coverage_failures[1]
    );
    let md = markdown::render_suite(&summary);
    assert!(md.contains("### Coverage requirements not met"), "{md}");
}

#[test]
fn suite_reports_are_byte_identical_whatever_the_number_of_threads() {
    let scenario = loaded(&[("the server started", 1.0)]);
    let render = |threads| {
        let results = sweep(&scenario, threads);
        let summary: SuiteSummary = results.summary();
        (
            harness::serde_json::to_string_pretty(&summary).unwrap(),
            markdown::render_suite(&summary),
            junit::render_suite(&results.results.iter().collect::<Vec<_>>()),
        )
    };
    let one = render(1);
    assert_eq!(one, render(3));
    assert!(one.2.contains(
        "<property name=\"assertion reachable the server started\" value=\"seeds 8, held in 8, hits 24, passes 24, failures 0\"/>"
    ), "{}", one.2);
}

#[test]
fn outside_a_simulation_the_assertions_do_nothing() {
    assert!(!harness::assertions::in_run());
    // The same code that fails a seed in a run neither panics nor records.
    serve_once(true, 7);
    let ((), records) = harness::assertions::capture(|| {});
    assert!(records.is_empty(), "{records:#?}");
    // Under capture (a unit test of system code), it is recorded.
    let ((), records) = harness::assertions::capture(|| serve_once(true, 7));
    assert!(records.iter().any(|r| r.violated()), "{records:#?}");
}

#[test]
fn the_cli_reports_a_bundled_targets_assertions_the_same_way_whatever_jobs() {
    let run = |jobs: &str| {
        let dir = scratch(&format!("assertions-jobs-{jobs}"));
        let out = chaos(&[
            "run",
            "scenarios/queue-partition.toml",
            "--seeds",
            "3",
            "--jobs",
            jobs,
            "--report-dir",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        (
            read("summary.json"),
            read("summary.md"),
            read("junit.xml"),
            stdout(&out),
        )
    };
    let (json_1, md_1, junit_1, out_1) = run("1");
    let (json_2, md_2, junit_2, _) = run("2");
    assert_eq!(json_1, json_2);
    assert_eq!(md_1, md_2);
    assert_eq!(junit_1, junit_2);
    let summary: harness::serde_json::Value = harness::serde_json::from_str(&json_1).unwrap();
    let lease = summary["assertions"]["queue-partition"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["message"] == "a lease expired")
        .unwrap_or_else(|| panic!("{json_1}"));
    assert_eq!(lease["kind"], "reachable");
    assert_eq!(lease["satisfied_seeds"], 3);
    assert!(lease["hits"].as_u64().unwrap() >= 3);
    assert!(
        md_1.contains("| queue-partition | a lease expired | reachable | 3 | 3 |"),
        "{md_1}"
    );
    assert!(
        junit_1.contains("name=\"assertion reachable a lease expired\""),
        "{junit_1}"
    );
    assert!(
        out_1.contains("assertions (summary.md and summary.json"),
        "{out_1}"
    );
}
