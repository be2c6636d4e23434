//! Checkers judging real runs: they catch what they exist to catch, with
//! evidence, and pass correct runs.

use harness::check::Status;
use harness::history::OpKind;
use harness::scenario::{FaultEventSpec, ScenarioBuilder};
use harness::suite::{execute, ExecOptions, LoadedScenario, SeedRun};
use std::time::Duration;

fn run(builder: ScenarioBuilder, seed: u64) -> SeedRun {
    let registry = target_sims::registry();
    let scenario = builder.build();
    let loaded = LoadedScenario::from_scenario(scenario, &registry).expect("valid scenario");
    execute(&loaded, seed, &ExecOptions::default())
}

fn verdict<'a>(run: &'a SeedRun, name: &str) -> &'a harness::check::Verdict {
    run.report
        .verdicts
        .iter()
        .find(|v| v.invariant == name)
        .unwrap_or_else(|| panic!("no {name} verdict"))
}

fn durable_register(name: &str) -> ScenarioBuilder {
    ScenarioBuilder::new(name, "register")
        .duration(Duration::from_secs(6))
        .clients(3)
        .keys(2)
        .mix(&[(OpKind::Read, 1), (OpKind::Write, 2)])
        .final_read(true)
        .durability()
}

#[test]
fn durability_catches_the_in_memory_register_losing_writes_in_a_crash() {
    let r = run(
        // Power loss as the workload ends: the restarted server is empty
        // when the final reads come.
        durable_register("crash-loses").fault(FaultEventSpec::Crash {
            at: Duration::from_secs(6),
            duration: Some(Duration::from_millis(500)),
            host: "server".into(),
            spread: None,
        }),
        1,
    );
    let v = verdict(&r, "durability");
    assert_eq!(v.status, Status::Fail, "{}", v.summary);
    assert!(v.summary.contains("lost"), "{}", v.summary);
    assert!(
        !v.evidence.is_empty(),
        "the lost write and the final read are shown"
    );
    assert_eq!(r.report.status, Status::Fail);
}

#[test]
fn durability_passes_when_nothing_crashes() {
    let r = run(
        durable_register("no-crash").fault(FaultEventSpec::Isolate {
            at: Duration::from_secs(2),
            duration: Some(Duration::from_secs(1)),
            host: "server".into(),
        }),
        1,
    );
    let v = verdict(&r, "durability");
    assert_eq!(v.status, Status::Pass, "{}", v.summary);
}

fn bundled(name: &str, overrides: &[&str]) -> LoadedScenario {
    let registry = target_sims::registry();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    LoadedScenario::from_file(&path, &overrides, &registry).unwrap()
}

#[test]
fn linearizability_catches_blind_retries_and_names_the_operations() {
    harness::check(target_sims::registry(), "register-lost-replies")
        .seeds(0..10)
        .run()
        .assert_passed();
    let buggy = bundled("register-lost-replies", &["target.retry_unsafe=true"]);
    let mut caught = 0;
    for seed in 0..10 {
        let bad = execute(&buggy, seed, &ExecOptions::default());
        let v = verdict(&bad, "linearizable");
        if v.status == Status::Fail {
            caught += 1;
            assert!(
                v.summary.contains("could not be linearized"),
                "{}",
                v.summary
            );
            // A read of a value the blind retry wrote, or a retried cas
            // that failed because its first attempt had already swapped.
            assert!(
                v.expected
                    .as_deref()
                    .is_some_and(|e| e.contains("to return one of")
                        || e.contains("to find a value other than")),
                "{:?}",
                v.expected
            );
            assert!(v.evidence.len() >= 2, "the offending operations are shown");
            assert!(bad
                .report
                .replay
                .ends_with("--set target.retry_unsafe=true"));
        }
    }
    assert!(
        caught >= 5,
        "the planted bug should be caught on most seeds, caught {caught}/10"
    );
}
