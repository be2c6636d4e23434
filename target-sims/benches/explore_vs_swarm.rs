//! `chaos explore` against random swarm seeds, side by side (issue 12,
//! item 3).
//!
//! 1. For every planted bug of every target, on each of its target's
//!    generic `*-swarm` scenarios (the bug switched on with its `--set`
//!    overrides): how many of swarm seeds `0..cap` fail, turned into the
//!    median runs a swarm started at a random seed needs for its first
//!    catch, against the runs `explore` needed from several explore seeds
//!    (their median; capped at `cap`). A run that fails any invariant
//!    counts as caught; an undecided run does not. The ratio's median is
//!    given over every row and over the hard rows (the swarm needs
//!    [`HARD`] or more runs, or misses).
//! 2. On kv-swarm without a bug: coverage (the explorer's feature set,
//!    `harness::explore::features_of_run`) reached by `explore` after N
//!    runs against the union over M random swarm seeds.
//!
//! `cargo bench -p target-sims --bench explore_vs_swarm`. Knobs
//! (environment): `EXPLORE_BENCH_CAP` (runs per side and bug, default
//! 200), `EXPLORE_BENCH_SEEDS` (explore seeds 1..=K, default 3),
//! `EXPLORE_BENCH_TARGETS` (comma-separated targets, default all),
//! `EXPLORE_BENCH_ROWS` (comma-separated `BUG` or `BUG@SCENARIO`, default
//! all),
//! `EXPLORE_BENCH_COVERAGE_SWARM` / `EXPLORE_BENCH_COVERAGE_EXPLORE`
//! (default 1000 / 200; 0 skips part 2), `EXPLORE_BENCH_JOBS` (default
//! every core). Wall time is printed to stderr only.

use harness::check::Status;
use harness::explore::{self, features_of_run, Options};
use harness::suite::{execute, ExecOptions, LoadedScenario};
use harness::target::Registry;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a number, found {v}"))
        })
        .unwrap_or(default)
}

/// `f` over `items` on `threads` threads, results in item order.
fn par_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                out.lock().unwrap()[i] = Some(r);
            });
        }
    });
    out.into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

/// The swarm side: seeds `0..cap` all run; how many fail, how many were
/// undecided, and the first that failed (0-based).
struct SwarmRate {
    failed: usize,
    undecided: usize,
    first: Option<usize>,
}

fn swarm_rate(loaded: &LoadedScenario, cap: usize, threads: usize) -> SwarmRate {
    let seeds: Vec<u64> = (0..cap as u64).collect();
    let statuses = par_map(&seeds, threads, |&seed| {
        execute(loaded, seed, &ExecOptions::default()).report.status
    });
    SwarmRate {
        failed: statuses.iter().filter(|s| **s == Status::Fail).count(),
        undecided: statuses.iter().filter(|s| **s == Status::Unknown).count(),
        first: statuses.iter().position(|s| *s == Status::Fail),
    }
}

/// Median runs until the first catch for a swarm started at a random seed
/// when `failed` of `cap` seeds fail: the smallest `k` with
/// `1 - (1 - p)^k >= 1/2`. One sequence from seed 0 is luck (a bug failing
/// 3% of seeds may fail seed 2); the rate over every seed is not.
fn swarm_median_runs(failed: usize, cap: usize) -> Option<usize> {
    if failed == 0 {
        return None;
    }
    let p = failed as f64 / cap as f64;
    if p >= 1.0 {
        return Some(1);
    }
    Some(((0.5f64).ln() / (1.0 - p).ln()).ceil().max(1.0) as usize)
}

/// A row is hard when the swarm's median runs to a catch is at least this:
/// on a bug the swarm catches at its first seed no search can win by 3x.
const HARD: usize = 5;

fn median_of(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied()
}

fn show(runs: Option<usize>) -> String {
    runs.map_or("miss".into(), |r| r.to_string())
}

/// The median with misses counted as worse than any catch.
fn median(mut v: Vec<Option<usize>>) -> Option<usize> {
    v.sort_by_key(|r| r.unwrap_or(usize::MAX));
    v[v.len() / 2]
}

fn main() {
    let registry: Registry = target_sims::registry();
    let cap = knob("EXPLORE_BENCH_CAP", 200);
    let explore_seeds = knob("EXPLORE_BENCH_SEEDS", 3).max(1) as u64;
    let threads = knob(
        "EXPLORE_BENCH_JOBS",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let only: Vec<String> = std::env::var("EXPLORE_BENCH_TARGETS")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let rows: Vec<String> = std::env::var("EXPLORE_BENCH_ROWS")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the bundled scenarios folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_stem()
                .is_some_and(|s| s.to_string_lossy().ends_with("-swarm"))
        })
        .collect();
    files.sort();

    println!("## explore vs random swarm seeds: runs until first caught (cap {cap} each; explore seeds 1..={explore_seeds}, median)\n");
    println!("| target | bug | swarm scenario | swarm: failing of {cap} (first) | swarm: median runs to catch | explore runs (per seed) | explore median | swarm / explore |");
    println!("|---|---|---|---:|---:|---|---:|---:|");
    let mut ratios = Vec::new();
    for target in registry.targets() {
        if !only.is_empty() && !only.iter().any(|t| t == target.name()) {
            continue;
        }
        for bug in target.planted_bugs() {
            let overrides: Vec<String> = bug.overrides.iter().map(|s| s.to_string()).collect();
            for file in &files {
                let Ok(loaded) = LoadedScenario::from_file(file, &overrides, &registry) else {
                    continue;
                };
                if loaded.scenario.target.system != target.name() {
                    continue;
                }
                let row = format!("{}@{}", bug.name, loaded.scenario.name);
                if !rows.is_empty() && !rows.iter().any(|r| *r == row || r == bug.name) {
                    continue;
                }
                let clock = Instant::now();
                let rate = swarm_rate(&loaded, cap, threads);
                let swarm = swarm_median_runs(rate.failed, cap);
                let runs: Vec<Option<usize>> = (1..=explore_seeds)
                    .map(|seed| {
                        let options = Options {
                            explore_seed: seed,
                            max_runs: cap,
                            threads,
                            ..Options::default()
                        };
                        let e = explore::explore(&loaded, &registry, &options, |_| {});
                        e.finding.map(|f| f.run)
                    })
                    .collect();
                let med = median(runs.clone());
                // A miss counts as the cap plus one on either side.
                let ratio = swarm.unwrap_or(cap + 1) as f64 / med.unwrap_or(cap + 1) as f64;
                ratios.push((ratio, swarm.is_none_or(|runs| runs >= HARD)));
                println!(
                    "| {} | {} | {} | {} ({}){} | {} | {} | {} | {:.2} |",
                    target.name(),
                    bug.name,
                    loaded.scenario.name,
                    rate.failed,
                    rate.first.map_or("-".into(), |s| format!("seed {s}")),
                    if rate.undecided > 0 {
                        format!("; {} undecided", rate.undecided)
                    } else {
                        String::new()
                    },
                    show(swarm),
                    runs.iter().map(|r| show(*r)).collect::<Vec<_>>().join(", "),
                    show(med),
                    ratio
                );
                eprintln!("  ({:.0} s)", clock.elapsed().as_secs_f64());
            }
        }
    }
    let all: Vec<f64> = ratios.iter().map(|r| r.0).collect();
    let hard: Vec<f64> = ratios.iter().filter(|r| r.1).map(|r| r.0).collect();
    if let Some(m) = median_of(all) {
        println!("\nmedian swarm/explore ratio over rows: {m:.2} (goal: at least 3)");
    }
    if let Some(m) = median_of(hard) {
        println!(
            "median over the rows the swarm needs {HARD} or more runs for (or misses): {m:.2}\n"
        );
    }

    let swarm_n = knob("EXPLORE_BENCH_COVERAGE_SWARM", 1000);
    let explore_n = knob("EXPLORE_BENCH_COVERAGE_EXPLORE", 200);
    if swarm_n == 0 || explore_n == 0 {
        return;
    }
    let kv = LoadedScenario::from_file(&dir.join("kv-swarm.toml"), &[], &registry)
        .expect("kv-swarm loads");
    let clock = Instant::now();
    let seeds: Vec<u64> = (0..swarm_n as u64).collect();
    let mut swarm: BTreeSet<String> = BTreeSet::new();
    let mut at_explore_n = 0;
    for (i, chunk) in seeds.chunks(64).enumerate() {
        for set in par_map(chunk, threads, |&seed| {
            let run = execute(&kv, seed, &ExecOptions::default());
            features_of_run(&run.plan, &run.record)
        }) {
            swarm.extend(set);
        }
        if (i + 1) * 64 <= explore_n {
            at_explore_n = swarm.len();
        }
    }
    eprintln!("  (swarm coverage: {:.0} s)", clock.elapsed().as_secs_f64());
    println!("## coverage on kv-swarm (no bug): features reached\n");
    println!("| explore seed | explore, {explore_n} runs | swarm, {swarm_n} seeds | swarm, first {} seeds |", (explore_n / 64) * 64);
    println!("|---:|---:|---:|---:|");
    for seed in 1..=explore_seeds {
        let options = Options {
            explore_seed: seed,
            max_runs: explore_n,
            threads,
            ..Options::default()
        };
        let e = explore::explore(&kv, &registry, &options, |_| {});
        let only_explore = e.coverage.difference(&swarm).count();
        println!(
            "| {seed} | {} ({} not reached by the swarm{}) | {} | {} |",
            e.coverage.len(),
            only_explore,
            if e.problem_runs > 0 {
                format!("; {} undecided runs", e.problem_runs)
            } else {
                String::new()
            },
            swarm.len(),
            at_explore_n
        );
    }
}
