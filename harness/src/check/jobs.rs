//! Jobs: a job queue loses no acknowledged job, applies each job's effect
//! exactly once, and processes promptly once the faults are over.
//!
//! # Contract with the target
//!
//! - **Producers** are the workload's `enqueue` operations: the key names a
//!   queue, the value is the job id (unique per run: the workload draws
//!   fresh values). `ok` means the job is durably queued, `fail` that it
//!   certainly is not, `info` that it may be.
//! - **The effect ledger** is what the final read returns
//!   (`workload.final_read`, after every fault is healed): an `ok` `read`
//!   of key `k` by the final reader yields every job of queue `k` whose
//!   effect was applied, as a list of `[job times_applied first_applied_ns]`
//!   (`first_applied_ns` in simulated time since the start of the run). The
//!   target should answer that read only once the queue has drained; while
//!   jobs are still pending it fails the read with an error starting with
//!   `not-drained` (optionally with the ledger so far as its value), and
//!   the final reader retries until the run's drain budget is spent.
//!
//! # What is checked, per queue
//!
//! - **lost**: an `ok` enqueue whose job is not in the ledger (or was
//!   applied zero times), or a queue that never drained;
//! - **duplicated**: a job applied more than once, whatever its enqueue's
//!   outcome (an `info` enqueue may or may not be processed, but only once);
//! - **phantom**: a job in the ledger that was never enqueued on that queue,
//!   or whose enqueue certainly failed;
//! - **late**: an `ok` job first applied more than `max_processing_delay`
//!   after its reference time: its acknowledgement, or the end of the last
//!   fault that began before the job was applied, whichever is later (a
//!   job's clock restarts when a fault that may have held it up ends).
//!
//! A queue with acknowledged jobs whose final read never succeeded, for a
//! reason other than `not-drained`, makes the verdict `unknown`.

use super::availability::percentile;
use super::Verdict;
use crate::history::{Event, OpKind, Operation, Outcome, Value, FINAL_READER_PROCESS};
use crate::plan::Plan;
use crate::scenario::JobsSpec;
use std::collections::BTreeMap;

/// Most jobs shown as evidence.
pub const MAX_EVIDENCE_JOBS: usize = 6;
/// The error prefix of a final read refused because jobs are still pending.
pub const NOT_DRAINED: &str = "not-drained";

/// One job's entry in the effect ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub times_applied: u64,
    pub first_applied_ns: u64,
}

/// Reads a final read's value as a ledger: job id → entry.
pub fn parse_ledger(value: &Value) -> Result<BTreeMap<i64, LedgerEntry>, String> {
    let expected = "expected a list of [job times_applied first_applied_ns]";
    let Value::List(entries) = value else {
        return Err(format!("the final read returned {value}: {expected}"));
    };
    let mut ledger = BTreeMap::new();
    for entry in entries {
        let triple = match entry {
            Value::List(items) if items.len() == 3 => {
                (items[0].as_int(), items[1].as_int(), items[2].as_int())
            }
            _ => (None, None, None),
        };
        let (Some(job), Some(times), Some(first)) = triple else {
            return Err(format!("ledger entry {entry}: {expected}"));
        };
        if times < 0 || first < 0 {
            return Err(format!("ledger entry {entry}: negative count or time"));
        }
        if ledger
            .insert(
                job,
                LedgerEntry {
                    times_applied: times as u64,
                    first_applied_ns: first as u64,
                },
            )
            .is_some()
        {
            return Err(format!("job {job} appears twice in the ledger"));
        }
    }
    Ok(ledger)
}

/// What went wrong with one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Problem {
    Lost,
    Duplicated,
    Phantom,
    Late,
}

impl Problem {
    fn as_str(self) -> &'static str {
        match self {
            Problem::Lost => "lost",
            Problem::Duplicated => "duplicated",
            Problem::Phantom => "phantom",
            Problem::Late => "late",
        }
    }
}

struct Finding<'a> {
    problem: Problem,
    key: &'a str,
    job: i64,
    enqueue: Option<&'a Operation>,
    why: String,
}

/// The time a job's processing clock starts: its acknowledgement, pushed
/// to the end of every fault that began before the job was applied.
fn reference_ns(plan: &Plan, acked_ns: u64, applied_ns: u64) -> Option<u64> {
    let mut reference = acked_ns;
    for window in &plan.fault_windows {
        let start = window.start.as_nanos() as u64;
        if start >= applied_ns {
            continue;
        }
        match window.end {
            // Applied while a fault that never healed was active: no bound.
            None => return None,
            Some(end) => reference = reference.max(end.as_nanos() as u64),
        }
    }
    Some(reference)
}

fn ms(ns: u64) -> f64 {
    (ns as f64 / 1e6 * 10.0).round() / 10.0
}

pub fn check(ops: &[Operation], events: &[Event], plan: &Plan, spec: &JobsSpec) -> Verdict {
    let max_delay_ns = spec.max_processing_delay.as_nanos() as u64;
    let mut enqueues: BTreeMap<&str, BTreeMap<i64, &Operation>> = BTreeMap::new();
    let mut finals: BTreeMap<&str, &Operation> = BTreeMap::new();
    let mut refused: BTreeMap<&str, &Operation> = BTreeMap::new();
    let mut untyped = 0u64;
    for op in ops {
        let key = op.key.as_deref().unwrap_or("");
        if op.process >= FINAL_READER_PROCESS {
            if op.f != OpKind::Read {
                continue;
            }
            if op.outcome == Outcome::Ok {
                finals.insert(key, op);
            } else if op
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with(NOT_DRAINED))
            {
                refused.insert(key, op);
            }
        } else if op.f == OpKind::Enqueue {
            match op.input.as_int() {
                // Workload job ids are unique; keep the first if not.
                Some(job) => {
                    enqueues.entry(key).or_default().entry(job).or_insert(op);
                }
                None => untyped += 1,
            }
        }
    }
    if untyped > 0 {
        return Verdict::unknown(
            "jobs",
            format!("{untyped} enqueues carry no integer job id"),
        );
    }

    let count = |outcome: Outcome| {
        enqueues
            .values()
            .flat_map(|jobs| jobs.values())
            .filter(|o| o.outcome == outcome)
            .count() as u64
    };
    let (acked, unknown, failed) = (
        count(Outcome::Ok),
        count(Outcome::Info),
        count(Outcome::Fail),
    );

    let mut findings: Vec<Finding> = Vec::new();
    let mut undrained: Vec<&Operation> = Vec::new();
    let mut unread: Vec<&str> = Vec::new();
    let mut delays: Vec<u64> = Vec::new();
    let mut processed = 0u64;
    let mut ledger_reads: BTreeMap<&str, &Operation> = BTreeMap::new();
    let mut unknown_processed = 0u64;
    let keys: std::collections::BTreeSet<&str> =
        enqueues.keys().chain(finals.keys()).copied().collect();
    let empty = BTreeMap::new();
    for key in keys {
        let jobs = enqueues.get(key).unwrap_or(&empty);
        // A drained queue's ledger is complete; a refused read may carry
        // the ledger so far, which still shows duplicates and phantoms.
        let (ledger_read, complete) = match (finals.get(key), refused.get(key)) {
            (Some(op), _) => (*op, true),
            (None, Some(op)) => {
                if jobs.values().any(|o| o.outcome == Outcome::Ok) {
                    undrained.push(op);
                }
                if !matches!(op.output, Value::List(_)) {
                    continue;
                }
                (*op, false)
            }
            (None, None) => {
                if jobs.values().any(|o| o.outcome == Outcome::Ok) {
                    unread.push(key);
                }
                continue;
            }
        };
        let ledger = match parse_ledger(&ledger_read.output) {
            Ok(ledger) => ledger,
            Err(err) => {
                return Verdict::unknown("jobs", format!("key {key}: {err}"))
                    .with_evidence(op_events(events, ledger_read));
            }
        };
        if complete {
            ledger_reads.insert(key, ledger_read);
        }
        for (job, op) in jobs {
            let entry = ledger.get(job).filter(|e| e.times_applied > 0);
            match (op.outcome, entry) {
                (Outcome::Ok, None) if !complete => {}
                (Outcome::Ok, None) => findings.push(Finding {
                    problem: Problem::Lost,
                    key,
                    job: *job,
                    enqueue: Some(op),
                    why: "acknowledged, but its effect is not in the ledger".into(),
                }),
                (Outcome::Ok, Some(entry)) => {
                    processed += 1;
                    let acked_ns = op.complete_ns.unwrap_or(op.invoke_ns);
                    if let Some(reference) = reference_ns(plan, acked_ns, entry.first_applied_ns) {
                        let delay = entry.first_applied_ns.saturating_sub(reference);
                        delays.push(delay);
                        if delay > max_delay_ns {
                            findings.push(Finding {
                                problem: Problem::Late,
                                key,
                                job: *job,
                                enqueue: Some(op),
                                why: format!(
                                    "first applied {}ms after {}ms",
                                    ms(delay),
                                    ms(reference)
                                ),
                            });
                        }
                    }
                }
                (Outcome::Info, Some(_)) => unknown_processed += 1,
                (Outcome::Fail, Some(_)) => findings.push(Finding {
                    problem: Problem::Phantom,
                    key,
                    job: *job,
                    enqueue: Some(op),
                    why: "its enqueue failed, yet its effect was applied".into(),
                }),
                (_, None) => {}
            }
        }
        for (job, entry) in &ledger {
            if entry.times_applied > 1 {
                findings.push(Finding {
                    problem: Problem::Duplicated,
                    key,
                    job: *job,
                    enqueue: jobs.get(job).copied(),
                    why: format!("effect applied {} times", entry.times_applied),
                });
            }
            if entry.times_applied > 0 && !jobs.contains_key(job) {
                findings.push(Finding {
                    problem: Problem::Phantom,
                    key,
                    job: *job,
                    enqueue: None,
                    why: "never enqueued on this queue, yet applied".into(),
                });
            }
        }
    }

    delays.sort_unstable();
    findings.sort_by_key(|f| (f.problem, f.key, f.job));
    let tally = |p: Problem| findings.iter().filter(|f| f.problem == p).count() as u64;
    let mut verdict_details = serde_json::Map::new();
    for (name, value) in [
        ("enqueued_ok", acked),
        ("enqueued_info", unknown),
        ("enqueued_fail", failed),
        ("processed", processed),
        ("info_processed", unknown_processed),
        ("lost", tally(Problem::Lost)),
        ("duplicated", tally(Problem::Duplicated)),
        ("phantom", tally(Problem::Phantom)),
        ("late", tally(Problem::Late)),
        ("undrained_queues", undrained.len() as u64),
    ] {
        verdict_details.insert(name.into(), value.into());
    }
    verdict_details.insert(
        "processing_delay".into(),
        serde_json::json!({
            "p50_ms": ms(percentile(&delays, 50.0)),
            "p90_ms": ms(percentile(&delays, 90.0)),
            "p99_ms": ms(percentile(&delays, 99.0)),
            "max_ms": ms(delays.last().copied().unwrap_or(0)),
        }),
    );
    let with_details = |mut v: Verdict| {
        v.details = verdict_details.clone();
        v
    };

    if !findings.is_empty() || !undrained.is_empty() {
        let mut parts: Vec<String> = [
            Problem::Lost,
            Problem::Duplicated,
            Problem::Phantom,
            Problem::Late,
        ]
        .into_iter()
        .filter(|p| tally(*p) > 0)
        .map(|p| format!("{} {}", tally(p), p.as_str()))
        .collect();
        if !undrained.is_empty() {
            parts.push(format!("{} queue(s) never drained", undrained.len()));
        }
        let first = match findings.first() {
            Some(f) => format!(
                "; first: job {} on {} {} ({})",
                f.job,
                f.key,
                f.problem.as_str(),
                f.why
            ),
            None => format!(
                "; the final read of {} kept answering {}",
                undrained[0].key.as_deref().unwrap_or("-"),
                undrained[0].error.as_deref().unwrap_or(NOT_DRAINED)
            ),
        };
        let mut evidence = Vec::new();
        for f in findings.iter().take(MAX_EVIDENCE_JOBS) {
            if let Some(op) = f.enqueue {
                evidence.extend(op_events(events, op));
            }
        }
        let mut shown_finals: Vec<&str> = findings
            .iter()
            .take(MAX_EVIDENCE_JOBS)
            .map(|f| f.key)
            .collect();
        shown_finals.dedup();
        for key in shown_finals {
            if let Some(op) = ledger_reads.get(key) {
                evidence.extend(op_events(events, op));
            }
        }
        for op in &undrained {
            evidence.extend(op_events(events, op));
        }
        let mut verdict = with_details(
            Verdict::fail("jobs", format!("{}{first}", parts.join(", ")))
                .with_expected(format!(
                    "every acknowledged job applied exactly once, within {} of its acknowledgement or of the end of the last fault it waited through",
                    crate::duration::format_duration(spec.max_processing_delay)
                ))
                .with_evidence(evidence),
        );
        let listed: Vec<serde_json::Value> = findings
            .iter()
            .take(MAX_EVIDENCE_JOBS * 4)
            .map(|f| {
                serde_json::json!({
                    "problem": f.problem.as_str(),
                    "key": f.key,
                    "job": f.job,
                    "why": f.why,
                })
            })
            .collect();
        verdict = verdict.with_detail("jobs", listed);
        return verdict;
    }
    if !unread.is_empty() {
        return with_details(Verdict::unknown(
            "jobs",
            format!(
                "the final ledger read of {} never succeeded ({acked} acknowledged jobs)",
                unread.join(", ")
            ),
        ));
    }
    with_details(Verdict::pass(
        "jobs",
        format!(
            "all {acked} acknowledged jobs applied exactly once ({unknown_processed} of {unknown} unknown-outcome jobs too), p99 delay {}ms",
            ms(percentile(&delays, 99.0))
        ),
    ))
}

fn op_events(events: &[Event], op: &Operation) -> Vec<Event> {
    let mut out = vec![events[op.invoke_index].clone()];
    if let Some(i) = op.complete_index {
        out.push(events[i].clone());
    }
    out
}
