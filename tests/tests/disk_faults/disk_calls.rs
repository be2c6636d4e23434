//! Faults on disk calls, each seen by the durable log: `disk-error`
//! (EIO), `disk-full` (ENOSPC), `disk-corrupt` (a flipped bit the checksum
//! catches) and `disk-slow` (latency).

use super::helpers::*;
use harness::history::{OpKind, Operation, Outcome};
use harness::scenario::{DiskOp, FaultEventSpec};
use harness::suite::SeedRun;
use std::time::Duration;

// --- disk-error

#[test]
fn io_errors_fail_requests_during_the_window_only() {
    let r = run(log("eio").fault(FaultEventSpec::DiskError {
        at: S(3),
        duration: Some(S(3)),
        host: "n1".into(),
        ops: DiskOp::all(),
        probability: 1.0,
    }));
    let ops = ops(&r);
    assert!(all_ok(&in_window(&ops, S(0), MS(2900))));
    let during = in_window(&ops, MS(3010), MS(5900));
    assert!(
        during
            .iter()
            .all(|o| o.outcome == Outcome::Fail && o.error.as_deref() == Some("eio")),
        "{during:#?}"
    );
    assert!(all_ok(&in_window(&ops, MS(6010), S(10))));
    assert!(r.record.trace.iter().any(|e| e.message == "injected EIO"));
}

#[test]
fn io_errors_hit_only_the_chosen_calls_with_their_probability() {
    // Only fsync fails: reads keep working, appends become unknown.
    let r = run(log("eio-sync").fault(FaultEventSpec::DiskError {
        at: S(3),
        duration: Some(S(3)),
        host: "n1".into(),
        ops: vec![DiskOp::Sync],
        probability: 1.0,
    }));
    let during = in_window(&ops(&r), MS(3010), MS(5900));
    for op in &during {
        match op.f {
            OpKind::Read => assert_eq!(op.outcome, Outcome::Ok),
            _ => assert_eq!(op.outcome, Outcome::Info, "{op:?}"),
        }
    }
    // Half of the calls fail: some requests in the window succeed, some do not.
    let r = run(log("eio-half").fault(FaultEventSpec::DiskError {
        at: S(2),
        duration: Some(S(6)),
        host: "n1".into(),
        ops: DiskOp::all(),
        probability: 0.5,
    }));
    let during = in_window(&ops(&r), MS(2010), MS(7900));
    let ok = during.iter().filter(|o| o.outcome == Outcome::Ok).count();
    assert!(ok > 0 && ok < during.len(), "{ok} of {}", during.len());
}

// --- disk-full

#[test]
fn a_full_disk_rejects_appends_beyond_its_capacity_and_keeps_serving_reads() {
    const RECORD: usize = 700;
    const FIT: usize = 25;
    let r =
        run(log("enospc")
            .setting("record_bytes", RECORD as i64)
            .fault(FaultEventSpec::DiskFull {
                at: S(1),
                duration: Some(S(5)),
                host: "n1".into(),
                capacity_bytes: (FIT * RECORD) as u64,
            }));
    let ops = ops(&r);
    let appends_before_end: Vec<_> = ops
        .iter()
        .filter(|o| o.f == OpKind::Append && invoked(o, S(0), MS(5900)))
        .collect();
    let acked = appends_before_end
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .count();
    assert_eq!(acked, FIT, "exactly capacity / record size fit");
    let first_full = appends_before_end
        .iter()
        .find(|o| o.error.as_deref() == Some("enospc"))
        .expect("appends beyond the capacity fail")
        .invoke_ns;
    assert!(
        first_full > S(1).as_nanos() as u64,
        "not full before the fault"
    );
    let reads: Vec<_> = in_window(&ops, Duration::from_nanos(first_full), MS(5900))
        .into_iter()
        .filter(|o| o.f == OpKind::Read)
        .collect();
    assert!(!reads.is_empty());
    for read in reads {
        assert_eq!(read.outcome, Outcome::Ok);
        assert_eq!(values_read(&read).len(), FIT);
    }
    assert!(
        all_ok(&in_window(&ops, MS(6010), S(10))),
        "space again after the fault"
    );
}

// --- disk-corrupt

#[test]
fn corrupted_reads_are_caught_by_the_checksum_and_served_without_it() {
    let corrupt = |verify: bool| {
        run(log(if verify {
            "corrupt"
        } else {
            "corrupt-unchecked"
        })
        .rate(40.0)
        .setting("verify", verify)
        .fault(FaultEventSpec::DiskCorrupt {
            at: S(3),
            duration: Some(S(3)),
            host: "n1".into(),
            probability: 1.0,
        }))
    };
    // One client: the log holds the appends in the order they were made,
    // so a clean read is a prefix of them.
    let bad_reads = |r: &SeedRun| -> (usize, usize) {
        let ops = ops(r);
        let appends: Vec<i64> = ops
            .iter()
            .filter(|o| o.f == OpKind::Append && o.outcome != Outcome::Fail)
            .map(appended)
            .collect();
        let reads: Vec<&Operation> = ops
            .iter()
            .filter(|o| o.f == OpKind::Read && invoked(o, MS(3010), MS(5900)))
            .collect();
        let wrong = reads
            .iter()
            .filter(|o| o.outcome == Outcome::Ok)
            .filter(|o| {
                let read = values_read(o);
                read.len() > appends.len() || read != appends[..read.len()]
            })
            .count();
        let refused = reads
            .iter()
            .filter(|o| o.error.as_deref() == Some("corrupt"))
            .count();
        assert!(!reads.is_empty());
        (wrong, refused)
    };
    let checked = corrupt(true);
    let (wrong, refused) = bad_reads(&checked);
    assert_eq!(wrong, 0, "the checksum catches every flipped bit");
    assert!(refused > 0);
    assert!(all_ok(&in_window(&ops(&checked), MS(6010), S(10))));
    let unchecked = corrupt(false);
    let (wrong, refused) = bad_reads(&unchecked);
    assert!(wrong > 0, "without the checksum corrupt data is served");
    assert_eq!(refused, 0);
    assert!(unchecked
        .record
        .trace
        .iter()
        .any(|e| e.message == "corrupted a read"));
}

// --- disk-slow

#[test]
fn slow_io_raises_latency_in_its_window() {
    let slow = run(log("slow").fault(FaultEventSpec::DiskSlow {
        at: S(3),
        duration: Some(S(3)),
        host: "n1".into(),
        latency: MS(50),
    }));
    let baseline = run(log("not-slow"));
    assert!(p99(&ops(&baseline)) < MS(10), "{:?}", p99(&ops(&baseline)));
    assert!(p99(&ops(&slow)) >= MS(100), "append + fsync, 50ms each");
    for op in in_window(&ops(&slow), MS(3010), MS(5800)) {
        assert!(latency(&op) >= MS(50), "{op:?}");
    }
    for op in in_window(&ops(&slow), MS(6200), S(10)) {
        assert!(latency(&op) < MS(10), "{op:?}");
    }
}
