//! The commands that do not run a sweep: `list`, `check` (validate
//! files), `check-history` (linearizability of a history file) and `bugs`
//! (the planted-bug gate).

use super::{load, program, scenario_dir, scenario_files};
use super::{EXIT_FAIL, EXIT_PASS, EXIT_USAGE};
use crate::check::Status;
use crate::history::jepsen::parse_history;
use crate::history::History;
use crate::scenario;
use crate::target::Registry;
use std::path::{Path, PathBuf};

/// The scenarios, then the targets. Without a scenarios folder (a user's
/// own binary run outside its crate) the targets are still listed, with a
/// line saying where scenarios would be looked for: they are what `chaos
/// new NAME --target T` needs.
pub(super) fn list(registry: &Registry) -> Result<u8, String> {
    let mut bad = false;
    let files = match scenario_dir(registry) {
        Some(dir) => scenario_files(&dir)?,
        None => {
            println!(
                "no scenarios: there is no ./scenarios folder here{}; write one with `{} new NAME --target TARGET`",
                match registry.bundled_dir() {
                    Some(d) => format!(" and the bundled one ({}) is missing", d.display()),
                    None => String::new(),
                },
                program()
            );
            Vec::new()
        }
    };
    for path in files {
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

/// Default `--max-input-bytes` of `check-history` (1 GiB): larger than
/// any history a checker decides in reasonable time, small enough that a
/// wrong path (`/dev/zero`) ends with a message instead of the machine's
/// memory.
pub(super) const DEFAULT_MAX_INPUT_BYTES: u64 = 1 << 30;

/// Reads and parses one history file for `check-history`. A file that
/// holds no client operation at all is an error, not a vacuous pass: it is
/// almost always the wrong file (a README, a `--trace` output) or a format
/// this reader skips line by line.
pub(super) fn read_history(file: &Path, max_bytes: u64) -> Result<History, String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|f| {
            f.take(max_bytes.saturating_add(1))
                .read_to_string(&mut text)
        })
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if text.len() as u64 > max_bytes {
        return Err(format!(
            "{} is larger than {max_bytes} bytes; raise --max-input-bytes to check it",
            file.display()
        ));
    }
    let history = parse_history(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    if history.is_empty() {
        return Err(format!(
            "{}: no history events found: expected Jepsen log lines \
             (`INFO  jepsen.util - 3\t:invoke\t:read\tnil`) or one EDN map per line \
             (`{{:process 3, :type :invoke, :f :read, :value nil}}`)",
            file.display()
        ));
    }
    Ok(history)
}

pub(super) fn check_history(
    model: &str,
    max_states: Option<u64>,
    max_memory_bytes: Option<u64>,
    max_input_bytes: u64,
    files: &[PathBuf],
    json: bool,
) -> Result<u8, String> {
    use crate::check::linearizability::{check, Budget, ModelKind};
    use std::io::Write;
    let model_name = model;
    let model: ModelKind = model.parse().map_err(|_| {
        format!(
            "unknown model \"{model}\": expected one of {}",
            crate::check::linearizability_model_names().join(", ")
        )
    })?;
    let budget = Budget::with_limits(max_states, max_memory_bytes)
        .map_err(|(knob, message)| format!("--{}: {message}", knob.replace('_', "-")))?;
    let mut out = std::io::stdout().lock();
    let colour = super::output::stdout_colour();
    let mut worst = EXIT_PASS;
    let mut verdicts = Vec::new();
    for file in files {
        let history = read_history(file, max_input_bytes)?;
        let started = std::time::Instant::now();
        let verdict = check(&history, model, &budget);
        let elapsed = started.elapsed();
        let word = match verdict.status {
            Status::Pass => "linearizable",
            Status::Fail => "not-linearizable",
            Status::Unknown => "unknown",
        };
        if verdict.status != Status::Pass {
            worst = EXIT_FAIL;
        }
        if json {
            verdicts.push(super::output::HistoryVerdict::new(
                file,
                &verdict,
                word.to_string(),
                elapsed,
            ));
            continue;
        }
        let mut text = format!(
            "{} {} ({:.1} ms): {}\n",
            file.display(),
            crate::report::text::paint(verdict.status, word, colour),
            elapsed.as_secs_f64() * 1e3,
            verdict.summary
        );
        if verdict.status != Status::Pass {
            if let Some(expected) = &verdict.expected {
                text.push_str(&format!("  expected: {expected}\n"));
            }
            for event in &verdict.evidence {
                let event = crate::history::jepsen::write_edn_event(event);
                text.push_str(&format!("  {event}\n"));
            }
        }
        // A closed pipe (`| head`) ends the output, not the process.
        if out.write_all(text.as_bytes()).is_err() {
            break;
        }
    }
    drop(out);
    if json {
        super::output::print_json(&super::output::HistorySummary::new(
            model_name, None, verdicts,
        ));
    }
    Ok(worst)
}

pub(super) fn bugs(
    registry: &Registry,
    targets: &[String],
    max_seeds: u64,
    swarm_seeds: u64,
    jobs: Option<usize>,
    json: bool,
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
    let all = results.iter().all(|r| r.caught_as_expected());
    if json {
        let swarm = (swarm_seeds > 0)
            .then(|| crate::gate::run_swarm(registry, &scenarios, targets, swarm_seeds, threads));
        let summary = super::output::BugsSummary::new(
            max_seeds,
            all,
            &results,
            swarm.as_deref().map(|s| (swarm_seeds, s)),
        );
        super::output::print_json(&summary);
        return Ok(if all { EXIT_PASS } else { EXIT_FAIL });
    }
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
    if !all {
        println!(
            "some planted bugs were not caught by their expected checker within {max_seeds} seeds"
        );
    }
    Ok(if all { EXIT_PASS } else { EXIT_FAIL })
}
