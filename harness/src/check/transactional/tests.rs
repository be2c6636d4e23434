//! Hand-made histories, one per anomaly class and a valid one per data
//! model, each checked against the models it must and must not pass.

use super::synth::{self, SynthOptions};
use super::*;
use crate::check::Status;
use crate::history::jepsen::parse_edn;
use crate::history::{EventType, MopKind, Value};
use Consistency::*;

/// A history from lines `PROCESS TYPE MICRO-OPS`. `TYPE` is an event type,
/// or `ok*`, `fail*`, `info*` for an invocation immediately followed by
/// that completion (the invocation's reads are `nil`).
fn history(lines: &str) -> History {
    let mut edn = String::new();
    for line in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let (process, kind, value) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let event = |kind: &str| {
            format!("{{:process {process}, :type :{kind}, :f :txn, :value {value}}}\n")
        };
        match kind.strip_suffix('*') {
            Some(done) => {
                edn.push_str(&event("invoke"));
                edn.push_str(&event(done));
            }
            None => edn.push_str(&event(kind)),
        }
    }
    let mut h = parse_edn(&edn).unwrap_or_else(|e| panic!("{e}\n{edn}"));
    // Invocations do not know what their reads will see.
    for e in h.events.iter_mut().filter(|e| e.kind == EventType::Invoke) {
        if let Value::Txn(mops) = &mut e.op.value {
            for m in mops.iter_mut().filter(|m| m.f == MopKind::Read) {
                m.value = Value::Nil;
            }
        }
    }
    h
}

fn check_as(lines: &str, model: TxnModel, level: Consistency) -> Verdict {
    check(&history(lines), &Options::new(model, level))
}

fn la(lines: &str, level: Consistency) -> Verdict {
    check_as(lines, TxnModel::ListAppend, level)
}

fn rw(lines: &str, level: Consistency) -> Verdict {
    check_as(lines, TxnModel::RwRegister, level)
}

/// The anomaly types a verdict reports (allowed ones included).
fn kinds(v: &Verdict) -> Vec<String> {
    v.details["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap().to_string())
        .collect()
}

/// Checks `lines` against every model: those in `fails` must fail, the
/// others pass; and `kind` must be among the anomalies reported.
fn expect(check: impl Fn(Consistency) -> Verdict, kind: &str, fails: &[Consistency]) {
    for level in Consistency::ALL {
        let v = check(level);
        let want = if fails.contains(&level) {
            Status::Fail
        } else {
            Status::Pass
        };
        assert_eq!(v.status, want, "{level}: {}\n{:#?}", v.summary, v.details);
        assert!(
            kinds(&v).iter().any(|k| k == kind),
            "{level}: wanted {kind}, got {:?}",
            kinds(&v)
        );
        if want == Status::Fail {
            assert!(
                !v.evidence.is_empty(),
                "{level}: a failure without evidence"
            );
            assert!(v.expected.is_some());
        }
    }
}

const ALL_MODELS: &[Consistency] = &Consistency::ALL;
const RR_AND_UP: &[Consistency] = &[
    StrictSerializable,
    Serializable,
    SnapshotIsolation,
    RepeatableRead,
];
const SER_AND_UP: &[Consistency] = &[StrictSerializable, Serializable, RepeatableRead];
const SI_AND_UP: &[Consistency] = &[StrictSerializable, Serializable, SnapshotIsolation];

#[test]
fn a_serial_list_append_history_is_strict_serializable() {
    let v = la(
        "1 ok* [[:append :x 1]]
         2 ok* [[:r :x [1]] [:append :y 1]]
         1 ok* [[:r :y [1]] [:r :x [1]] [:append :x 2]]
         2 ok* [[:r :x [1 2]]]",
        StrictSerializable,
    );
    assert_eq!(v.status, Status::Pass, "{}", v.summary);
    assert!(kinds(&v).is_empty());
    assert_eq!(v.details["transactions"], 4);
}

#[test]
fn g0_write_cycle() {
    // x's order puts T1 first, y's puts T2 first.
    let h = "1 invoke [[:append :x 1] [:append :y 1]]
             2 invoke [[:append :x 2] [:append :y 2]]
             1 ok [[:append :x 1] [:append :y 1]]
             2 ok [[:append :x 2] [:append :y 2]]
             3 ok* [[:r :x [1 2]] [:r :y [2 1]]]";
    expect(|l| la(h, l), "G0", ALL_MODELS);
}

#[test]
fn g0_in_registers_through_writes_that_follow_reads() {
    // T1 read x = 2 (T2's) before writing x = 1; T2 read y = 10 (T1's)
    // before writing y = 20: each wrote after the other on some key.
    let h = "1 invoke [[:w :y 10] [:r :x nil] [:w :x 1]]
             2 invoke [[:w :x 2] [:r :y nil] [:w :y 20]]
             1 ok [[:w :y 10] [:r :x 2] [:w :x 1]]
             2 ok [[:w :x 2] [:r :y 10] [:w :y 20]]";
    expect(|l| rw(h, l), "G0", ALL_MODELS);
}

#[test]
fn g1a_aborted_read() {
    let h = "1 fail* [[:append :x 1]]
             2 ok* [[:r :x [1]]]";
    expect(|l| la(h, l), "G1a", ALL_MODELS);
    let h = "1 fail* [[:w :x 1]]
             2 ok* [[:r :x 1]]";
    expect(|l| rw(h, l), "G1a", ALL_MODELS);
}

#[test]
fn g1b_intermediate_read() {
    let h = "1 invoke [[:append :x 1] [:append :x 2]]
             2 ok* [[:r :x [1]]]
             1 ok [[:append :x 1] [:append :x 2]]";
    expect(|l| la(h, l), "G1b", ALL_MODELS);
    let h = "1 invoke [[:w :x 1] [:w :x 2]]
             2 ok* [[:r :x 1]]
             1 ok [[:w :x 1] [:w :x 2]]";
    expect(|l| rw(h, l), "G1b", ALL_MODELS);
}

#[test]
fn g1c_circular_information_flow() {
    let h = "1 invoke [[:append :x 1] [:r :y nil]]
             2 invoke [[:append :y 1] [:r :x nil]]
             1 ok [[:append :x 1] [:r :y [1]]]
             2 ok [[:append :y 1] [:r :x [1]]]";
    expect(|l| la(h, l), "G1c", ALL_MODELS);
    let h = "1 invoke [[:w :x 1] [:r :y nil]]
             2 invoke [[:w :y 1] [:r :x nil]]
             1 ok [[:w :x 1] [:r :y 1]]
             2 ok [[:w :y 1] [:r :x 1]]";
    expect(|l| rw(h, l), "G1c", ALL_MODELS);
}

#[test]
fn g_single_read_skew() {
    // T2 sees T1's y but not its x.
    let h = "1 invoke [[:append :x 1] [:append :y 1]]
             2 invoke [[:r :x nil] [:r :y nil]]
             1 ok [[:append :x 1] [:append :y 1]]
             2 ok [[:r :x nil] [:r :y [1]]]";
    expect(|l| la(h, l), "G-single", RR_AND_UP);
    let h = "1 invoke [[:w :x 1] [:w :y 1]]
             2 invoke [[:r :x nil] [:r :y nil]]
             1 ok [[:w :x 1] [:w :y 1]]
             2 ok [[:r :x nil] [:r :y 1]]";
    expect(|l| rw(h, l), "G-single", RR_AND_UP);
}

#[test]
fn g2_item_write_skew_is_allowed_by_snapshot_isolation() {
    let h = "1 invoke [[:r :x nil] [:r :y nil] [:append :x 1]]
             2 invoke [[:r :x nil] [:r :y nil] [:append :y 1]]
             1 ok [[:r :x nil] [:r :y nil] [:append :x 1]]
             2 ok [[:r :x nil] [:r :y nil] [:append :y 1]]";
    expect(|l| la(h, l), "G2-item", SER_AND_UP);
    let h = "1 invoke [[:r :x nil] [:r :y nil] [:w :x 1]]
             2 invoke [[:r :x nil] [:r :y nil] [:w :y 2]]
             1 ok [[:r :x nil] [:r :y nil] [:w :x 1]]
             2 ok [[:r :x nil] [:r :y nil] [:w :y 2]]";
    expect(|l| rw(h, l), "G2-item", SER_AND_UP);
}

#[test]
fn g_nonadjacent_rw_edges_apart() {
    // T1 -rw(a)-> T2 -wr(b)-> T3 -rw(c)-> T4 -wr(d)-> T1.
    let h = "1 invoke [[:r :a nil] [:r :d nil]]
             2 invoke [[:append :a 1] [:append :b 1]]
             3 invoke [[:r :b nil] [:r :c nil]]
             4 invoke [[:append :c 1] [:append :d 1]]
             2 ok [[:append :a 1] [:append :b 1]]
             4 ok [[:append :c 1] [:append :d 1]]
             1 ok [[:r :a nil] [:r :d [1]]]
             3 ok [[:r :b [1]] [:r :c nil]]";
    expect(|l| la(h, l), "G-nonadjacent", RR_AND_UP);
    let v = la(h, Serializable);
    assert_eq!(kinds(&v), vec!["G-nonadjacent"]);
}

#[test]
fn lost_update() {
    // Both read x = [0] and append to it; nobody reads the result, so the
    // version order alone cannot tell the order of 1 and 2.
    let h = "0 ok* [[:append :x 0]]
             1 invoke [[:r :x nil] [:append :x 1]]
             2 invoke [[:r :x nil] [:append :x 2]]
             1 ok [[:r :x [0]] [:append :x 1]]
             2 ok [[:r :x [0]] [:append :x 2]]";
    expect(|l| la(h, l), "lost-update", RR_AND_UP);
    let h = "1 invoke [[:r :x nil] [:w :x 1]]
             2 invoke [[:r :x nil] [:w :x 2]]
             1 ok [[:r :x nil] [:w :x 1]]
             2 ok [[:r :x nil] [:w :x 2]]";
    expect(|l| rw(h, l), "lost-update", RR_AND_UP);
}

#[test]
fn internal_inconsistency() {
    let h = "1 ok* [[:append :x 1] [:r :x nil]]";
    expect(|l| la(h, l), "internal", SI_AND_UP);
    let h = "2 ok* [[:w :x 2]]
             1 ok* [[:w :x 1] [:r :x 2]]";
    expect(|l| rw(h, l), "internal", SI_AND_UP);
    // Reading one's own appends after an unknown prefix is fine.
    let v = la("1 ok* [[:append :x 1] [:r :x [1]]]", StrictSerializable);
    assert_eq!(v.status, Status::Pass, "{}", v.summary);
}

#[test]
fn incompatible_orders_and_duplicates() {
    let h = "1 ok* [[:append :x 1]]
             2 ok* [[:append :x 2]]
             3 ok* [[:r :x [1 2]]]
             4 ok* [[:r :x [2 1]]]";
    expect(|l| la(h, l), "incompatible-order", ALL_MODELS);
    let h = "1 ok* [[:append :x 1]]
             2 ok* [[:r :x [1 1]]]";
    expect(|l| la(h, l), "duplicate-elements", ALL_MODELS);
}

#[test]
fn garbage_read() {
    expect(|l| la("1 ok* [[:r :x [9]]]", l), "garbage-read", ALL_MODELS);
    expect(|l| rw("1 ok* [[:r :x 9]]", l), "garbage-read", ALL_MODELS);
}

#[test]
fn a_stale_read_after_completion_is_a_real_time_cycle() {
    // T2 starts after T1 completed, yet misses its append. Real-time
    // edges exist only for strict serializability.
    for (model, h) in [
        (
            TxnModel::ListAppend,
            "1 ok* [[:append :x 1]]\n2 ok* [[:r :x nil]]",
        ),
        (
            TxnModel::RwRegister,
            "1 ok* [[:w :x 1]]\n2 ok* [[:r :x nil]]",
        ),
    ] {
        let v = check_as(h, model, StrictSerializable);
        assert_eq!(v.status, Status::Fail, "{}", v.summary);
        assert_eq!(kinds(&v), vec!["G-single-realtime"]);
        assert_eq!(v.details["not"], serde_json::json!(["strict-serializable"]));
        for level in [
            Serializable,
            SnapshotIsolation,
            RepeatableRead,
            ReadCommitted,
        ] {
            let v = check_as(h, model, level);
            assert_eq!(v.status, Status::Pass, "{level}: {}", v.summary);
        }
    }
}

#[test]
fn a_serial_rw_register_history_is_strict_serializable() {
    let v = rw(
        "1 ok* [[:w :x 1]]
         2 ok* [[:r :x 1] [:w :x 2] [:w :y 1]]
         1 ok* [[:r :x 2] [:r :y 1]]",
        StrictSerializable,
    );
    assert_eq!(v.status, Status::Pass, "{}", v.summary);
    assert!(kinds(&v).is_empty(), "{:?}", kinds(&v));
}

#[test]
fn info_transactions_may_have_committed() {
    // The read shows the info append took effect; a second one that
    // nobody saw constrains nothing.
    let h = "1 info* [[:append :x 1] [:r :y nil]]
             2 ok* [[:r :x [1]]]
             3 info* [[:append :x 2]]";
    let v = la(h, StrictSerializable);
    assert_eq!(v.status, Status::Pass, "{}", v.summary);
}

#[test]
fn what_cannot_be_checked_is_unknown() {
    let dup = rw("1 ok* [[:w :x 1]]\n2 ok* [[:w :x 1]]", Serializable);
    assert_eq!(dup.status, Status::Unknown);
    assert!(
        dup.summary.contains("both write 1 to key \":x\""),
        "{}",
        dup.summary
    );
    let wrong = la("1 ok* [[:w :x 1]]", Serializable);
    assert_eq!(wrong.status, Status::Unknown);
    assert!(wrong.summary.contains("rw-register's"), "{}", wrong.summary);
    let empty = check(
        &History::new(),
        &Options::new(TxnModel::ListAppend, Serializable),
    );
    assert_eq!(empty.status, Status::Unknown);
    let mut small = Options::new(TxnModel::ListAppend, Serializable);
    small.budget.max_txns = 1;
    let v = check(
        &history("1 ok* [[:append :x 1]]\n2 ok* [[:r :x [1]]]"),
        &small,
    );
    assert_eq!(v.status, Status::Unknown);
    assert!(v.summary.contains("max_txns"), "{}", v.summary);
}

#[test]
fn a_search_out_of_steps_still_fails_and_names_the_cycle() {
    let h = "1 invoke [[:append :x 1] [:append :y 1]]
             2 invoke [[:r :x nil] [:r :y nil]]
             1 ok [[:append :x 1] [:append :y 1]]
             2 ok [[:r :x nil] [:r :y [1]]]";
    let mut options = Options::new(TxnModel::ListAppend, Serializable);
    options.budget.max_search_steps = 0;
    let v = check(&history(h), &options);
    assert_eq!(v.status, Status::Fail, "{}", v.summary);
    assert_eq!(kinds(&v), vec!["serializable-cycle-exists"]);
    assert!(v.summary.contains("max_search_steps"), "{}", v.summary);
}

#[test]
fn cycle_steps_are_explained() {
    let h = "1 invoke [[:append :x 1] [:append :y 1]]
             2 invoke [[:r :x nil] [:r :y nil]]
             1 ok [[:append :x 1] [:append :y 1]]
             2 ok [[:r :x nil] [:r :y [1]]]";
    let v = la(h, Serializable);
    let steps = &v.details["anomalies"][0]["examples"][0]["explanation"];
    let steps: Vec<&str> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        vec![
            "T0 (process 1) -wr-> T1 (process 2): T1 (process 2) read key \":y\" as [1], which shows T0 (process 1)'s append of 1",
            "T1 (process 2) -rw-> T0 (process 1): T1 (process 2) read key \":x\" as [], before T0 (process 1)'s append of 1",
        ]
    );
    assert!(
        v.summary.ends_with("): G-single (T0 -> T1 -> T0)"),
        "{}",
        v.summary
    );
}

#[test]
fn synthetic_strict_serializable_histories_pass_and_stale_reads_fail() {
    for model in TxnModel::ALL {
        let mut options = match model {
            TxnModel::ListAppend => SynthOptions::list_append(3_000, 7),
            TxnModel::RwRegister => SynthOptions::rw_register(3_000, 7),
        };
        let h = synth::history(&options);
        let v = check(&h, &Options::new(model, StrictSerializable));
        assert_eq!(v.status, Status::Pass, "{model}: {}", v.summary);
        options.stale_read_ratio = 0.05;
        let h = synth::history(&options);
        let v = check(&h, &Options::new(model, StrictSerializable));
        assert_eq!(v.status, Status::Fail, "{model}: {}", v.summary);
    }
}

#[test]
fn verdicts_are_deterministic() {
    let mut options = SynthOptions::list_append(2_000, 3);
    options.stale_read_ratio = 0.02;
    let h = synth::history(&options);
    let check_options = Options::new(TxnModel::ListAppend, StrictSerializable);
    let a = serde_json::to_string(&check(&h, &check_options)).unwrap();
    let b = serde_json::to_string(&check(&h, &check_options)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_long_cycle_is_found_and_its_report_stays_short() {
    // Elle's ring: T0 .. T99 append 0 .. 99 to :ring in order (a ww
    // chain), T0 also appends to :anti, and T99 misses it: one G-single
    // cycle through all hundred.
    let n = 100;
    let mut lines = String::new();
    let txn = |i: usize| match i {
        0 => "[[:append :ring 0] [:append :anti 1]]".to_string(),
        i if i == n - 1 => format!("[[:append :ring {i}] [:r :anti nil]]"),
        i => format!("[[:append :ring {i}]]"),
    };
    for i in 0..n {
        lines.push_str(&format!("{i} invoke {}\n", txn(i)));
    }
    for i in 0..n {
        lines.push_str(&format!("{i} ok {}\n", txn(i)));
    }
    let all: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    lines.push_str(&format!("{n} ok* [[:r :ring [{}]]]\n", all.join(" ")));
    let v = la(&lines, Serializable);
    assert_eq!(v.status, Status::Fail, "{}", v.summary);
    assert_eq!(kinds(&v), vec!["G-single"]);
    assert!(v.summary.contains("… (100 transactions)"), "{}", v.summary);
    let example = &v.details["anomalies"][0]["examples"][0];
    assert_eq!(example["transactions_in_all"], 100);
    assert_eq!(example["explanation"].as_array().unwrap().len(), 33);
    assert!(v.evidence.len() <= 40);
}

/// For measuring with callgrind: `TXNS=100000 cargo test --release -p
/// chaos-harness --lib instructions_for_txns -- --ignored`, under
/// `valgrind --tool=callgrind --toggle-collect='harness::check::transactional::check'`.
#[test]
#[ignore]
fn instructions_for_txns() {
    let txns: usize = std::env::var("TXNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let h = synth::history(&SynthOptions::list_append(txns, 1));
    let v = check(&h, &Options::new(TxnModel::ListAppend, StrictSerializable));
    assert_eq!(v.status, Status::Pass, "{}", v.summary);
}
