//! Crash (power loss: unsynced data lost, multi-block writes torn) and
//! bounce (process restart: the disk kept), seen by the durable log's
//! recovery.

use super::helpers::*;
use harness::history::{OpKind, Outcome};
use harness::scenario::FaultEventSpec;
use harness::suite::SeedRun;

fn lost_acked_appends(r: &SeedRun) -> usize {
    let ops = ops(r);
    let final_read = ops
        .iter()
        .filter(|o| o.f == OpKind::Read && o.outcome == Outcome::Ok)
        .max_by_key(|o| o.invoke_ns)
        .expect("a final read");
    let kept = values_read(final_read);
    ops.iter()
        .filter(|o| o.f == OpKind::Append && o.outcome == Outcome::Ok)
        .filter(|o| !kept.contains(&appended(o)))
        .count()
}

fn crash_run(sync: bool, record_bytes: i64, seed: u64) -> SeedRun {
    run_seed(
        log("crash")
            .final_read(true)
            .setting("sync", sync)
            .setting("record_bytes", record_bytes)
            .fault(FaultEventSpec::Crash {
                at: S(4),
                duration: Some(S(1)),
                host: "n1".into(),
                spread: None,
            }),
        seed,
    )
}

#[test]
fn a_crash_keeps_synced_appends() {
    let r = crash_run(true, 700, 1);
    assert_eq!(lost_acked_appends(&r), 0);
    let recovered = events(&r.record, "n1", "recovered");
    assert_eq!(recovered.len(), 2, "at boot and after the restart");
    assert!(field(&recovered[1].1, "records") > 0);
}

#[test]
fn a_crash_loses_unsynced_appends_and_tears_multi_block_writes() {
    let mut torn = 0;
    for seed in 1..=4 {
        let r = crash_run(false, 700, seed);
        assert!(
            lost_acked_appends(&r) > 0,
            "seed {seed}: acked but never synced"
        );
        let (_, after) = &events(&r.record, "n1", "recovered")[1];
        // Whole records only add up to multiples of 700 bytes; a write cut
        // at a 512-byte block boundary does not.
        if field(after, "file_bytes") % 700 != 0 {
            torn += 1;
            assert!(field(after, "valid_bytes") < field(after, "file_bytes"));
        }
    }
    assert!(torn > 0, "some crash leaves a torn record");
}

#[test]
fn a_bounce_keeps_even_unsynced_appends() {
    let r =
        run(log("bounce")
            .final_read(true)
            .setting("sync", false)
            .fault(FaultEventSpec::Bounce {
                at: S(4),
                host: "n1".into(),
                spread: None,
            }));
    assert_eq!(lost_acked_appends(&r), 0);
    let (_, after) = &events(&r.record, "n1", "recovered")[1];
    assert!(field(after, "records") > 0);
    assert_eq!(field(after, "valid_bytes"), field(after, "file_bytes"));
}

/// Acknowledged appends of `key` missing from the last successful read of
/// that key.
fn lost_acked_appends_of(r: &SeedRun, key: &str) -> usize {
    let ops: Vec<_> = ops(r)
        .into_iter()
        .filter(|o| o.key.as_deref() == Some(key))
        .collect();
    let final_read = ops
        .iter()
        .filter(|o| o.f == OpKind::Read && o.outcome == Outcome::Ok)
        .max_by_key(|o| o.invoke_ns)
        .expect("a final read of the key");
    let kept = values_read(final_read);
    ops.iter()
        .filter(|o| o.f == OpKind::Append && o.outcome == Outcome::Ok)
        .filter(|o| !kept.contains(&appended(o)))
        .count()
}

#[test]
fn a_whole_cluster_power_loss_loses_unsynced_appends_on_every_server() {
    // Key k0 lives on n1, k1 on n2: both servers take acknowledged,
    // unsynced appends, and `crash servers` cuts the power of both within
    // 5 ms of each other.
    let r = run(log("crash-all")
        .keys(2)
        .final_read(true)
        .setting("sync", false)
        .fault(FaultEventSpec::Crash {
            at: S(4),
            duration: Some(S(1)),
            host: "servers".into(),
            spread: Some(MS(5)),
        }));
    let crashed: Vec<(String, u64)> = r
        .record
        .trace
        .iter()
        .filter(|e| e.message == "crashed")
        .map(|e| (e.source.clone(), e.time_ns))
        .collect();
    let hosts: Vec<&str> = crashed.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(hosts.len(), 2, "{crashed:?}");
    assert!(
        hosts.contains(&"n1") && hosts.contains(&"n2"),
        "{crashed:?}"
    );
    let first = crashed.iter().map(|(_, t)| *t).min().unwrap();
    let last = crashed.iter().map(|(_, t)| *t).max().unwrap();
    assert!(first >= S(4).as_nanos() as u64);
    assert!(last - first <= MS(5).as_nanos() as u64, "{crashed:?}");
    for (key, host) in [("k0", "n1"), ("k1", "n2")] {
        assert!(
            lost_acked_appends_of(&r, key) > 0,
            "{host} lost none of its unsynced appends"
        );
        assert_eq!(events(&r.record, host, "recovered").len(), 2, "{host}");
    }
}
