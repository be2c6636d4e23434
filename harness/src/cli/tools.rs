//! The commands that do not run a sweep: `list`, `check` (validate
//! files), `check-history` (linearizability of a history file) and `bugs`
//! (the planted-bug gate).

use super::{load, program, scenario_dir, scenario_files};
use super::{EXIT_FAIL, EXIT_PASS, EXIT_USAGE};
use crate::check::Status;
use crate::scenario;
use crate::target::Registry;
use std::path::PathBuf;

pub(super) fn list(registry: &Registry) -> Result<u8, String> {
    let dir = scenario_dir(registry).ok_or("no scenarios folder found")?;
    let mut bad = false;
    for path in scenario_files(&dir)? {
        match scenario::load_file(&path, registry) {
            Ok(s) => println!("{:<32} {:<12} {}", s.name, s.target.system, s.description),
            Err(err) => {
                bad = true;
                eprintln!("error: {err}");
            }
        }
    }
    println!();
    println!("targets:");
    for t in registry.targets() {
        println!("  {:<14} {}", t.name(), t.description());
    }
    Ok(if bad { EXIT_USAGE } else { EXIT_PASS })
}

pub(super) fn check(registry: &Registry, files: &[PathBuf]) -> Result<u8, String> {
    let mut bad = false;
    for file in files {
        match load(file, registry, &[]) {
            Ok(l) => println!("ok {} ({})", file.display(), l.scenario.name),
            Err(err) => {
                bad = true;
                eprintln!("error: {err}");
            }
        }
    }
    Ok(if bad { EXIT_USAGE } else { EXIT_PASS })
}

pub(super) fn check_history(
    model: &str,
    max_states: Option<u64>,
    files: &[PathBuf],
) -> Result<u8, String> {
    use crate::check::linearizability::{check_history_text, Budget, ModelKind};
    let model: ModelKind = model.parse().map_err(|_| {
        format!(
            "unknown model \"{model}\": expected one of {}",
            crate::check::linearizability_model_names().join(", ")
        )
    })?;
    let mut budget = Budget::default();
    if let Some(states) = max_states {
        budget.max_states = states;
    }
    let mut worst = EXIT_PASS;
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let started = std::time::Instant::now();
        let verdict = check_history_text(&text, model, &budget)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let elapsed = started.elapsed();
        let word = match verdict.status {
            Status::Pass => "linearizable",
            Status::Fail => "not-linearizable",
            Status::Unknown => "unknown",
        };
        println!(
            "{} {word} ({:.1} ms): {}",
            file.display(),
            elapsed.as_secs_f64() * 1e3,
            verdict.summary
        );
        if verdict.status != Status::Pass {
            worst = EXIT_FAIL;
            if let Some(expected) = &verdict.expected {
                println!("  expected: {expected}");
            }
            for event in &verdict.evidence {
                println!("  {}", crate::history::jepsen::write_edn_event(event));
            }
        }
    }
    Ok(worst)
}

pub(super) fn bugs(
    registry: &Registry,
    targets: &[String],
    max_seeds: u64,
    swarm_seeds: u64,
    jobs: Option<usize>,
) -> Result<u8, String> {
    for t in targets {
        if registry.get(t).is_none() {
            return Err(format!(
                "unknown target \"{t}\": expected one of {}",
                registry.names().join(", ")
            ));
        }
    }
    let dir = scenario_dir(registry).ok_or("no scenarios folder found")?;
    let mut scenarios = Vec::new();
    for path in scenario_files(&dir)? {
        scenarios.push(load(&path, registry, &[]).map_err(|e| e.to_string())?);
    }
    let threads =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let results = crate::gate::run(registry, &scenarios, targets, max_seeds, threads);
    print!("{}", crate::gate::table(&results));
    let program = program();
    for r in &results {
        if let Some(c) = &r.caught {
            println!("{} {}: {program} {}", r.target, r.bug, c.replay);
        }
    }
    if swarm_seeds > 0 {
        let swarm = crate::gate::run_swarm(registry, &scenarios, targets, swarm_seeds, threads);
        println!();
        println!("on the generic swarm scenarios, seeds 0..{swarm_seeds}:");
        print!("{}", crate::gate::swarm_table(&swarm));
    }
    let all = results.iter().all(|r| r.caught_as_expected());
    if !all {
        println!(
            "some planted bugs were not caught by their expected checker within {max_seeds} seeds"
        );
    }
    Ok(if all { EXIT_PASS } else { EXIT_FAIL })
}
