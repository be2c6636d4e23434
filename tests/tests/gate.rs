//! The planted-bug gate: every planted bug of every target is caught by the
//! bundled suite, by the invariant expected to catch it, within the seed
//! limit; the table says where and when.

mod common;
use common::*;

#[test]
fn every_planted_bug_is_caught_by_its_expected_checker() {
    let out = chaos(&["bugs", "--swarm-seeds", "2"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}\n{}", stderr(&out));
    assert!(
        text.contains(
            "| register | blind-retry | linearizable | linearizable | register-lost-replies |"
        ),
        "{text}"
    );
    for bug in [
        "unbudgeted-retries",
        "breaker-stuck-open",
        "lockstep-backoff",
    ] {
        assert!(
            text.contains(&format!("| chain | {bug} | availability | availability |")),
            "{text}"
        );
    }
    for bug in [
        "ack-on-receive",
        "non-idempotent",
        "short-visibility-timeout",
    ] {
        assert!(
            text.contains(&format!("| queue | {bug} | jobs | jobs |")),
            "{text}"
        );
    }
    for (bug, expected) in [
        ("ack-before-fsync", "durability"),
        ("ack-before-majority", "linearizable"),
        ("skip-checksum", "convergence"),
        ("stale-read", "linearizable"),
        ("double-vote", "linearizable"),
        ("lease-ignores-drift", "linearizable"),
    ] {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| kv | {bug} | {expected} |")))
            .unwrap_or_else(|| panic!("no row for kv {bug}:\n{text}"));
        assert!(!row.contains("not the expected one"), "{row}");
    }
    // The two targets built on the axum and tonic adapters.
    for (target, bug, scenario) in [
        ("http-kv", "check-then-act", "http-kv-cas"),
        (
            "grpc-counter",
            "fresh-id-per-attempt",
            "grpc-counter-lost-replies",
        ),
    ] {
        let prefix = format!("| {target} | {bug} | linearizable | linearizable | {scenario} |");
        assert!(
            text.lines().any(|l| l.starts_with(&prefix)),
            "no {prefix} in\n{text}"
        );
    }
    // Every bug also has a row for each generic swarm scenario of its
    // target; the ones the swarm finds at once say so.
    let (gate, swarm) = text
        .split_once("on the generic swarm scenarios, seeds 0..2:")
        .unwrap_or_else(|| panic!("no swarm rows:\n{text}"));
    assert!(!gate.contains("NOT CAUGHT"), "{text}");
    let registry = target_sims::registry();
    for target in registry.targets() {
        for bug in target.planted_bugs() {
            let row = format!(
                "| {} | {} | {}-swarm |",
                target.name(),
                bug.name,
                target.name()
            );
            assert!(swarm.contains(&row), "no {row} in\n{swarm}");
        }
    }
    let row = |prefix: &str| {
        swarm
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_default()
            .to_string()
    };
    let double_vote = row("| kv | double-vote | kv-swarm |");
    assert!(
        double_vote.contains(" | 0 | ") && double_vote.contains("linearizable"),
        "{swarm}"
    );
    for bug in ["ack-on-receive", "short-visibility-timeout"] {
        let queue = row(&format!("| queue | {bug} | queue-swarm | 2 of 2 | 0 | "));
        assert!(queue.contains("jobs"), "{swarm}");
    }
    // Each catch comes with the command that replays it.
    assert!(
        text.contains("replay scenarios/register-lost-replies.toml --seed"),
        "{text}"
    );
}

#[test]
fn the_gate_rejects_an_unknown_target() {
    let out = chaos(&["bugs", "--target", "etcd"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("unknown target \"etcd\""));
}
