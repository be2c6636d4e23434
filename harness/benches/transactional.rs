//! How the transactional checker scales with history length, on synthetic
//! list-append histories shaped like Elle's workloads (10 clients, 10 active
//! keys of at most 32 appends each, 1–4 micro-operations per transaction,
//! 1% info and 1% fail; see `check::transactional::synth`). Histories are
//! generated before any timing; checking is measured against strict
//! serializability, the most work (real-time edges and every cycle search).
//!
//! Run with `cargo bench -p chaos-harness --bench transactional`. Besides
//! criterion's report, one plain line per size is printed at the end: the
//! median of repeated runs, the time per transaction, and the ratio to the
//! smallest size's time per transaction (1.0 = linear).

use criterion::{BenchmarkId, Criterion};
use harness::check::transactional::synth::{self, SynthOptions};
use harness::check::transactional::{check, check_history_text, Consistency, Options, TxnModel};
use harness::check::Status;
use harness::history::jepsen::write_edn;
use harness::history::History;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: [usize; 3] = [10_000, 50_000, 100_000];
/// The goal: 100,000 transactions checked in under this.
const TARGET_100K: Duration = Duration::from_secs(10);

struct Case {
    name: &'static str,
    txns: usize,
    history: History,
    want: Status,
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = SIZES
        .iter()
        .map(|&txns| Case {
            name: "valid",
            txns,
            history: synth::history(&SynthOptions::list_append(txns, 1)),
            want: Status::Pass,
        })
        .collect();
    // Stale reads: anomalies everywhere, so the example searches run too.
    let mut stale = SynthOptions::list_append(100_000, 1);
    stale.stale_read_ratio = 0.01;
    cases.push(Case {
        name: "stale-reads",
        txns: 100_000,
        history: synth::history(&stale),
        want: Status::Fail,
    });
    cases
}

fn options() -> Options {
    Options::new(TxnModel::ListAppend, Consistency::StrictSerializable)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let cases = cases();
    let options = options();
    for case in &cases {
        let verdict = check(&case.history, &options);
        assert_eq!(
            verdict.status, case.want,
            "{} {}: {}",
            case.name, case.txns, verdict.summary
        );
    }

    let mut criterion = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let mut group = criterion.benchmark_group("transactional/list-append");
    for case in &cases {
        group.bench_with_input(
            BenchmarkId::new(case.name, case.txns),
            &case.history,
            |b, h| b.iter(|| check(black_box(h), &options)),
        );
    }
    group.finish();
    criterion.final_summary();

    println!();
    let mut base_per_txn = None;
    for case in &cases {
        let times: Vec<Duration> = (0..5)
            .map(|_| {
                let started = Instant::now();
                black_box(check(&case.history, &options));
                started.elapsed()
            })
            .collect();
        let time = median(times);
        let per_txn = time.as_secs_f64() / case.txns as f64;
        let base = *base_per_txn.get_or_insert(per_txn);
        let target = if case.txns == 100_000 {
            format!(", target < {} s", TARGET_100K.as_secs())
        } else {
            String::new()
        };
        println!(
            "transactional list-append {} {} txns: {:.3} s median, {:.2} µs/txn, {:.2}x the 10k cost per txn{target}",
            case.name,
            case.txns,
            time.as_secs_f64(),
            per_txn * 1e6,
            per_txn / base
        );
    }
    // The whole of `check-history` on the largest valid history: EDN text
    // parsed, then checked.
    let largest = cases
        .iter()
        .filter(|c| c.want == Status::Pass)
        .max_by_key(|c| c.txns)
        .expect("a valid case");
    let text = write_edn(&largest.history);
    let times: Vec<Duration> = (0..3)
        .map(|_| {
            let started = Instant::now();
            let verdict = check_history_text(black_box(&text), &options).expect("parses");
            assert_eq!(verdict.status, Status::Pass);
            started.elapsed()
        })
        .collect();
    println!(
        "transactional list-append {} txns parsed from EDN ({} MB) and checked: {:.3} s median",
        largest.txns,
        text.len() >> 20,
        median(times).as_secs_f64()
    );
}
