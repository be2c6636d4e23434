//! A target that panics or never answers fails its own seed, with the
//! reason, and the rest of a sweep still runs.

use harness::check::Status;
use harness::history::{Op, Value};
use harness::record::RunEnd;
use harness::scenario::ScenarioBuilder;
use harness::suite::{run_jobs, ExecOptions, Job, LoadedScenario};
use harness::target::{
    Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, Registry, SettingsError, System, Target,
};
use std::sync::Arc;
use std::time::Duration;

/// Behaves until `panic_at`, then its server panics — only on odd seeds'
/// hosts (the seed reaches the target through its host RNG).
struct Fragile;
struct FragileSystem {
    hang: bool,
}
struct FragileClient {
    hang: bool,
}

impl Target for Fragile {
    fn name(&self) -> &'static str {
        "fragile"
    }
    fn description(&self) -> &'static str {
        "panics on odd seeds, or never answers"
    }
    fn configure(&self, settings: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        let hang = settings
            .get("hang")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        Ok(Arc::new(FragileSystem { hang }))
    }
}

impl System for FragileSystem {
    fn hosts(&self) -> Vec<String> {
        vec!["server".into()]
    }
    fn install(&self, sim: &mut turmoil::Sim<'_>, env: &HostEnv) {
        use rand::Rng;
        let odd = env.host_rng("server").random_range(0..2) == 1;
        sim.host("server", move || async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if odd {
                panic!("replica invariant violated: log index went backwards");
            }
            std::future::pending::<()>().await;
            Ok(())
        });
    }
    fn client(&self, _: u64, _: &ClientEnv) -> Box<dyn Client> {
        Box::new(FragileClient { hang: self.hang })
    }
}

impl Client for FragileClient {
    fn invoke<'a>(&'a mut self, _: &'a Op) -> LocalBoxFuture<'a, Completion> {
        let hang = self.hang;
        Box::pin(async move {
            if hang {
                std::future::pending::<()>().await;
            }
            Completion::ok(Value::Nil)
        })
    }
}

fn loaded(builder: ScenarioBuilder) -> LoadedScenario {
    let registry = Registry::new().with_target(Fragile);
    let scenario = builder.build();
    LoadedScenario::from_scenario(scenario, &registry).expect("valid scenario")
}

#[test]
fn a_panicking_target_fails_its_seed_and_the_sweep_goes_on() {
    let scenario = loaded(
        ScenarioBuilder::new("fragile", "fragile")
            .duration(Duration::from_secs(3))
            .clients(2),
    );
    let jobs: Vec<Job> = (0..8).map(|seed| Job { scenario: 0, seed }).collect();
    let results = run_jobs(
        std::slice::from_ref(&scenario),
        &jobs,
        2,
        &ExecOptions::default(),
        None,
        |_| {},
    );
    assert_eq!(results.len(), 8, "every seed reports");
    let failed: Vec<_> = results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .collect();
    let passed = results.iter().filter(|r| r.status == Status::Pass).count();
    assert!(
        !failed.is_empty() && passed > 0,
        "odd seeds panic, even ones pass"
    );
    for r in &failed {
        assert!(
            r.problems[0].contains("run: panicked: replica invariant violated"),
            "{:?}",
            r.problems
        );
    }
    // The panic is in the replay's record too, with the simulated time.
    let seed = failed[0].seed;
    let run = harness::suite::execute(&scenario, seed, &ExecOptions::default());
    assert!(matches!(run.record.end, RunEnd::Panicked { .. }));
    let panic = run
        .record
        .trace
        .iter()
        .find(|e| e.kind == harness::record::TraceKind::Panic)
        .unwrap();
    assert_eq!(panic.time_ns, 1_000_000_000);
}

#[test]
fn a_simulation_that_never_finishes_is_reported_as_hung() {
    let scenario = loaded(
        ScenarioBuilder::new("hangs", "fragile")
            .setting("hang", true)
            .duration(Duration::from_secs(2))
            .drain(Duration::from_secs(1))
            .op_timeout(Duration::from_secs(60))
            .clients(1),
    );
    // An even-seed host does not panic, so the client's hang is what shows.
    let seed = (0..16)
        .find(|&s| {
            use rand::Rng;
            harness::seed::Seed(s)
                .stream("host/server")
                .random_range(0..2)
                == 0
        })
        .unwrap();
    let run = harness::suite::execute(&scenario, seed, &ExecOptions::default());
    assert_eq!(run.record.end, RunEnd::Hung { steps: 3001 });
    assert_eq!(run.report.status, Status::Fail);
    assert!(run.report.verdicts[0].summary.starts_with("hung"));
}
