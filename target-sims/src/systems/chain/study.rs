//! Comparison experiments on the chain: run a bundled scenario with one
//! setting changed, and measure what the comparison is about.
//!
//! The scenario files stay the single source of each experiment; a variant
//! is the same file with a `[target]` setting replaced or removed (say,
//! `retry.budget = false`), run on the same seeds. The measurements are
//! read from the run's history: goodput per time bucket (for the retry
//! storm) and, for a crowd of one-shot clients, the calls they needed and
//! how long the crowd took (for the jitter comparison).

use harness::history::Outcome;
use harness::record::RunRecord;
use harness::scenario::Scenario;
use harness::suite::{execute, ExecOptions, LoadedScenario, SeedRun};
use std::path::PathBuf;
use std::time::Duration;

/// The bundled scenario `name` (a file in `scenarios/`).
pub fn scenario(name: &str) -> Scenario {
    let registry = crate::registry();
    let dir: PathBuf = registry
        .bundled_dir()
        .expect("the registry names its bundled scenarios")
        .clone();
    let path = dir.join(format!("{name}.toml"));
    harness::scenario::load_file(&path, &registry)
        .unwrap_or_else(|e| panic!("bundled scenario {name}: {e}"))
}

/// `scenario` with the `[target]` setting at the dotted `path` set to
/// `value`, or removed when `value` is `None`.
pub fn with_setting(mut scenario: Scenario, path: &str, value: Option<toml::Value>) -> Scenario {
    let mut table = &mut scenario.target.settings;
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().expect("a non-empty path");
    for part in parts {
        table = table
            .entry(part)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .unwrap_or_else(|| panic!("setting {part} of {path} is not a table"));
    }
    match value {
        Some(value) => {
            table.insert(last.to_string(), value);
        }
        None => {
            table.remove(last);
        }
    }
    scenario
}

/// Runs one seed of `scenario` (validated against the bundled targets).
pub fn run(scenario: &Scenario, seed: u64) -> SeedRun {
    let prepared = harness::scenario::validate(scenario, &crate::registry())
        .unwrap_or_else(|e| panic!("scenario {}: {e}", scenario.name));
    let loaded = LoadedScenario {
        scenario: scenario.clone(),
        path: None,
        overrides: Vec::new(),
        prepared,
    };
    execute(&loaded, seed, &ExecOptions::default())
}

/// The operations invoked in one time bucket, and how many succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub start: Duration,
    pub invoked: u64,
    pub ok: u64,
}

/// Goodput over time: the workload's operations by invocation time, in
/// buckets of `width`.
pub fn goodput(record: &RunRecord, width: Duration) -> Vec<Bucket> {
    let ops = record.history.operations().expect("a well-formed history");
    let width_ns = width.as_nanos().max(1) as u64;
    let mut buckets: Vec<Bucket> = Vec::new();
    for op in ops
        .iter()
        .filter(|o| o.process < harness::sim::FINAL_READER_PROCESS)
    {
        let index = (op.invoke_ns / width_ns) as usize;
        while buckets.len() <= index {
            let start = width * buckets.len() as u32;
            buckets.push(Bucket {
                start,
                invoked: 0,
                ok: 0,
            });
        }
        buckets[index].invoked += 1;
        buckets[index].ok += u64::from(op.outcome == Outcome::Ok);
    }
    buckets
}

/// What a crowd of requests cost and took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contention {
    pub requests: u64,
    /// Calls the gateway made for them, retries included.
    pub calls: u64,
    pub succeeded: u64,
    /// From the first request's start to the last one's end.
    pub completion: Duration,
}

pub fn contention(record: &RunRecord) -> Contention {
    let ops = record.history.operations().expect("a well-formed history");
    let first = ops.iter().map(|o| o.invoke_ns).min().unwrap_or(0);
    let last = ops
        .iter()
        .map(|o| o.complete_ns.unwrap_or(o.invoke_ns))
        .max()
        .unwrap_or(0);
    Contention {
        requests: ops.len() as u64,
        calls: ops.iter().map(|o| u64::from(o.attempts)).sum(),
        succeeded: ops.iter().filter(|o| o.outcome == Outcome::Ok).count() as u64,
        completion: Duration::from_nanos(last.saturating_sub(first)),
    }
}
