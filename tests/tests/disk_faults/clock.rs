//! Clock faults move only their host's wall clock, never simulated time;
//! and random disk and clock faults keep a seed's trace the same.

use super::helpers::*;
use harness::duration::SignedDuration;
use harness::history::Outcome;
use harness::record::RunRecord;
use harness::scenario::{FaultEventSpec, RandomFaultKind, RandomFaultsSpec, ScenarioBuilder};
use std::time::Duration;

/// (simulated time of the event, wall clock − true time) per clock event.
fn clock_offsets(record: &RunRecord, host: &str) -> Vec<(Duration, i64, i64)> {
    let epoch_ms = harness::seed::fixed_epoch()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    events(record, host, "clock")
        .into_iter()
        .map(|(t, fields)| {
            let wall_ms = field(&fields, "wall_ms");
            (
                t,
                wall_ms - epoch_ms - t.as_millis() as i64,
                field(&fields, "sim_ms"),
            )
        })
        .collect()
}

#[test]
fn clock_faults_move_only_their_hosts_wall_clock_and_never_simulated_time() {
    let r = run(log("clocks")
        .fault(FaultEventSpec::ClockJump {
            at: S(2),
            duration: Some(S(2)),
            host: "n1".into(),
            offset: SignedDuration::from_secs(-5),
        })
        .fault(FaultEventSpec::ClockDrift {
            at: S(5),
            duration: Some(S(4)),
            host: "n2".into(),
            rate: 0.5,
        }));
    let n1 = clock_offsets(&r.record, "n1");
    let n2 = clock_offsets(&r.record, "n2");
    assert!(n1.len() > 30 && n2.len() > 30);
    for &(t, offset, _) in &n1 {
        let expected = if (S(2)..S(4)).contains(&t) { -5000 } else { 0 };
        assert_eq!(offset, expected, "n1 at {t:?}");
    }
    for &(t, offset, _) in &n2 {
        let expected = if (S(5)..S(9)).contains(&t) {
            (t - S(5)).as_millis() as i64 / 2
        } else {
            0
        };
        assert!(
            (offset - expected).abs() <= 1,
            "n2 at {t:?}: {offset} vs {expected}"
        );
    }
    // n1's wall clock went backwards at 2 s; its simulated clock did not.
    let walls: Vec<i64> = events(&r.record, "n1", "clock")
        .iter()
        .map(|(_, f)| field(f, "wall_ms"))
        .collect();
    assert!(walls.windows(2).any(|w| w[1] < w[0]));
    for host in [&n1, &n2] {
        assert!(host.windows(2).all(|w| w[0].2 < w[1].2 && w[0].0 < w[1].0));
    }
}

fn random_disk_scenario() -> ScenarioBuilder {
    let mut random = RandomFaultsSpec::with_kinds(vec![
        RandomFaultKind::DiskError,
        RandomFaultKind::DiskFull,
        RandomFaultKind::DiskCorrupt,
        RandomFaultKind::DiskSlow,
        RandomFaultKind::ClockJump,
        RandomFaultKind::ClockDrift,
        RandomFaultKind::Crash,
    ]);
    random.swarm = false;
    random.interval = harness::duration::DurationRange::new(MS(300), MS(800));
    log("disk-swarm")
        .duration(S(20))
        .clients(2)
        .keys(2)
        .random_faults(random)
}

#[test]
fn the_same_seed_gives_the_same_trace_with_disk_faults() {
    let a = run_seed(random_disk_scenario(), 5);
    let b = run_seed(random_disk_scenario(), 5);
    assert_eq!(a.record.trace_hash, b.record.trace_hash);
    assert_eq!(
        serde_json::to_string(&a.report).unwrap(),
        serde_json::to_string(&b.report).unwrap()
    );
    let c = run_seed(random_disk_scenario(), 6);
    assert_ne!(a.record.trace_hash, c.record.trace_hash);
    // The faults really were exercised.
    let injected: std::collections::BTreeSet<&str> = a
        .record
        .trace
        .iter()
        .filter(|e| e.target.as_deref() == Some("disk"))
        .map(|e| e.message.as_str())
        .collect();
    assert!(injected.len() >= 2, "{injected:?}");
    assert!(!ops(&a).iter().all(|o| o.outcome == Outcome::Ok));
}
