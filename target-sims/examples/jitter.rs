//! Exponential backoff with and without jitter, compared.
//!
//! Runs the bundled `chain-jitter-contention` scenario — 50 clients writing
//! at once through a gateway that retries refused calls, to one worker that
//! refuses while busy — with each jitter scheme, over the same seeds, and
//! prints the calls the crowd needed and how long it took.
//!
//! ```sh
//! cargo run --release -p target-sims --example jitter [SEEDS]
//! ```

use target_sims::systems::chain::study;

const MODES: [&str; 4] = ["none", "full", "equal", "decorrelated"];

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SEEDS: a number of seeds"))
        .unwrap_or(10);
    let base = study::scenario("chain-jitter-contention");
    println!(
        "{} clients, one worker refusing while busy, backoff 10ms doubling to 1s; seeds 1..={seeds}\n",
        base.workload.clients
    );
    println!("| jitter | calls per client | total calls (min-max) | completion time (min-max) | all done |");
    println!("|---|---:|---:|---:|---|");
    for mode in MODES {
        let scenario = study::with_setting(base.clone(), "retry.jitter", Some(mode.into()));
        let runs: Vec<study::Contention> = (1..=seeds)
            .map(|seed| study::contention(&study::run(&scenario, seed).record))
            .collect();
        let n = runs.len() as f64;
        let calls: Vec<u64> = runs.iter().map(|r| r.calls).collect();
        let secs: Vec<f64> = runs.iter().map(|r| r.completion.as_secs_f64()).collect();
        let requests: u64 = runs.iter().map(|r| r.requests).sum();
        let mean_calls = calls.iter().sum::<u64>() as f64 / n;
        let mean_secs = secs.iter().sum::<f64>() / n;
        let all_done = runs.iter().all(|r| r.succeeded == r.requests);
        println!(
            "| {mode} | {:.1} | {:.0} ({}-{}) | {:.2}s ({:.2}-{:.2}s) | {} |",
            calls.iter().sum::<u64>() as f64 / requests as f64,
            mean_calls,
            calls.iter().min().unwrap(),
            calls.iter().max().unwrap(),
            mean_secs,
            secs.iter().cloned().fold(f64::INFINITY, f64::min),
            secs.iter().cloned().fold(0.0, f64::max),
            if all_done { "yes" } else { "no" },
        );
    }
}
