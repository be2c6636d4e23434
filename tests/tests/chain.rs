//! Each chain scenario with and without the primitive that protects it.
//!
//! A bundled `chain-*` scenario shows a primitive doing its job under a
//! fault. These tests run it on a few seeds as written (its invariants
//! hold) and again with the primitive disabled or misconfigured through a
//! settings override (its invariants fail, for the reason the scenario's
//! comment gives), and check the state changes the primitive is meant to
//! make in the trace.

use harness::check::{Status, Verdict};
use harness::record::RunRecord;
use harness::scenario::Scenario;
use harness::suite::SeedRun;
use std::time::Duration;
use target_sims::systems::chain::study;

const SEEDS: [u64; 3] = [1, 2, 3];

fn availability(run: &SeedRun) -> &Verdict {
    run.report
        .verdicts
        .iter()
        .find(|v| v.invariant == "availability")
        .expect("the scenario checks availability")
}

/// Every seed passes; returns the runs for further checks.
fn passes(scenario: &Scenario) -> Vec<SeedRun> {
    SEEDS
        .iter()
        .map(|&seed| {
            let run = study::run(scenario, seed);
            assert_eq!(
                run.report.status,
                Status::Pass,
                "{} seed {seed}: {:#?}",
                scenario.name,
                run.report.verdicts
            );
            run
        })
        .collect()
}

/// Every seed fails availability, for a reason containing `because`.
fn fails(scenario: &Scenario, because: &str) -> Vec<SeedRun> {
    SEEDS
        .iter()
        .map(|&seed| {
            let run = study::run(scenario, seed);
            let verdict = availability(&run);
            assert_eq!(
                verdict.status,
                Status::Fail,
                "{} seed {seed} should fail: {}",
                scenario.name,
                verdict.summary
            );
            assert!(
                verdict.summary.contains(because),
                "{} seed {seed}: expected a failure about {because:?}, got: {}",
                scenario.name,
                verdict.summary
            );
            run
        })
        .collect()
}

fn without(scenario: &Scenario, setting: &str) -> Scenario {
    assert!(
        setting.contains('.') || scenario.target.settings.contains_key(setting),
        "{} has no setting {setting}",
        scenario.name
    );
    study::with_setting(scenario.clone(), setting, None)
}

fn with(scenario: &Scenario, setting: &str, value: impl Into<toml::Value>) -> Scenario {
    study::with_setting(scenario.clone(), setting, Some(value.into()))
}

/// Times (and fields) of the trace's log events whose message contains
/// `message`, from any host.
fn logs(record: &RunRecord, message: &str) -> Vec<(Duration, Vec<(String, String)>)> {
    record
        .trace
        .iter()
        .filter(|e| e.message.contains(message))
        .map(|e| (Duration::from_nanos(e.time_ns), e.fields.clone()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
}

fn detail(run: &SeedRun, key: &str) -> f64 {
    availability(run).details[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no number {key} in {:?}", availability(run).details))
}

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn breaker_opens_in_the_partition_and_closes_after_the_heal() {
    let on = study::scenario("chain-breaker-partition");
    for run in passes(&on) {
        let changes = logs(&run.record, "breaker state changed");
        let backend_1 = |state: &str| {
            changes
                .iter()
                .filter(|(_, f)| field(f, "name") == "backend-1" && field(f, "state") == state)
                .map(|(t, _)| *t)
                .collect::<Vec<_>>()
        };
        let opened = backend_1("open");
        let closed = backend_1("closed");
        assert!(opened[0] > S(4) && opened[0] < S(5), "{opened:?}");
        assert_eq!(closed.len(), 1, "{changes:?}");
        assert!(closed[0] > S(8) && closed[0] < S(10), "{closed:?}");
        assert!(detail(&run, "degraded") > 0.0);
    }
    // The fallback is what keeps availability up ...
    fails(&without(&on, "fallback"), "during faults ok ratio");
    // ... and the breaker is what keeps it fast.
    fails(&without(&on, "breaker"), "p99 latency");
    // A breaker that stays open long after the heal keeps refusing writes.
    fails(
        &with(&on, "breaker.open_duration", "20s"),
        "after heal ok ratio",
    );
}

#[test]
fn bulkhead_keeps_a_slow_backend_from_starving_the_others() {
    let on = study::scenario("chain-bulkhead-slow-backend");
    for run in passes(&on) {
        assert!(detail(&run, "ok_ratio_during_faults") > 0.55);
    }
    fails(&without(&on, "bulkhead"), "p99 latency");
}

#[test]
fn unbudgeted_retries_storm_long_after_the_trigger_and_a_budget_recovers() {
    let on = study::scenario("chain-retry-storm");
    let heal = S(6);
    for run in passes(&on) {
        assert!(detail(&run, "recovery_time_ms") <= 3000.0);
        let buckets = study::goodput(&run.record, S(1));
        assert!(buckets[8..14].iter().all(|b| b.ok * 100 >= b.invoked * 95));
    }
    let runs = fails(
        &with(&on, "retry.budget", false),
        "never recovered to ok ratio",
    );
    for run in runs {
        // The storm outlives its 1s trigger: from the heal to the end of
        // the workload (9 seconds) hardly any request succeeds, while the
        // backends keep working flat out on requests nobody waits for.
        let buckets = study::goodput(&run.record, S(1));
        let healthy = buckets[1..5].iter().map(|b| b.ok).min().unwrap();
        assert!(healthy > 400, "{buckets:?}");
        for b in buckets.iter().filter(|b| b.start >= heal) {
            assert!(b.ok * 20 < healthy, "goodput came back: {buckets:?}");
        }
        assert!(detail(&run, "retry_amplification") > 2.0);
        let overloaded = logs(&run.record, "backend overloaded");
        assert_eq!(overloaded.len(), 3, "every backend overflows");
        assert!(logs(&run.record, "backend recovered")
            .iter()
            .all(|(t, _)| *t > S(15)));
    }
}

#[test]
fn jitter_spreads_contending_retries() {
    let full = study::scenario("chain-jitter-contention");
    let with_jitter: Vec<_> = passes(&full)
        .iter()
        .map(|r| study::contention(&r.record))
        .collect();
    let lockstep: Vec<_> = fails(&with(&full, "retry.jitter", "none"), "retry amplification")
        .iter()
        .map(|r| study::contention(&r.record))
        .collect();
    for (j, n) in with_jitter.iter().zip(&lockstep) {
        assert_eq!(j.succeeded, j.requests);
        assert!(n.calls > 3 * j.calls, "{n:?} vs {j:?}");
        assert!(n.completion > 10 * j.completion, "{n:?} vs {j:?}");
    }
    for mode in ["equal", "decorrelated"] {
        passes(&with(&full, "retry.jitter", mode));
    }
}

#[test]
fn shedding_bounds_the_latency_of_admitted_requests() {
    let on = study::scenario("chain-shed-spike");
    for run in passes(&on) {
        let refusals = logs(&run.record, "backend overloaded");
        assert!(!refusals.is_empty());
        assert!(refusals.iter().all(|(t, _)| *t >= S(4) && *t < S(7)));
    }
    fails(&without(&on, "shed"), "p99 latency");
}

#[test]
fn autoscaler_grows_the_pools_in_a_spike_and_shrinks_them_after() {
    let on = study::scenario("chain-autoscale-spike");
    for run in passes(&on) {
        let resizes = logs(&run.record, "scaler resized");
        for backend in ["backend-1", "backend-2", "backend-3"] {
            let sizes: Vec<(Duration, u32)> = resizes
                .iter()
                .filter(|(_, f)| field(f, "name") == backend)
                .map(|(t, f)| (*t, field(f, "to").parse().unwrap()))
                .collect();
            let (peak_at, peak) = *sizes.iter().max_by_key(|(_, size)| *size).unwrap();
            assert!(peak >= 6, "{backend}: {sizes:?}");
            assert!(peak_at > S(3) && peak_at < S(7), "{backend}: {sizes:?}");
            let (last_at, last) = *sizes.last().unwrap();
            assert_eq!(last, 2, "{backend} back to its minimum: {sizes:?}");
            assert!(last_at > S(7), "{backend}: {sizes:?}");
        }
    }
    fails(&without(&on, "autoscale"), "overall ok ratio");
}

#[test]
fn hedging_cuts_the_tail_of_a_slow_replica() {
    let on = study::scenario("chain-hedge-slow-replica");
    for run in passes(&on) {
        assert!(detail(&run, "retry_amplification") > 1.05);
    }
    fails(&without(&on, "hedge"), "p99 latency");
}

#[test]
fn retries_fail_over_from_a_crashed_replica() {
    let on = study::scenario("chain-crash-failover");
    passes(&on);
    fails(&without(&on, "retry"), "during faults ok ratio");
}

#[test]
fn settings_errors_name_the_setting() {
    let registry = target_sims::registry();
    let error = |settings: &str| {
        let text = format!(
            "name = \"x\"\n[target]\nsystem = \"chain\"\n{settings}\n[workload]\nclients = 1\n"
        );
        harness::scenario::parse_str(&text, None, &registry)
            .and_then(|s| harness::scenario::validate(&s, &registry).map(|_| ()))
            .expect_err("invalid settings")
            .to_string()
    };
    let e = error("retry = { base = \"50ms\", cap = \"10ms\" }");
    assert!(e.contains("target.retry.cap"), "{e}");
    assert!(e.contains("at least backoff.base"), "{e}");
    let e = error("breaker = { window = 10, minimum_calls = 20 }");
    assert!(e.contains("target.breaker.minimum_calls"), "{e}");
    let e = error("retry = { max_attempts = 3, retries = 2 }");
    assert!(e.contains("unknown field `retries`"), "{e}");
    let e = error(
        "slowdown = { host = \"backend-9\", at = \"1s\", duration = \"1s\", extra = \"5ms\" }",
    );
    assert!(e.contains("target.slowdown.host"), "{e}");
    let e = error("autoscale = { min_workers = 8, max_workers = 16 }\nworkers = 4");
    assert!(e.contains("target.workers"), "{e}");
    let e = error("fallback = \"stale\"");
    assert!(e.contains("target.fallback"), "{e}");
    let e = error("request_timeout = \"2s\"\nclient_timeout = \"1s\"");
    assert!(e.contains("target.client_timeout"), "{e}");
}
