//! Running the durable log, and reading its history and trace.

use super::durable_log::DurableLog;
use harness::history::{OpKind, Operation, Outcome, Value};
use harness::record::RunRecord;
use harness::scenario::ScenarioBuilder;
use harness::suite::{execute, ExecOptions, LoadedScenario, SeedRun};
use harness::target::Registry;
use std::time::Duration;

pub const S: fn(u64) -> Duration = Duration::from_secs;
pub const MS: fn(u64) -> Duration = Duration::from_millis;

pub fn run_seed(builder: ScenarioBuilder, seed: u64) -> SeedRun {
    let registry = Registry::new().with_target(DurableLog);
    let loaded = LoadedScenario::from_scenario(builder.build(), &registry).expect("valid scenario");
    execute(&loaded, seed, &ExecOptions::default())
}

/// Seed 1, or `DISK_SEED=N` to check the assertions hold for other seeds.
pub fn run(builder: ScenarioBuilder) -> SeedRun {
    run_seed(
        builder,
        std::env::var("DISK_SEED").map_or(1, |s| s.parse().unwrap()),
    )
}

/// One client appending and reading on `n1`, 10 s.
pub fn log(name: &str) -> ScenarioBuilder {
    ScenarioBuilder::new(name, "dlog")
        .duration(S(10))
        .clients(1)
        .rate(20.0)
        .mix(&[(OpKind::Append, 1), (OpKind::Read, 1)])
}

pub fn ops(r: &SeedRun) -> Vec<Operation> {
    r.record.history.operations().unwrap()
}

pub fn invoked(op: &Operation, from: Duration, to: Duration) -> bool {
    (from..to).contains(&Duration::from_nanos(op.invoke_ns))
}

pub fn in_window(ops: &[Operation], from: Duration, to: Duration) -> Vec<Operation> {
    let window: Vec<_> = ops
        .iter()
        .filter(|o| invoked(o, from, to))
        .cloned()
        .collect();
    assert!(!window.is_empty(), "no operations in {from:?}..{to:?}");
    window
}

pub fn all_ok(ops: &[Operation]) -> bool {
    ops.iter().all(|o| o.outcome == Outcome::Ok)
}

pub fn latency(op: &Operation) -> Duration {
    Duration::from_nanos(op.latency_ns().unwrap())
}

pub fn values_read(op: &Operation) -> Vec<i64> {
    match &op.output {
        Value::Str(s) => s.split_whitespace().map(|v| v.parse().unwrap()).collect(),
        _ => Vec::new(),
    }
}

pub fn appended(op: &Operation) -> i64 {
    match &op.input {
        Value::Str(s) => s.trim().parse().unwrap(),
        other => panic!("append of {other:?}"),
    }
}

/// Trace fields of the `dlog` events with `message`, per host, in order.
pub fn events(
    record: &RunRecord,
    host: &str,
    message: &str,
) -> Vec<(Duration, Vec<(String, String)>)> {
    record
        .trace
        .iter()
        .filter(|e| e.source == host && e.target.as_deref() == Some("dlog") && e.message == message)
        .map(|e| (Duration::from_nanos(e.time_ns), e.fields.clone()))
        .collect()
}

pub fn field(fields: &[(String, String)], name: &str) -> i64 {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
        .1
        .parse()
        .unwrap()
}

pub fn p99(ops: &[Operation]) -> Duration {
    let mut latencies: Vec<Duration> = ops
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .map(latency)
        .collect();
    latencies.sort();
    latencies[(latencies.len() * 99).div_ceil(100) - 1]
}
