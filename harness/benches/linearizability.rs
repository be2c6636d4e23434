//! How long the linearizability checker takes on the shared real
//! histories (`shared/testdata/histories`). Files are parsed before any
//! timing; only checking is measured.
//!
//! Run with `cargo bench -p chaos-harness --bench linearizability`. Besides
//! criterion's report, one plain line per measurement is printed at the
//! end: the median of repeated runs, next to its target.

use criterion::Criterion;
use harness::check::linearizability::{check, Budget, ModelKind};
use harness::check::Status;
use harness::history::jepsen::parse_history;
use harness::history::History;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn histories_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/histories");
    assert!(
        dir.is_dir(),
        "shared histories not found at {}",
        dir.display()
    );
    dir
}

fn load(path: &Path) -> History {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_history(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One measured workload: histories checked together with one model.
struct Workload {
    name: &'static str,
    model: ModelKind,
    histories: Vec<History>,
    target: Duration,
}

impl Workload {
    fn run(&self, budget: &Budget) -> usize {
        let mut failures = 0;
        for history in &self.histories {
            let verdict = check(black_box(history), self.model, budget);
            assert_ne!(
                verdict.status,
                Status::Unknown,
                "{}: {}",
                self.name,
                verdict.summary
            );
            failures += usize::from(verdict.status == Status::Fail);
        }
        failures
    }
}

fn workloads() -> Vec<Workload> {
    let dir = histories_dir();
    let mut etcd_files: Vec<PathBuf> = std::fs::read_dir(dir.join("jepsen-etcd"))
        .expect("jepsen-etcd folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    etcd_files.sort();
    assert_eq!(etcd_files.len(), 50, "expected the 50 jepsen-etcd files");
    let kv = |file: &str| vec![load(&dir.join("kv").join(file))];
    vec![
        Workload {
            name: "jepsen-etcd, all 50 files",
            model: ModelKind::Register,
            histories: etcd_files.iter().map(|p| load(p)).collect(),
            target: Duration::from_millis(150),
        },
        Workload {
            name: "kv/c10-ok.txt",
            model: ModelKind::Kv,
            histories: kv("c10-ok.txt"),
            target: Duration::from_millis(2),
        },
        Workload {
            name: "kv/c10-bad.txt",
            model: ModelKind::Kv,
            histories: kv("c10-bad.txt"),
            target: Duration::from_millis(2),
        },
        Workload {
            name: "kv/c01-ok.txt",
            model: ModelKind::Kv,
            histories: kv("c01-ok.txt"),
            target: Duration::from_millis(2),
        },
        Workload {
            name: "kv/c01-bad.txt",
            model: ModelKind::Kv,
            histories: kv("c01-bad.txt"),
            target: Duration::from_millis(2),
        },
    ]
}

/// The median of `runs` timed runs, after one untimed warm-up.
fn median_time(workload: &Workload, budget: &Budget, runs: usize) -> Duration {
    workload.run(budget);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(workload.run(budget));
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    let workloads = workloads();
    let budget = Budget::default();
    let mut criterion = Criterion::default().configure_from_args();
    for workload in &workloads {
        criterion.bench_function(workload.name, |b| b.iter(|| workload.run(&budget)));
    }
    criterion.final_summary();

    println!();
    for workload in &workloads {
        let median = median_time(workload, &budget, 51);
        let failures = workload.run(&budget);
        println!(
            "linearizability check: {:<26} median {:>9.3} ms over 51 runs (target < {} ms; {} of {} not linearizable) {}",
            workload.name,
            median.as_secs_f64() * 1e3,
            workload.target.as_millis(),
            failures,
            workload.histories.len(),
            if median < workload.target { "ok" } else { "OVER TARGET" }
        );
    }
}
