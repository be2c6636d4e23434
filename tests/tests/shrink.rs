//! Shrinking a failing seed to a small scenario that still fails the same
//! way, and that `chaos replay` reproduces.

mod common;
use common::*;

#[test]
fn a_planted_bug_shrinks_to_a_few_fault_events_and_replays() {
    let dir = scratch("shrink");
    let out_file = dir.join("shrunk.toml");
    let out = chaos(&[
        "shrink",
        "register-lost-replies",
        "--seed",
        "0",
        "--set",
        "target.retry_unsafe=true",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("still fails linearizable"), "{text}");
    let after = text
        .lines()
        .find(|l| l.trim_start().starts_with("after:"))
        .unwrap();
    let events: usize = after.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(events <= 3, "at most a few fault events remain: {after}");
    let before = text
        .lines()
        .find(|l| l.trim_start().starts_with("before:"))
        .unwrap();
    let events_before: usize = before.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(events_before > events, "{before} / {after}");

    let file = std::fs::read_to_string(&out_file).unwrap();
    assert!(file.starts_with("# Shrunk by `chaos shrink`"));
    assert!(!file.contains("[faults.random]"), "the plan is explicit");
    assert!(
        file.contains("retry_unsafe = true"),
        "the override is baked in"
    );

    let replay = chaos(&[
        "replay",
        out_file.to_str().unwrap(),
        "--seed",
        "0",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&replay), 1, "the shrunk scenario still fails");
    assert!(
        stdout(&replay).contains("FAIL     linearizable"),
        "{}",
        stdout(&replay)
    );
}

#[test]
fn run_with_shrink_writes_a_shrunk_scenario_beside_each_failure() {
    let dir = scratch("run-shrink");
    let out = chaos(&[
        "run",
        "tests/fixtures/register-too-strict.toml",
        "--seeds",
        "1",
        "--shrink",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("shrunk register-too-strict seed 0"),
        "{}",
        stdout(&out)
    );
    assert!(dir.join("register-too-strict/seed-0/shrunk.toml").is_file());
}

#[test]
fn shrinking_a_passing_seed_says_there_is_nothing_to_shrink() {
    let out = chaos(&[
        "shrink",
        "register-isolate",
        "--seed",
        "0",
        "--out",
        "/dev/null",
    ]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("passes: nothing to shrink"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn shrinking_goes_round_again_once_a_smaller_workload_makes_faults_unnecessary() {
    // kv-swarm seed 0 loses an unsynced acknowledged write when all five
    // replicas crash together. With eight clients every crash seems needed;
    // once the workload is down to one client, three crashes (a majority)
    // are enough, and only a second round of event removal finds that.
    let dir = scratch("shrink-rounds");
    let out_file = dir.join("shrunk.toml");
    let out = chaos(&[
        "shrink",
        "kv-swarm",
        "--seed",
        "0",
        "--set",
        "target.bug=ack-before-fsync",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    let after = text
        .lines()
        .find(|l| l.trim_start().starts_with("after:"))
        .unwrap();
    assert!(after.contains("1 client"), "{after}");
    let events: usize = after.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(events <= 3, "a majority's crashes at most: {after}");
}
