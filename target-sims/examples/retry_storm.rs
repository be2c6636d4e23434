//! A retry storm that outlives its trigger, and the retry budget that
//! prevents it.
//!
//! Runs the bundled `chain-retry-storm` scenario (a 1-second slowdown of
//! the backends at 5s, under high load) with the retry budget on, as the
//! file has it, and off, over the same seeds. Prints each variant's goodput
//! after the heal and its recovery time, then the goodput per second of one
//! seed side by side.
//!
//! ```sh
//! cargo run --release -p target-sims --example retry_storm [SEEDS]
//! ```

use std::time::Duration;
use target_sims::systems::chain::study;

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SEEDS: a number of seeds"))
        .unwrap_or(10);
    let with_budget = study::scenario("chain-retry-storm");
    let without = study::with_setting(with_budget.clone(), "retry.budget", Some(false.into()));
    let variants = [("budget", with_budget), ("no budget", without)];

    println!("seeds 1..={seeds}; trigger: backends 150ms slower from 5s to 6s\n");
    println!("| retries | runs passing | ok ratio after heal+1s (min-max) | recovery time | attempts per request |");
    println!("|---|---:|---:|---:|---:|");
    let mut per_second = Vec::new();
    for (label, scenario) in &variants {
        let mut passing = 0;
        let (mut after, mut recovery, mut amplification) = (Vec::new(), Vec::new(), Vec::new());
        for seed in 1..=seeds {
            let run = study::run(scenario, seed);
            if run.report.status == harness::check::Status::Pass {
                passing += 1;
            }
            let verdict = run
                .report
                .verdicts
                .iter()
                .find(|v| v.invariant == "availability")
                .expect("an availability verdict");
            let number = |key: &str| verdict.details.get(key).and_then(|v| v.as_f64());
            after.push(number("ok_ratio_after_heal").unwrap_or(0.0));
            recovery.push(number("recovery_time_ms"));
            amplification.push(number("retry_amplification").unwrap_or(0.0));
            if seed == 1 {
                per_second.push(study::goodput(&run.record, Duration::from_secs(1)));
            }
        }
        let recovered: Vec<f64> = recovery.iter().flatten().copied().collect();
        let recovery_text = if recovered.len() == recovery.len() {
            format!(
                "{:.0}-{:.0}ms",
                recovered.iter().cloned().fold(f64::INFINITY, f64::min),
                recovered.iter().cloned().fold(0.0, f64::max)
            )
        } else {
            format!(
                "never, in {} of {seeds} runs",
                recovery.len() - recovered.len()
            )
        };
        println!(
            "| {label} | {passing}/{seeds} | {:.3} ({:.3}-{:.3}) | {recovery_text} | {:.2} |",
            after.iter().sum::<f64>() / after.len() as f64,
            after.iter().cloned().fold(f64::INFINITY, f64::min),
            after.iter().cloned().fold(0.0, f64::max),
            amplification.iter().sum::<f64>() / amplification.len() as f64,
        );
    }

    println!("\nseed 1, requests per second invoked / succeeded:\n");
    println!("| second | budget | no budget |");
    println!("|---:|---:|---:|");
    let rows = per_second.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..rows {
        let cell = |v: &Vec<study::Bucket>| {
            v.get(i)
                .map_or("-".to_string(), |b| format!("{} / {}", b.invoked, b.ok))
        };
        println!(
            "| {i} | {} | {} |",
            cell(&per_second[0]),
            cell(&per_second[1])
        );
    }
}
