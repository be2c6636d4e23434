//! The replicated KV store against its bundled scenarios.
//!
//! The correct store passes every `kv-*` scenario on a few seeds (the big
//! sweeps are run by hand; see the README); each planted bug is caught by
//! the checker expected to catch it, first at the seed this file names, on
//! the scenario it names — and that seed passes without the bug, so it is
//! the bug that fails it. The trace tells what the replicas went through,
//! and a seed replays to the same trace.

use harness::check::Status;
use harness::suite::{execute, ExecOptions, LoadedScenario, SeedRun};
use std::collections::BTreeSet;

/// Seeds each scenario runs with the correct store here.
const SEEDS: std::ops::Range<u64> = 0..3;

fn bundled(name: &str, overrides: &[&str]) -> LoadedScenario {
    let registry = target_sims::registry();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    LoadedScenario::from_file(&path, &overrides, &registry)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn run(loaded: &LoadedScenario, seed: u64) -> SeedRun {
    execute(loaded, seed, &ExecOptions::default())
}

fn failed_invariants(run: &SeedRun) -> Vec<String> {
    run.report
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .map(|v| v.invariant.clone())
        .collect()
}

fn passes_everywhere(scenarios: &[&str]) {
    for name in scenarios {
        let loaded = bundled(name, &[]);
        let inv = &loaded.scenario.invariants;
        assert!(
            inv.linearizable.is_some()
                && inv.durability.is_some()
                && inv.convergence.is_some()
                && inv.availability.is_some(),
            "{name} checks linearizability, durability, convergence and availability"
        );
        assert!(loaded.scenario.workload.final_read, "{name} reads back");
        harness::check(target_sims::registry(), name)
            .seeds(SEEDS)
            .run()
            .assert_passed();
    }
}

#[test]
fn the_correct_store_passes_the_network_and_process_scenarios() {
    passes_everywhere(&[
        "kv-leader-isolate",
        "kv-rolling-restart",
        "kv-bridge",
        "kv-split-vote",
    ]);
}

#[test]
fn the_correct_store_passes_the_disk_clock_and_swarm_scenarios() {
    passes_everywhere(&[
        "kv-crash-corrupt",
        "kv-disk-full",
        "kv-clock-jump",
        "kv-swarm",
    ]);
}

#[test]
fn the_correct_store_passes_the_lease_scenarios() {
    passes_everywhere(&["kv-lease-clock", "kv-lease-swarm"]);
}

#[test]
fn a_leader_with_a_lease_serves_reads_on_it_and_stops_when_its_clock_is_off() {
    let r = run(&bundled("kv-lease-clock", &[]), 1);
    assert_eq!(r.report.status, Status::Pass);
    let lease_reads: Vec<u64> = r
        .record
        .trace
        .iter()
        .filter(|e| e.message == "reads served on the lease")
        .map(|e| e.time_ns)
        .collect();
    assert!(!lease_reads.is_empty(), "the lease path was used");
    // The same clock faults with the lease trusted blindly: stale reads.
    let buggy = run(
        &bundled("kv-lease-clock", &["target.bug=lease-ignores-drift"]),
        3,
    );
    assert!(failed_invariants(&buggy).contains(&"linearizable".to_string()));
}

/// (bug, scenario, expected checker, first failing seed), as `chaos bugs`
/// finds them.
const CATCHES: [(&str, &str, &str, u64); 9] = [
    ("ack-before-fsync", "kv-rolling-restart", "durability", 0),
    ("ack-before-majority", "kv-clock-jump", "linearizable", 0),
    ("skip-checksum", "kv-crash-corrupt", "convergence", 2),
    ("stale-read", "kv-clock-jump", "linearizable", 0),
    ("double-vote", "kv-split-vote", "linearizable", 0),
    ("lease-ignores-drift", "kv-lease-clock", "linearizable", 3),
    ("txn-split-reads", "kv-txn-append", "transactional", 0),
    ("txn-split-commit", "kv-txn-append", "transactional", 0),
    ("snapshot-write-skew", "kv-txn-append", "transactional", 0),
];

#[test]
fn each_planted_bug_is_caught_first_at_its_named_seed() {
    let bugs = target_sims::registry()
        .get("kv")
        .expect("kv is registered")
        .planted_bugs();
    let declared: BTreeSet<&str> = bugs.iter().map(|b| b.name).collect();
    let named: BTreeSet<&str> = CATCHES.iter().map(|c| c.0).collect();
    assert_eq!(declared, named, "every declared bug has a named catch");
    for (bug, scenario, checker, first) in CATCHES {
        // The bug's own overrides: most set `target.bug`, some a mode.
        let overrides = bugs.iter().find(|b| b.name == bug).unwrap().overrides;
        let buggy = bundled(scenario, overrides);
        for seed in 0..first {
            let r = run(&buggy, seed);
            assert_ne!(
                r.report.status,
                Status::Fail,
                "{bug} on {scenario} already fails at seed {seed}: {:?}",
                failed_invariants(&r)
            );
        }
        let r = run(&buggy, first);
        assert!(
            failed_invariants(&r).iter().any(|i| i == checker),
            "{bug} on {scenario} seed {first}: expected {checker} to fail, failed: {:?}",
            failed_invariants(&r)
        );
        let correct = run(&bundled(scenario, &[]), first);
        assert_eq!(
            correct.report.status,
            Status::Pass,
            "{scenario} seed {first} without the bug"
        );
    }
}

#[test]
fn the_generic_swarm_catches_a_trusted_corrupt_record_by_the_replicas_applied_histories() {
    // In kv-swarm seed 2, n1 restarts at 11.27 s onto a disk that flips
    // bits on read; with skip-checksum it applies a damaged record at log
    // position 377. A checkpoint from the leader replaces its state at
    // 12.67 s, so the final states agree again: only the applied-history
    // digests show that n1 applied another entry at that position.
    let buggy = run(&bundled("kv-swarm", &["target.bug=skip-checksum"]), 2);
    let convergence = buggy
        .report
        .verdicts
        .iter()
        .find(|v| v.invariant == "convergence")
        .expect("kv-swarm checks convergence");
    assert_eq!(convergence.status, Status::Fail, "{}", convergence.summary);
    assert!(
        convergence
            .summary
            .contains("replicas applied different histories at log position"),
        "{}",
        convergence.summary
    );
    let correct = run(&bundled("kv-swarm", &[]), 2);
    assert_eq!(correct.report.status, Status::Pass);
    let agreed = correct
        .report
        .verdicts
        .iter()
        .find(|v| v.invariant == "convergence")
        .unwrap();
    assert!(agreed.summary.contains("compared"), "{}", agreed.summary);
}

#[test]
fn the_lease_swarm_catches_a_lease_that_trusts_a_skewed_clock() {
    // kv-lease-swarm seed 5: n4's clock runs at 19% of true speed all
    // storm long. At 18.01 s n4 leads and a zone split cuts it off with
    // client-0 while client-1 reaches the majority, which elects a new
    // leader and takes writes. A lease measured on n4's slow clock
    // outlasts the election, and n4 answers client-0's reads from its
    // stale state; the correct lease sees the clock disagree with its
    // monotonic timer and asks a quorum instead.
    let buggy = run(
        &bundled("kv-lease-swarm", &["target.bug=lease-ignores-drift"]),
        5,
    );
    let verdict = buggy
        .report
        .verdicts
        .iter()
        .find(|v| v.invariant == "linearizable")
        .unwrap();
    assert_eq!(verdict.status, Status::Fail, "{}", verdict.summary);
    let faults: Vec<&str> = buggy
        .record
        .trace
        .iter()
        .filter(|e| e.source == "nemesis")
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        faults.contains(&"clock-drift n4 (rate -0.81)"),
        "every server's clock skewed from the storm's start: {faults:?}"
    );
    assert!(
        faults.contains(
            &"partition [role:leader,n2,client-0] | [n1,n4,n3,n5,client-1] (role:leader = n4)"
        ),
        "the leader split off with one client host: {faults:?}"
    );
    let correct = run(&bundled("kv-lease-swarm", &[]), 5);
    assert_eq!(correct.report.status, Status::Pass);
}

#[test]
fn the_trace_shows_elections_checkpoints_and_recovery_from_a_bad_disk() {
    let mut seen = BTreeSet::new();
    for (scenario, seed) in [("kv-crash-corrupt", 2), ("kv-rolling-restart", 0)] {
        let r = run(&bundled(scenario, &[]), seed);
        assert_eq!(r.report.status, Status::Pass, "{scenario} seed {seed}");
        for event in &r.record.trace {
            if event.target.as_deref() == Some("kv") {
                seen.insert(event.message.clone());
            }
        }
    }
    for message in [
        "vote granted",
        "became leader",
        "following leader",
        "checkpoint written",
        "checkpoint restored",
        "replica recovered",
        "wal record rejected by checksum",
        "wal truncated",
        "lost records it may have acknowledged; not voting until caught up",
        "caught up after lost records; voting again",
    ] {
        assert!(seen.contains(message), "no {message:?} in {seen:#?}");
    }
}

#[test]
fn a_seed_replays_to_the_same_trace_and_replica_states() {
    let loaded = bundled("kv-swarm", &[]);
    let a = run(&loaded, 7);
    let b = run(&loaded, 7);
    assert_eq!(a.record.trace_hash, b.record.trace_hash);
    assert_eq!(a.record.history.events, b.record.history.events);
    assert_eq!(a.record.replica_states, b.record.replica_states);
    let other = run(&loaded, 8);
    assert_ne!(a.record.trace_hash, other.record.trace_hash);
}
