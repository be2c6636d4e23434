//! Faults aimed at a role, observed by the KV store: the replica that
//! reports `leader` when the fault fires is the one cut off or crashed,
//! the store elects another, and the record says which host was hit.

use harness::check::Status;
use harness::history::OpKind;
use harness::scenario::{FaultEventSpec, ScenarioBuilder};
use harness::suite::{execute, ExecOptions, LoadedScenario, SeedRun};
use std::time::Duration;

const S: fn(u64) -> Duration = Duration::from_secs;

fn kv(name: &str, fault: FaultEventSpec) -> ScenarioBuilder {
    ScenarioBuilder::new(name, "kv")
        .setting("replicas", 3)
        .duration(S(12))
        .drain(S(10))
        .clients(4)
        .client_hosts(2)
        .rate(10.0)
        .mix(&[(OpKind::Read, 2), (OpKind::Write, 1), (OpKind::Append, 1)])
        .keys(2)
        .op_timeout(S(4))
        .final_read(true)
        .fault(fault)
}

fn run(builder: ScenarioBuilder, seed: u64) -> SeedRun {
    let registry = target_sims::registry();
    let loaded = LoadedScenario::from_scenario(builder.build(), &registry).expect("valid scenario");
    execute(&loaded, seed, &ExecOptions::default())
}

/// The single hit of a role-aimed fault: its time and the host it hit.
fn hit(r: &SeedRun) -> (u64, String) {
    let [hit] = r.record.fault_hits.as_slice() else {
        panic!("one hit: {:?}", r.record.fault_hits)
    };
    assert_eq!(hit.target, "role:leader");
    let [host] = hit.hosts.as_slice() else {
        panic!("the leader is known by then: {hit:?}")
    };
    (hit.time_ns, host.clone())
}

#[test]
fn isolating_the_leader_from_its_peers_deposes_whoever_leads() {
    for seed in 0..3 {
        let r = run(
            kv(
                "isolate-leader",
                FaultEventSpec::IsolatePeers {
                    at: S(3),
                    duration: Some(S(3)),
                    host: "role:leader".into(),
                },
            ),
            seed,
        );
        let (at, deposed) = hit(&r);
        let roles = &r.record.roles;
        assert_eq!(roles.holders_at("leader", at), vec![deposed.clone()]);
        // Cut off from both peers, it loses its quorum and steps down, and
        // the other two elect one of themselves, while the fault lasts.
        let end = at + S(3).as_nanos() as u64;
        let successor = roles.next_taken("leader", at).expect("a new leader");
        assert_ne!(successor.host, deposed, "seed {seed}");
        assert!(successor.time_ns < end, "seed {seed}: {successor:?}");
        assert_ne!(roles.role_of_at(&deposed, end - 1), Some("leader"));
        // The trace names the host the role resolved to.
        let line = format!("role:leader = {deposed}");
        assert!(
            r.record.trace.iter().any(|e| e.message.contains(&line)),
            "seed {seed}: no trace line with {line:?}"
        );
        // The correct store stays correct.
        for v in &r.report.verdicts {
            assert_ne!(v.status, Status::Fail, "seed {seed}: {v:?}");
        }
    }
}

#[test]
fn crashing_the_leader_crashes_and_restarts_the_host_that_led() {
    let r = run(
        kv(
            "crash-leader",
            FaultEventSpec::Crash {
                at: S(3),
                duration: Some(S(2)),
                host: "role:leader".into(),
                spread: None,
            },
        ),
        1,
    );
    let (at, crashed) = hit(&r);
    let lifecycle: Vec<(&str, &str, u64)> = r
        .record
        .trace
        .iter()
        .filter(|e| matches!(e.message.as_str(), "crashed" | "restarted"))
        .map(|e| (e.source.as_str(), e.message.as_str(), e.time_ns))
        .collect();
    let what: Vec<(&str, &str)> = lifecycle.iter().map(|(h, m, _)| (*h, *m)).collect();
    assert_eq!(
        what,
        vec![
            (crashed.as_str(), "crashed"),
            (crashed.as_str(), "restarted")
        ],
        "the restart goes to the host the crash hit, whoever leads by then"
    );
    assert_eq!(lifecycle[0].2, at);
    assert!(lifecycle[1].2 >= at + S(2).as_nanos() as u64);
    // The crashed software's role is cleared by the harness at once.
    assert_eq!(r.record.roles.role_of_at(&crashed, at), None);
}

#[test]
fn a_fault_aimed_at_a_role_nobody_holds_is_skipped_and_recorded() {
    // In a quiet cluster nobody is a candidate long after the first
    // election.
    let r = run(
        kv(
            "crash-candidate",
            FaultEventSpec::Crash {
                at: S(5),
                duration: Some(S(1)),
                host: "role:candidate".into(),
                spread: None,
            },
        ),
        1,
    );
    let [hit] = r.record.fault_hits.as_slice() else {
        panic!("{:?}", r.record.fault_hits)
    };
    assert!(hit.hosts.is_empty(), "{hit:?}");
    assert!(!r.record.trace.iter().any(|e| e.message == "crashed"));
    assert!(r
        .record
        .trace
        .iter()
        .any(|e| e.message.contains("nobody holds it") && e.message.contains("skipped")));
}

#[test]
fn a_role_the_target_does_not_report_is_a_scenario_error() {
    let registry = target_sims::registry();
    let scenario = kv(
        "crash-primary",
        FaultEventSpec::Crash {
            at: S(5),
            duration: None,
            host: "role:primary".into(),
            spread: None,
        },
    )
    .build();
    let error = LoadedScenario::from_scenario(scenario, &registry)
        .err()
        .expect("an unknown role is refused")
        .to_string();
    assert!(error.contains("unknown role \"primary\""), "{error}");
    assert!(error.contains("role:leader"), "{error}");
}

#[test]
fn loss_on_the_links_of_a_role_is_a_valid_explicit_fault_and_hits_whoever_holds_it() {
    // What the swarm plans for a role-aimed `loss` (and what `explore`
    // keeps in its corpus): one side the role, the other every host. The
    // role resolves only when the fault fires, so validation must not
    // compare the two sides as they are written.
    let everyone: Vec<String> = ["n1", "n2", "n3", "client-0", "client-1"]
        .iter()
        .map(|h| h.to_string())
        .collect();
    let r = run(
        kv(
            "lossy-leader",
            FaultEventSpec::Loss {
                at: S(3),
                duration: Some(S(3)),
                between: Some([vec!["role:leader".into()], everyone]),
                rate: 0.5,
            },
        ),
        1,
    );
    let (_, leader) = hit(&r);
    assert!(leader.starts_with('n'), "{leader}");
    assert_eq!(r.report.status, Status::Pass, "{:?}", r.report.verdicts);
}
