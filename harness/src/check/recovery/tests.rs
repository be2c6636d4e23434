//! Hand-made runs with known windows: a server crashed from 2 s to 5 s
//! under one operation every 100 ms, with a detection signal and an outage
//! placed by hand.

use super::*;
use crate::history::{Event, EventType, History, Op, Value};
use crate::record::{RunEnd, RunLog, TraceEvent, TraceKind};
use crate::scenario::{FaultBound, FaultEventSpec, ScenarioBuilder, Topology};

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

fn plan(faults: &[(u64, u64)]) -> Plan {
    let mut s = ScenarioBuilder::new("t", "x").duration(Duration::from_secs(10));
    for &(at_s, for_s) in faults {
        s = s.fault(FaultEventSpec::Crash {
            at: Duration::from_secs(at_s),
            duration: Some(Duration::from_secs(for_s)),
            host: "s".into(),
            spread: None,
        });
    }
    let topology = Topology {
        servers: vec!["s".into()],
        clients: vec!["client-0".into()],
    };
    crate::plan::expand(&s.build(), &topology, 1)
}

/// One read every 100 ms, ending 1 ms later; those invoked while `down(t)`
/// time out.
fn history(down: impl Fn(u64) -> bool) -> History {
    let mut h = History::new();
    for i in 0..100u64 {
        let t = i * 100 * MS;
        let mk = |kind, time_ns| Event {
            time_ns,
            process: 0,
            kind,
            op: Op {
                f: OpKind::Read,
                key: None,
                value: Value::Nil,
            },
            attempts: 1,
            degraded: false,
            error: None,
        };
        h.push(mk(EventType::Invoke, t));
        if down(t) {
            let mut done = mk(EventType::Info, t + MS);
            done.error = Some("timeout".into());
            h.push(done);
        } else {
            h.push(mk(EventType::Ok, t + MS));
        }
    }
    h
}

/// A record whose trace holds `signals`: (time, kind, message).
fn record(history: History, signals: &[(u64, TraceKind, &str)]) -> RunRecord {
    let mut log = RunLog::new(1_000_000, 1_000_000);
    for &(time_ns, kind, message) in signals {
        log.push_trace(TraceEvent {
            time_ns,
            kind,
            source: "n2".into(),
            level: None,
            target: Some("kv".into()),
            message: message.into(),
            fields: Vec::new(),
        });
    }
    let mut record = log.finish(RunEnd::Completed, Duration::from_secs(10), 10_000);
    record.history = history;
    record
}

fn spec() -> AvailabilitySpec {
    AvailabilitySpec {
        recovery_window: Duration::from_millis(500),
        ..Default::default()
    }
}

fn measured(plan: &Plan, record: &RunRecord, signals: &[DetectionSignal]) -> RecoveryReport {
    let ops = record.history.operations().unwrap();
    measure(&ops, plan, record, &spec(), signals)
}

#[test]
fn detect_impact_and_recover_are_measured_from_the_known_windows() {
    let plan = plan(&[(2, 3)]);
    // Down from 2.2 s (the first timeout ends at 2.201 s) to 6.0 s.
    let h = history(|t| (2_200 * MS..6 * S).contains(&t));
    let r = record(
        h,
        &[
            (S, TraceKind::Role, "candidate"), // before the fault: not it
            (2_700 * MS, TraceKind::Log, "election started"),
            (2_900 * MS, TraceKind::Role, "candidate"),
        ],
    );
    let signals = [DetectionSignal::role("candidate")];
    let report = measured(&plan, &r, &signals);
    assert_eq!(report.faults.len(), 1);
    let f = &report.faults[0];
    assert_eq!(
        (f.kind.as_str(), f.start_ns, f.end_ns),
        ("crash", 2 * S, Some(5 * S))
    );
    let d = f.detected.as_ref().unwrap();
    assert_eq!((d.at_ns, d.time_to_detect_ns), (2_900 * MS, 900 * MS));
    assert_eq!(
        (d.signal.as_str(), d.host.as_deref()),
        ("role:candidate", Some("n2"))
    );
    let i = f.impact.as_ref().unwrap();
    assert_eq!((i.at_ns, i.time_to_impact_ns), (2_201 * MS, 201 * MS));
    assert_eq!(i.error.as_deref(), Some("timeout"));
    // Windows of 500 ms from 2.201 s: the one at 6.201 s is the first
    // whose operations all succeed.
    let back = f.recovered.as_ref().unwrap();
    assert_eq!(back.at_ns, 6_201 * MS);
    assert_eq!(back.time_to_recover_ns, 4_201 * MS);
    assert_eq!(back.after_heal_ns, Some(1_201 * MS));
    // 2.0 s .. 5.0 s: 30 operations, the first two before the outage.
    assert_eq!((f.ops_during, f.ok_during), (30, 2));
    assert_eq!((report.ops, report.ok), (100, 62));
    assert_eq!((report.ops_during_faults, report.ok_during_faults), (30, 2));
}

#[test]
fn an_event_signal_matches_its_label_and_no_signal_means_not_detected() {
    let plan = plan(&[(2, 3)]);
    let h = history(|t| (2 * S..5 * S).contains(&t));
    let r = record(h, &[(3 * S, TraceKind::Log, "stepped down: no quorum")]);
    let by_event = measured(&plan, &r, &[DetectionSignal::event("kv: stepped down")]);
    assert_eq!(
        by_event.faults[0]
            .detected
            .as_ref()
            .unwrap()
            .time_to_detect_ns,
        S
    );
    let none = measured(&plan, &r, &[]);
    assert_eq!(none.faults[0].detected, None);
    // Back in the first window laid from the heal's side: 5.001 s.
    let back = none.faults[0].recovered.as_ref().unwrap();
    assert_eq!(back.after_heal_ns, Some(MS));
}

#[test]
fn a_fault_without_impact_recovers_at_its_start_and_one_never_back_is_not_recovered() {
    let plan = plan(&[(2, 1), (6, 1)]);
    // The first fault hurts nothing; after the second the system stays
    // down to the end.
    let h = history(|t| t >= 6 * S);
    let r = record(h, &[]);
    let report = measured(&plan, &r, &[]);
    let (first, second) = (&report.faults[0], &report.faults[1]);
    assert_eq!(first.impact, None);
    assert_eq!(first.recovered.as_ref().unwrap().time_to_recover_ns, 0);
    assert_eq!(second.impact.as_ref().unwrap().time_to_impact_ns, MS);
    assert_eq!(second.recovered, None);
}

#[test]
fn the_bounds_fail_slow_or_missing_detection_and_recovery() {
    let plan = plan(&[(2, 3)]);
    let h = history(|t| (2_200 * MS..6 * S).contains(&t));
    let r = record(h, &[(2_900 * MS, TraceKind::Role, "candidate")]);
    let report = measured(&plan, &r, &[DetectionSignal::role("candidate")]);
    let (end, run_end) = (10 * S, 10 * S);
    let bounded = |detect: &str, recover: &str| AvailabilitySpec {
        max_time_to_detect: Some(FaultBound::Every(
            crate::duration::parse_duration(detect).unwrap(),
        )),
        max_time_to_recover: Some(FaultBound::Every(
            crate::duration::parse_duration(recover).unwrap(),
        )),
        ..spec()
    };
    let loose = judge(&report, &bounded("1s", "5s"), end, run_end);
    assert_eq!(loose, Judged::default());
    let strict = judge(&report, &bounded("500ms", "4s"), end, run_end);
    assert_eq!(strict.failures.len(), 2, "{:?}", strict.failures);
    assert!(strict.failures[0].contains("detected after 900ms > max_time_to_detect 500ms"));
    assert!(strict.failures[1].contains("recovered after 4.201s > max_time_to_recover 4.000s"));
    assert_eq!(strict.failed_faults, vec![0]);
    // A bound for another kind leaves the crash alone.
    let other = AvailabilitySpec {
        max_time_to_recover: Some(FaultBound::PerKind(
            [("partition".to_string(), Duration::from_millis(1))].into(),
        )),
        ..spec()
    };
    assert_eq!(judge(&report, &other, end, run_end), Judged::default());
    // Not detected at all: a failure if the run went on long enough, else
    // nobody can tell.
    let undetected = measured(&plan, &r, &[]);
    let never = judge(&undetected, &bounded("1s", "5s"), end, run_end);
    assert!(never.failures[0].contains("never detected"), "{:?}", never);
    let cut_short = judge(&undetected, &bounded("1s", "5s"), end, 2_500 * MS);
    assert!(cut_short.failures.is_empty());
    assert_eq!(cut_short.unknowns.len(), 1);
}

#[test]
fn a_later_fault_is_not_blamed_on_an_earlier_one_but_overlapping_ones_share() {
    // 2-3 s and 6-7 s in series, 6-7 s and 6.5 s.. overlapping (a bounce
    // at 6 s is instantaneous, so use two crashes).
    let serial = plan(&[(2, 1), (6, 1)]);
    let h = history(|t| (6 * S..6_500 * MS).contains(&t));
    let r = record(h, &[(6_100 * MS, TraceKind::Role, "candidate")]);
    let report = measured(&serial, &r, &[DetectionSignal::role("candidate")]);
    assert_eq!(report.faults[0].evidence_until_ns, Some(6 * S));
    assert_eq!(
        (
            report.faults[0].detected.as_ref(),
            report.faults[0].impact.as_ref()
        ),
        (None, None)
    );
    assert_eq!(
        report.faults[1]
            .detected
            .as_ref()
            .unwrap()
            .time_to_detect_ns,
        100 * MS
    );
    assert_eq!(report.faults[1].evidence_until_ns, None);
    let overlapping = plan(&[(5, 3), (6, 1)]);
    let both = measured(&overlapping, &r, &[DetectionSignal::role("candidate")]);
    assert_eq!(
        both.faults[0].detected.as_ref().unwrap().time_to_detect_ns,
        1_100 * MS
    );
    assert_eq!(
        both.faults[1].detected.as_ref().unwrap().time_to_detect_ns,
        100 * MS
    );
}
