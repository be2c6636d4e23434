//! How long the linearizability checker takes on the shared real
//! histories (`shared/testdata/histories`). Files are parsed before any
//! timing; only checking is measured.
//!
//! Run with `cargo bench -p chaos-harness --bench linearizability`. Besides
//! criterion's report, one plain line per measurement is printed at the
//! end: the median of repeated runs, next to its target, and the verdict.
//!
//! `CHAOS_BENCH_KV_HISTORIES=DIR` also times every `*.txt` file in `DIR`
//! with the kv model (for example a local copy of Porcupine's larger
//! `test_data/kv/c50-*.txt`, which this repository does not include); those
//! have no target and may be any verdict, which the line shows.

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
    name: String,
    model: ModelKind,
    histories: Vec<History>,
    /// `None` for extra histories: no target, and any verdict goes.
    target: Option<Duration>,
}

/// How many histories of a workload got each verdict.
#[derive(Default)]
struct Verdicts {
    fail: usize,
    unknown: usize,
}

impl Workload {
    fn run(&self, budget: &Budget) -> Verdicts {
        let mut verdicts = Verdicts::default();
        for history in &self.histories {
            let verdict = check(black_box(history), self.model, budget);
            if self.target.is_some() {
                assert_ne!(
                    verdict.status,
                    Status::Unknown,
                    "{}: {}",
                    self.name,
                    verdict.summary
                );
            }
            verdicts.fail += usize::from(verdict.status == Status::Fail);
            verdicts.unknown += usize::from(verdict.status == Status::Unknown);
        }
        verdicts
    }
}

/// `CHAOS_BENCH_KV_HISTORIES`: every `*.txt` file in that folder, checked
/// with the kv model.
fn extra_workloads() -> Vec<Workload> {
    let Some(dir) = std::env::var_os("CHAOS_BENCH_KV_HISTORIES") else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("CHAOS_BENCH_KV_HISTORIES: {e}"))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| Workload {
            name: format!(
                "extra {}",
                path.file_name().unwrap_or_default().to_string_lossy()
            ),
            model: ModelKind::Kv,
            histories: vec![load(path)],
            target: None,
        })
        .collect()
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
    let mut workloads = vec![
        Workload {
            name: "jepsen-etcd, all 50 files".into(),
            model: ModelKind::Register,
            histories: etcd_files.iter().map(|p| load(p)).collect(),
            target: Some(Duration::from_millis(150)),
        },
        Workload {
            name: "kv/c10-ok.txt".into(),
            model: ModelKind::Kv,
            histories: kv("c10-ok.txt"),
            target: Some(Duration::from_millis(2)),
        },
        Workload {
            name: "kv/c10-bad.txt".into(),
            model: ModelKind::Kv,
            histories: kv("c10-bad.txt"),
            target: Some(Duration::from_millis(2)),
        },
        Workload {
            name: "kv/c01-ok.txt".into(),
            model: ModelKind::Kv,
            histories: kv("c01-ok.txt"),
            target: Some(Duration::from_millis(2)),
        },
        Workload {
            name: "kv/c01-bad.txt".into(),
            model: ModelKind::Kv,
            histories: kv("c01-bad.txt"),
            target: Some(Duration::from_millis(2)),
        },
    ];
    workloads.extend(extra_workloads());
    workloads
}

/// Most timed runs per workload for the plain lines.
const MAX_RUNS: usize = 51;
/// Fewer runs for slow workloads: stop once the runs took this long.
const RUNS_TIME: Duration = Duration::from_secs(10);

/// The median of up to [`MAX_RUNS`] timed runs (at least 5, fewer than 51
/// when they take longer than [`RUNS_TIME`]), after one untimed warm-up,
/// and how many runs that was.
fn median_time(workload: &Workload, budget: &Budget) -> (Duration, usize) {
    workload.run(budget);
    let started = Instant::now();
    let mut times = Vec::new();
    while times.len() < MAX_RUNS && (times.len() < 5 || started.elapsed() < RUNS_TIME) {
        let start = Instant::now();
        black_box(workload.run(budget));
        times.push(start.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times.len())
}

fn main() {
    let workloads = workloads();
    let budget = Budget::default();
    let mut criterion = Criterion::default().configure_from_args();
    for workload in &workloads {
        criterion.bench_function(&workload.name, |b| b.iter(|| workload.run(&budget)));
    }
    criterion.final_summary();

    println!();
    for workload in &workloads {
        let (median, runs) = median_time(workload, &budget);
        let verdicts = workload.run(&budget);
        let target = match workload.target {
            Some(target) if median < target => format!("target < {} ms: ok", target.as_millis()),
            Some(target) => format!("target < {} ms: OVER TARGET", target.as_millis()),
            None => "no target".to_string(),
        };
        println!(
            "linearizability check: {:<26} median {:>9.3} ms over {runs} runs ({} of {} not linearizable, {} unknown; {target})",
            workload.name,
            median.as_secs_f64() * 1e3,
            verdicts.fail,
            workload.histories.len(),
            verdicts.unknown,
        );
    }
}
