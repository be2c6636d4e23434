//! The job queue target and the `jobs` invariant.
//!
//! The correct queue keeps every bundled `queue-*` scenario on a few seeds;
//! each planted bug is caught by the `jobs` checker on a named scenario,
//! for the reason the bug predicts; and the checker, on hand-made
//! histories that never saw the target, finds lost, duplicated, phantom
//! and late jobs, treats unknown-outcome enqueues as it should, and refuses
//! to pass a queue it could not read.

use harness::check::jobs;
use harness::check::{Status, Verdict};
use harness::history::{Event, EventType, History, Op, OpKind, Value};
use harness::plan::Plan;
use harness::scenario::{FaultEventSpec, JobsSpec, ScenarioBuilder, Topology};
use harness::sim::FINAL_READER_PROCESS;
use harness::suite::SeedRun;
use std::time::Duration;
use target_sims::systems::chain::study;

const SCENARIOS: [&str; 4] = [
    "queue-worker-crash",
    "queue-partition",
    "queue-server-crash",
    "queue-swarm",
];

fn jobs_verdict(run: &SeedRun) -> &Verdict {
    run.report
        .verdicts
        .iter()
        .find(|v| v.invariant == "jobs")
        .expect("the scenario checks jobs")
}

#[test]
fn the_correct_queue_keeps_every_queue_scenario() {
    for name in SCENARIOS {
        let scenario = study::scenario(name);
        for seed in 0..3 {
            let run = study::run(&scenario, seed);
            assert_eq!(
                run.report.status,
                Status::Pass,
                "{name} seed {seed}: {:#?}",
                run.report.verdicts
            );
            let v = jobs_verdict(&run);
            let processed = v.details["processed"].as_u64().unwrap();
            assert!(processed > 100, "{name} seed {seed}: {}", v.summary);
            assert_eq!(v.details["duplicated"], 0);
        }
    }
}

#[test]
fn recovery_and_fencing_are_exercised_by_the_correct_queue() {
    let scenario = study::scenario("queue-server-crash");
    let run = study::run(&scenario, 1);
    let messages: Vec<&str> = run
        .record
        .trace
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    for state in [
        "queue recovered",
        "store recovered",
        "lease expired",
        "job redelivered",
        "stale lease fenced",
        "effect applied",
    ] {
        assert!(messages.contains(&state), "no {state:?} in the trace");
    }
}

/// The first of `seeds` on which `bug` fails `scenario`'s jobs invariant.
fn first_catch(scenario: &str, bug: &str, seeds: u64) -> (u64, Verdict) {
    let base = study::scenario(scenario);
    let buggy = study::with_setting(base, "bug", Some(bug.into()));
    for seed in 0..seeds {
        let run = study::run(&buggy, seed);
        let v = jobs_verdict(&run);
        if v.status == Status::Fail {
            return (seed, v.clone());
        }
    }
    panic!("{bug} was not caught by {scenario} within {seeds} seeds");
}

#[test]
fn each_planted_bug_is_caught_by_the_jobs_checker() {
    for (bug, scenario, problem) in [
        ("ack-on-receive", "queue-worker-crash", "lost"),
        ("non-idempotent", "queue-server-crash", "duplicated"),
        (
            "short-visibility-timeout",
            "queue-worker-crash",
            "duplicated",
        ),
    ] {
        let (seed, v) = first_catch(scenario, bug, 10);
        println!(
            "{bug}: caught by {scenario}, first failing seed {seed}: {}",
            v.summary
        );
        assert!(v.summary.contains(problem), "{bug}: {}", v.summary);
        assert!(!v.evidence.is_empty(), "{bug}: the jobs are shown");
        assert!(v.details[problem].as_u64().unwrap() > 0);
    }
}

#[test]
fn a_short_visibility_timeout_is_rejected_unless_planted() {
    let scenario = study::scenario("queue-worker-crash");
    let short = study::with_setting(scenario, "visibility_timeout", Some("200ms".into()));
    let err = harness::scenario::validate(&short, &target_sims::registry())
        .err()
        .expect("rejected");
    let text = err.to_string();
    assert!(text.contains("target.visibility_timeout"), "{text}");
    assert!(text.contains("does not outlast a job"), "{text}");
    let typo = study::with_setting(
        study::scenario("queue-worker-crash"),
        "visiblity_timeout",
        Some("2s".into()),
    );
    let err = harness::scenario::validate(&typo, &target_sims::registry())
        .err()
        .expect("unknown keys are rejected");
    assert!(err.to_string().contains("visiblity_timeout"), "{err}");
}

// ---- the checker on hand-made histories -------------------------------

const S: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;

/// A 10 s plan with one fault window from 2 s to 4 s.
fn plan() -> Plan {
    let scenario = ScenarioBuilder::new("hand-made", "queue")
        .duration(Duration::from_secs(10))
        .fault(FaultEventSpec::Crash {
            at: Duration::from_secs(2),
            duration: Some(Duration::from_secs(2)),
            host: "worker-1".into(),
            spread: None,
        })
        .build();
    let topology = Topology {
        servers: vec!["queue".into(), "store".into(), "worker-1".into()],
        clients: vec!["client-0".into()],
    };
    harness::plan::expand(&scenario, &topology, 0)
}

struct Builder {
    history: History,
    process: u64,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            history: History::new(),
            process: 0,
        }
    }

    fn event(&mut self, process: u64, kind: EventType, op: Op, t: u64, error: Option<&str>) {
        self.history.push(Event {
            time_ns: t,
            process,
            kind,
            op,
            attempts: 1,
            degraded: false,
            error: error.map(str::to_string),
        });
    }

    /// An enqueue of `job` on k0 from `at`, ending `kind` 2 ms later.
    fn enqueue(&mut self, job: i64, at: u64, kind: EventType) -> &mut Builder {
        let op = Op {
            f: OpKind::Enqueue,
            key: Some("k0".into()),
            value: Value::Int(job),
        };
        self.process += 1;
        self.event(self.process, EventType::Invoke, op.clone(), at, None);
        let error = (kind != EventType::Ok).then_some("timeout");
        self.event(self.process, kind, op, at + 2 * MS, error);
        self
    }

    /// The final ledger read of k0 at 12 s: `(job, times, first_ns)`.
    fn ledger(&mut self, entries: &[(i64, i64, u64)]) -> &mut Builder {
        let read = Op {
            f: OpKind::Read,
            key: Some("k0".into()),
            value: Value::Nil,
        };
        let ledger = Value::List(
            entries
                .iter()
                .map(|&(job, times, first)| {
                    Value::List(vec![
                        Value::Int(job),
                        Value::Int(times),
                        Value::Int(first as i64),
                    ])
                })
                .collect(),
        );
        let p = FINAL_READER_PROCESS;
        self.event(p, EventType::Invoke, read.clone(), 12 * S, None);
        let done = Op {
            value: ledger,
            ..read
        };
        self.event(p, EventType::Ok, done, 12 * S + MS, None);
        self
    }

    fn check(&self) -> Verdict {
        let ops = self.history.operations().expect("well-formed");
        jobs::check(
            &ops,
            &self.history.events,
            &plan(),
            &JobsSpec {
                max_processing_delay: Duration::from_secs(1),
            },
        )
    }
}

#[test]
fn a_history_where_every_job_is_applied_once_passes() {
    let v = Builder::new()
        .enqueue(1, S, EventType::Ok)
        .enqueue(2, 5 * S, EventType::Ok)
        .ledger(&[(1, 1, S + 300 * MS), (2, 1, 5 * S + 200 * MS)])
        .check();
    assert_eq!(v.status, Status::Pass, "{}", v.summary);
    assert_eq!(v.details["processed"], 2);
    assert_eq!(v.details["processing_delay"]["max_ms"], 298.0);
}

#[test]
fn an_acknowledged_job_missing_from_the_ledger_is_lost() {
    let v = Builder::new()
        .enqueue(1, S, EventType::Ok)
        .enqueue(2, S, EventType::Ok)
        .ledger(&[(1, 1, S + 100 * MS)])
        .check();
    assert_eq!(v.status, Status::Fail);
    assert!(
        v.summary.starts_with("1 lost; first: job 2 on k0 lost"),
        "{}",
        v.summary
    );
    assert_eq!(v.details["lost"], 1);
    // Job 2's enqueue and the final read are the evidence.
    assert!(v.evidence.iter().any(|e| e.op.value == Value::Int(2)));
    assert!(v.evidence.iter().any(|e| e.process == FINAL_READER_PROCESS));
}

#[test]
fn a_job_applied_twice_is_duplicated_even_when_its_enqueue_was_unknown() {
    let v = Builder::new()
        .enqueue(1, S, EventType::Ok)
        .enqueue(2, S, EventType::Info)
        .ledger(&[(1, 1, S + 100 * MS), (2, 2, S + 100 * MS)])
        .check();
    assert_eq!(v.status, Status::Fail);
    assert!(v.summary.contains("1 duplicated"), "{}", v.summary);
    assert!(v.summary.contains("job 2"), "{}", v.summary);
}

#[test]
fn unknown_enqueues_may_or_may_not_be_processed() {
    let v = Builder::new()
        .enqueue(1, S, EventType::Ok)
        .enqueue(2, S, EventType::Info)
        .enqueue(3, S, EventType::Info)
        .ledger(&[(1, 1, S + 100 * MS), (3, 1, S + 100 * MS)])
        .check();
    assert_eq!(v.status, Status::Pass, "{}", v.summary);
    assert_eq!(v.details["enqueued_info"], 2);
    assert_eq!(v.details["info_processed"], 1);
}

#[test]
fn a_failed_or_never_made_enqueue_that_was_applied_is_a_phantom() {
    let v = Builder::new()
        .enqueue(1, S, EventType::Fail)
        .ledger(&[(1, 1, S + 100 * MS), (99, 1, S)])
        .check();
    assert_eq!(v.status, Status::Fail);
    assert_eq!(v.details["phantom"], 2, "{}", v.summary);
}

#[test]
fn a_job_is_late_by_its_acknowledgement_or_the_end_of_a_fault_it_waited_through() {
    // Job 1, acknowledged at 1 s, waits through the 2 s - 4 s fault: its
    // clock restarts at 4 s, so applied at 4.5 s it is on time. Job 2,
    // acknowledged at 5 s, applied at 6.5 s is late (bound 1 s).
    let v = Builder::new()
        .enqueue(1, S, EventType::Ok)
        .enqueue(2, 5 * S, EventType::Ok)
        .ledger(&[(1, 1, 4 * S + 500 * MS), (2, 1, 6 * S + 500 * MS)])
        .check();
    assert_eq!(v.status, Status::Fail);
    assert_eq!(v.details["late"], 1);
    assert!(v.summary.contains("job 2 on k0 late"), "{}", v.summary);
    // A job applied late without any fault in its way is late too.
    let v = Builder::new()
        .enqueue(1, 6 * S, EventType::Ok)
        .ledger(&[(1, 1, 8 * S)])
        .check();
    assert_eq!(v.details["late"], 1, "{}", v.summary);
}

#[test]
fn a_queue_that_never_drains_fails_and_an_unread_one_is_unknown() {
    let mut b = Builder::new();
    b.enqueue(1, S, EventType::Ok);
    let read = Op {
        f: OpKind::Read,
        key: Some("k0".into()),
        value: Value::Nil,
    };
    let p = FINAL_READER_PROCESS;
    b.event(p, EventType::Invoke, read.clone(), 12 * S, None);
    let refused = Op {
        value: Value::List(vec![]),
        ..read.clone()
    };
    b.event(
        p,
        EventType::Fail,
        refused,
        12 * S + MS,
        Some("not-drained: 1 jobs pending"),
    );
    let v = b.check();
    assert_eq!(v.status, Status::Fail);
    assert!(v.summary.contains("never drained"), "{}", v.summary);

    // A read that failed for another reason (unreachable) decides nothing.
    let mut b = Builder::new();
    b.enqueue(1, S, EventType::Ok);
    b.event(p, EventType::Invoke, read.clone(), 12 * S, None);
    b.event(
        p,
        EventType::Fail,
        read,
        12 * S + MS,
        Some("store unreachable"),
    );
    assert_eq!(b.check().status, Status::Unknown);
}

#[test]
fn a_final_read_that_is_not_a_ledger_makes_the_verdict_unknown() {
    let mut b = Builder::new();
    b.enqueue(1, S, EventType::Ok);
    let read = Op {
        f: OpKind::Read,
        key: Some("k0".into()),
        value: Value::Nil,
    };
    let p = FINAL_READER_PROCESS;
    b.event(p, EventType::Invoke, read.clone(), 12 * S, None);
    let odd = Op {
        value: Value::Int(7),
        ..read
    };
    b.event(p, EventType::Ok, odd, 12 * S + MS, None);
    let v = b.check();
    assert_eq!(v.status, Status::Unknown);
    assert!(v.summary.contains("expected a list"), "{}", v.summary);
}
