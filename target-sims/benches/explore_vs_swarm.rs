//! `chaos explore` against random swarm seeds, side by side (issue 12,
//! item 3).
//!
//! 1. For every planted bug of every target, on each of its target's
//!    generic `*-swarm` scenarios (the bug switched on with its `--set`
//!    overrides): runs until the first failing run, for random swarm seeds
//!    0, 1, 2, … and for `explore` from several explore seeds (the median
//!    is reported), each capped at the same number of runs. A run that
//!    fails any invariant counts as caught; an undecided run does not.
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

/// Runs until the first failing swarm seed (1-based), within `cap`.
fn swarm_first(loaded: &LoadedScenario, cap: usize, threads: usize) -> (Option<usize>, usize) {
    let window = (threads * 2).max(1);
    let mut unknown = 0;
    let mut start = 0;
    while start < cap {
        let seeds: Vec<u64> = (start as u64..(start + window).min(cap) as u64).collect();
        let statuses = par_map(&seeds, threads, |&seed| {
            execute(loaded, seed, &ExecOptions::default()).report.status
        });
        for (i, status) in statuses.iter().enumerate() {
            match status {
                Status::Fail => return (Some(start + i + 1), unknown),
                Status::Unknown => unknown += 1,
                Status::Pass => {}
            }
        }
        start += seeds.len();
    }
    (None, unknown)
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
    println!("| target | bug | swarm scenario | swarm seeds | explore runs (per seed) | explore median | swarm / explore |");
    println!("|---|---|---|---:|---|---:|---:|");
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
                let (swarm, unknown) = swarm_first(&loaded, cap, threads);
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
                ratios.push(ratio);
                println!(
                    "| {} | {} | {} | {}{} | {} | {} | {:.2} |",
                    target.name(),
                    bug.name,
                    loaded.scenario.name,
                    show(swarm),
                    if unknown > 0 {
                        format!(" ({unknown} undecided)")
                    } else {
                        String::new()
                    },
                    runs.iter().map(|r| show(*r)).collect::<Vec<_>>().join(", "),
                    show(med),
                    ratio
                );
                eprintln!("  ({:.0} s)", clock.elapsed().as_secs_f64());
            }
        }
    }
    if !ratios.is_empty() {
        ratios.sort_by(|a, b| a.total_cmp(b));
        println!(
            "\nmedian swarm/explore ratio over rows: {:.2} (goal: at least 3)\n",
            ratios[ratios.len() / 2]
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
