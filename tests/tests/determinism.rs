//! One scenario + one seed = one history, one trace, one report, byte for
//! byte, in any process.

mod common;
use common::*;
use harness::scenario::ScenarioBuilder;
use harness::suite::{execute, ExecOptions, LoadedScenario};
use harness::target::{
    Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, Registry, SettingsError, System, Target,
};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[test]
fn the_same_seed_gives_byte_identical_reports_in_two_processes() {
    for scenario in [
        "register-isolate",
        "register-swarm",
        "chain-breaker-partition",
        "chain-retry-storm",
    ] {
        let a = scratch(&format!("det-a-{scenario}"));
        let b = scratch(&format!("det-b-{scenario}"));
        for dir in [&a, &b] {
            let out = chaos(&[
                "replay",
                scenario,
                "--seed",
                "11",
                "--report-dir",
                dir.to_str().unwrap(),
            ]);
            assert_eq!(code(&out), 0, "{}", stdout(&out));
        }
        let path = format!("{scenario}/seed-11/report.json");
        let first = std::fs::read(a.join(&path)).unwrap();
        let second = std::fs::read(b.join(&path)).unwrap();
        assert!(
            first == second,
            "{scenario}: reports differ between processes"
        );
    }
}

#[test]
fn check_determinism_passes_on_the_whole_bundled_suite() {
    let dir = scratch("det-suite");
    let out = chaos(&[
        "run",
        "--seeds",
        "3",
        "--check-determinism",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    let report = read_json(&dir.join("register-swarm/seed-2/report.json"));
    let verdicts = report["verdicts"].as_array().unwrap();
    let det = verdicts
        .iter()
        .find(|v| v["invariant"] == "determinism")
        .unwrap();
    assert_eq!(det["status"], "pass");
}

/// A target that leaks state between runs through a process-wide counter:
/// exactly the kind of bug `--check-determinism` exists to catch.
struct Leaky;
static LEAK: AtomicI64 = AtomicI64::new(0);

struct LeakySystem;
struct LeakyClient;

impl Target for Leaky {
    fn name(&self) -> &'static str {
        "leaky"
    }
    fn description(&self) -> &'static str {
        "answers reads with a process-global counter"
    }
    fn configure(&self, _: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        Ok(Arc::new(LeakySystem))
    }
}

impl System for LeakySystem {
    fn hosts(&self) -> Vec<String> {
        vec!["server".into()]
    }
    fn install(&self, sim: &mut turmoil::Sim<'_>, _: &HostEnv) {
        sim.host("server", || async {
            std::future::pending::<()>().await;
            Ok(())
        });
    }
    fn client(&self, _: u64, _: &ClientEnv) -> Box<dyn Client> {
        Box::new(LeakyClient)
    }
}

impl Client for LeakyClient {
    fn invoke<'a>(&'a mut self, _: &'a harness::history::Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(async {
            let n = LEAK.fetch_add(1, Ordering::Relaxed);
            Completion::ok(harness::history::Value::Int(n))
        })
    }
}

#[test]
fn check_determinism_names_the_first_divergent_event() {
    let registry = Registry::new().with_target(Leaky);
    let scenario = ScenarioBuilder::new("leaky", "leaky")
        .duration(std::time::Duration::from_secs(1))
        .clients(1)
        .build();
    let loaded = LoadedScenario::from_scenario(scenario, &registry).expect("valid scenario");
    let options = ExecOptions {
        check_determinism: true,
        ..Default::default()
    };
    let run = execute(&loaded, 1, &options);
    let det = run
        .report
        .verdicts
        .iter()
        .find(|v| v.invariant == "determinism")
        .unwrap();
    assert_eq!(det.status, harness::check::Status::Fail);
    assert!(
        det.summary.starts_with("history event 1 differs"),
        "{}",
        det.summary
    );
}

/// Swarm seeds whose faults are aimed at roles (half the one-replica
/// faults of kv-lease-swarm, some piled onto the fault before) resolve each
/// role to the same host on both runs, so the two runs agree event for
/// event.
#[test]
fn check_determinism_holds_on_swarm_seeds_with_role_aimed_faults() {
    let dir = scratch("det-role-swarm");
    for seed in ["0", "1", "2", "3"] {
        let out = chaos(&[
            "replay",
            "kv-lease-swarm",
            "--seed",
            seed,
            "--check-determinism",
            "--report-dir",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 0, "seed {seed}: {}", stdout(&out));
        let report = read_json(&dir.join(format!("kv-lease-swarm/seed-{seed}/report.json")));
        let hits = report["fault_hits"].as_array().expect("fault_hits");
        assert!(
            hits.iter().any(|h| h["target"] == "role:leader"),
            "seed {seed}: no fault aimed at the leader"
        );
        let verdicts = report["verdicts"].as_array().unwrap();
        let det = verdicts
            .iter()
            .find(|v| v["invariant"] == "determinism")
            .expect("a determinism verdict");
        assert_eq!(det["status"], "pass", "seed {seed}");
    }
}
