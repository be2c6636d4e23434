//! The coverage signal: what one run reached, as a set of feature names.
//!
//! Model: a run's coverage is a deterministic set of strings, each naming
//! one thing the run was seen to do, counted from its record (never from
//! its plan: a planned fault the run ended before did nothing):
//!
//! - `assert:KIND:MESSAGE` an assertion was reached, `…=held` it held at
//!   least once, `…=broke` it failed;
//! - `margin:MESSAGE:B` a guided assertion's most extreme margin fell in
//!   power-of-two bucket `B` (closer to failing or holding is new ground);
//! - `fault:KIND` a fault kind applied;
//! - `hit:KIND|ROLE|STATE` a fault of that kind hit a host that held
//!   `ROLE` (or `-`) and whose last reported event was `STATE` (the
//!   pairs rare interleavings are made of: a crash of a leader right after
//!   it acknowledged);
//! - `state:LABEL` the target reported an event (as [`crate::coverage`]
//!   labels it), `role:ROLE` a role was held, `trace:KIND` a kind of trace
//!   event occurred, `end:HOW` how the run ended.
//!
//! A run keeps at most [`MAX_FEATURES_PER_RUN`] features.

use crate::coverage as cov;
use crate::fault::{fault_kind, role_of_target, FaultAction};
use crate::plan::Plan;
use crate::record::{RunEnd, RunRecord, TraceKind};
use std::collections::BTreeSet;

/// Cap on the features one run contributes.
pub const MAX_FEATURES_PER_RUN: usize = 2048;

/// The features of one run.
pub fn of_run(plan: &Plan, record: &RunRecord) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for a in &record.assertions {
        let name = format!("assert:{}:{}", a.kind.as_str(), a.message);
        if a.passes > 0 {
            out.insert(format!("{name}=held"));
        }
        if a.failures > 0 {
            out.insert(format!("{name}=broke"));
        }
        if let Some(extreme) = &a.extreme {
            out.insert(format!("margin:{}:{}", a.message, bucket(extreme.margin)));
        }
        out.insert(name);
    }
    for kind in cov::fault_kinds(plan, record) {
        out.insert(format!("fault:{kind}"));
    }
    for event in plan.events.iter().take(record.plan_events_applied) {
        let Some(kind) = fault_kind(&event.action) else {
            continue;
        };
        let time_ns = event.at.as_nanos() as u64;
        for host in hosts_hit(&event.action, record) {
            let role = record.roles.role_of_at(&host, time_ns).unwrap_or("-");
            let state = last_state(record, &host, time_ns).unwrap_or_else(|| "-".into());
            out.insert(format!("hit:{kind}|{role}|{state}"));
        }
    }
    for label in cov::reached(record) {
        out.insert(format!("state:{label}"));
    }
    for role in record.roles.roles() {
        out.insert(format!("role:{role}"));
    }
    let kinds: BTreeSet<TraceKind> = record.trace.iter().map(|e| e.kind).collect();
    for kind in kinds {
        out.insert(format!("trace:{}", format!("{kind:?}").to_lowercase()));
    }
    out.insert(format!("end:{}", end_name(&record.end)));
    while out.len() > MAX_FEATURES_PER_RUN {
        out.pop_last();
    }
    out
}

/// Power-of-two buckets of a margin, signed: 0 for 0, ±(1 + log2|m|)
/// rounded down otherwise, so halving the distance to a threshold is a
/// new feature while jitter within a bucket is not.
fn bucket(margin: f64) -> i64 {
    if !margin.is_finite() || margin == 0.0 {
        return 0;
    }
    let b = margin.abs().log2().floor() as i64 + 1;
    if margin < 0.0 {
        -b
    } else {
        b
    }
}

fn end_name(end: &RunEnd) -> &'static str {
    match end {
        RunEnd::Completed => "completed",
        RunEnd::Hung { .. } => "hung",
        RunEnd::Panicked { .. } => "panicked",
        RunEnd::HostFailed { .. } => "host-failed",
    }
}

/// The hosts a fault landed on: a process, disk or clock fault's hosts
/// (a role target as the host it hit), a partition's smallest side (the
/// isolated host of an isolate), a one-way partition's senders. Latency
/// and loss over every link hit no host in particular.
fn hosts_hit(action: &FaultAction, record: &RunRecord) -> Vec<String> {
    let resolve = |id: u32, names: &[String]| -> Vec<String> {
        let mut hosts = Vec::new();
        for name in names {
            match role_of_target(name) {
                Some(_) => hosts.extend(
                    record
                        .fault_hits
                        .iter()
                        .filter(|h| h.id == id && h.target == *name)
                        .flat_map(|h| h.hosts.iter().cloned()),
                ),
                None => hosts.push(name.clone()),
            }
        }
        hosts
    };
    match action {
        FaultAction::Crash { id, host, .. }
        | FaultAction::Bounce { id, host, .. }
        | FaultAction::Pause { id, host, .. } => resolve(*id, std::slice::from_ref(host)),
        FaultAction::DiskError { id, hosts, .. }
        | FaultAction::DiskFull { id, hosts, .. }
        | FaultAction::DiskCorrupt { id, hosts, .. }
        | FaultAction::DiskSlow { id, hosts, .. }
        | FaultAction::ClockJump { id, hosts, .. }
        | FaultAction::ClockDrift { id, hosts, .. } => resolve(*id, hosts),
        FaultAction::Partition { id, sides } => sides
            .iter()
            .min_by_key(|s| s.len())
            .map(|s| resolve(*id, s))
            .unwrap_or_default(),
        FaultAction::PartitionOneway { id, from, .. } => resolve(*id, from),
        FaultAction::Latency {
            id,
            between: Some([a, _]),
            ..
        }
        | FaultAction::Loss {
            id,
            between: Some([a, _]),
            ..
        } => resolve(*id, a),
        _ => Vec::new(),
    }
}

/// The last event `host`'s software reported at or before `time_ns`.
fn last_state(record: &RunRecord, host: &str, time_ns: u64) -> Option<String> {
    record
        .trace
        .iter()
        .take_while(|e| e.time_ns <= time_ns)
        .filter(|e| e.kind == TraceKind::Log && e.source == host)
        .last()
        .map(|e| format!("{}: {}", e.target.as_deref().unwrap_or("?"), e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins_fall_in_signed_power_of_two_buckets() {
        assert_eq!(bucket(0.0), 0);
        assert_eq!(bucket(1.0), 1);
        assert_eq!(bucket(3.0), 2);
        assert_eq!(bucket(4.0), 3);
        assert_eq!(bucket(-0.5), 0);
        assert_eq!(bucket(-4.0), -3);
        assert_eq!(bucket(f64::NAN), 0);
    }
}
