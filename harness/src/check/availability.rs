//! Availability: did requests succeed, during faults and after them, and
//! how fast did the system come back?
//!
//! Counted over the workload's operations (the final reads are excluded: they
//! retry until they succeed). An operation counts as successful when it
//! ended `ok`; a degraded answer (from a fallback) counts only when the
//! scenario says so. "During faults" means invoked while any fault window
//! was open; "after heal" means invoked at or after the last heal plus a
//! grace period. The recovery time is the time from the last heal to the
//! start of the first window (of `recovery_window`) whose success ratio is
//! back at the after-heal threshold — a per-run MTTR.
//!
//! "Successful" means the system answered: `ok`, or a `fail` that carries
//! no error (a definite negative answer such as a `cas` whose comparison
//! failed). Timeouts, refused connections and unknown outcomes do not count.

use super::recovery::{Judged, RecoveryReport};
use super::Verdict;
use crate::history::{Operation, Outcome, FINAL_READER_PROCESS};
use crate::plan::Plan;
use crate::scenario::AvailabilitySpec;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// Most failing operations shown as evidence.
pub const MAX_EVIDENCE_OPS: usize = 8;

#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    total: u64,
    ok: u64,
}

impl Tally {
    fn add(&mut self, ok: bool) {
        self.total += 1;
        self.ok += u64::from(ok);
    }

    fn ratio(&self) -> Option<f64> {
        (self.total > 0).then(|| self.ok as f64 / self.total as f64)
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

pub(crate) fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(ns: u64) -> f64 {
    round4(ns as f64 / 1e6)
}

/// Checks availability of a run's operations against the scenario's spec.
pub fn check(
    ops: &[Operation],
    events: &[crate::history::Event],
    plan: &Plan,
    spec: &AvailabilitySpec,
    per_fault: Option<(&RecoveryReport, &Judged)>,
) -> Verdict {
    let workload: Vec<&Operation> = ops
        .iter()
        .filter(|o| o.process < FINAL_READER_PROCESS)
        .collect();
    let succeeded = |o: &Operation| o.answered() && (!o.degraded || spec.degraded_counts_as_ok);
    let at = |ns: u64| Duration::from_nanos(ns);

    let mut overall = Tally::default();
    let mut during = Tally::default();
    let mut after = Tally::default();
    let (mut fails, mut infos, mut degraded) = (0u64, 0u64, 0u64);
    let heal_cutoff = match plan.last_heal {
        Some(heal) => Some(heal + spec.heal_grace),
        None if plan.fault_windows.is_empty() => Some(Duration::ZERO),
        None => None,
    };
    for op in &workload {
        let ok = succeeded(op);
        overall.add(ok);
        if plan.fault_active_at(at(op.invoke_ns)) {
            during.add(ok);
        }
        if heal_cutoff.is_some_and(|cut| at(op.invoke_ns) >= cut) {
            after.add(ok);
        }
        match op.outcome {
            Outcome::Fail => fails += 1,
            Outcome::Info => infos += 1,
            Outcome::Ok if op.degraded => degraded += 1,
            Outcome::Ok => {}
        }
    }

    let mut verdict_details = serde_json::Map::new();
    verdict_details.insert("operations".into(), json!(overall.total));
    verdict_details.insert("ok".into(), json!(overall.ok));
    verdict_details.insert("fail".into(), json!(fails));
    verdict_details.insert("info".into(), json!(infos));
    verdict_details.insert("degraded".into(), json!(degraded));
    let put_ratio = |map: &mut serde_json::Map<String, serde_json::Value>, key: &str, t: Tally| {
        map.insert(
            key.into(),
            t.ratio()
                .map_or(serde_json::Value::Null, |r| json!(round4(r))),
        );
    };
    put_ratio(&mut verdict_details, "ok_ratio", overall);
    put_ratio(&mut verdict_details, "ok_ratio_during_faults", during);
    put_ratio(&mut verdict_details, "ok_ratio_after_heal", after);

    // Recovery time.
    let target_ratio = spec.min_ok_ratio_after_heal.unwrap_or(1.0);
    let recovery = plan.last_heal.and_then(|heal| {
        let window = spec.recovery_window;
        let mut start = heal;
        while start < plan.duration {
            let mut t = Tally::default();
            for op in &workload {
                let invoked = at(op.invoke_ns);
                if invoked >= start && invoked < start + window {
                    t.add(succeeded(op));
                }
            }
            if t.ratio().is_some_and(|r| r >= target_ratio) {
                return Some(start - heal);
            }
            start += window;
        }
        None
    });
    if plan.last_heal.is_some() {
        verdict_details.insert(
            "recovery_time_ms".into(),
            recovery.map_or(serde_json::Value::Null, |d| json!(ms(d.as_nanos() as u64))),
        );
    }

    // Latency per operation kind, over successful operations.
    let mut latencies: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut all_latencies = Vec::new();
    for op in &workload {
        if op.outcome == Outcome::Ok {
            if let Some(l) = op.latency_ns() {
                latencies.entry(op.f.as_str()).or_default().push(l);
                all_latencies.push(l);
            }
        }
    }
    let mut latency_json = serde_json::Map::new();
    for (kind, mut values) in latencies {
        values.sort_unstable();
        latency_json.insert(
            kind.to_string(),
            json!({
                "count": values.len(),
                "p50_ms": ms(percentile(&values, 50.0)),
                "p90_ms": ms(percentile(&values, 90.0)),
                "p99_ms": ms(percentile(&values, 99.0)),
                "max_ms": ms(*values.last().unwrap_or(&0)),
            }),
        );
    }
    all_latencies.sort_unstable();
    let p99_all = percentile(&all_latencies, 99.0);
    verdict_details.insert("latency".into(), serde_json::Value::Object(latency_json));

    // Retry amplification: attempts per logical request, where reported.
    let reported: Vec<u32> = workload
        .iter()
        .map(|o| o.attempts)
        .filter(|a| *a > 0)
        .collect();
    let amplification = (!reported.is_empty()).then(|| {
        reported.iter().map(|a| u64::from(*a)).sum::<u64>() as f64 / reported.len() as f64
    });
    if let Some(a) = amplification {
        verdict_details.insert("retry_amplification".into(), json!(round4(a)));
    }

    // Judge.
    let mut failures: Vec<String> = Vec::new();
    let mut unknowns: Vec<String> = Vec::new();
    // Which operations to show as evidence: those of the period that failed
    // its threshold (the last one judged wins).
    #[derive(Clone, Copy)]
    enum Period {
        Whole,
        DuringFaults,
        AfterHeal(Duration),
    }
    let mut evidence_period = Period::Whole;
    let mut judge = |name: &str, tally: Tally, threshold: Option<f64>| {
        if let Some(min) = threshold {
            match tally.ratio() {
                Some(r) if r < min => {
                    failures.push(format!("{name} ok ratio {:.3} < {min}", r));
                    true
                }
                Some(_) => false,
                None => {
                    unknowns.push(format!("no operations {name} to measure"));
                    false
                }
            }
        } else {
            false
        }
    };
    if judge("overall", overall, spec.min_ok_ratio) {
        evidence_period = Period::Whole;
    }
    if judge("during faults", during, spec.min_ok_ratio_during_faults) {
        evidence_period = Period::DuringFaults;
    }
    if spec.min_ok_ratio_after_heal.is_some() && heal_cutoff.is_none() {
        unknowns.push("faults were never healed, so there is no after-heal period".into());
    } else if judge("after heal", after, spec.min_ok_ratio_after_heal) {
        evidence_period = Period::AfterHeal(heal_cutoff.unwrap_or_default());
    }
    if let Some(max) = spec.max_recovery_time {
        match (plan.last_heal, recovery) {
            (Some(_), Some(r)) if r > max => failures.push(format!(
                "recovery took {} > {}",
                crate::duration::human(r),
                crate::duration::human(max)
            )),
            (Some(_), None) => failures.push(format!(
                "never recovered to ok ratio {target_ratio} after the last heal"
            )),
            _ => {}
        }
    }
    // The per-fault bounds (see `recovery::judge`).
    let mut fault_evidence: Vec<usize> = Vec::new();
    if let Some((report, judged)) = per_fault {
        failures.extend(judged.failures.iter().cloned());
        unknowns.extend(judged.unknowns.iter().cloned());
        for &i in &judged.failed_faults {
            if let Some(impact) = &report.faults[i].impact {
                fault_evidence.extend([impact.invoke_index, impact.complete_index]);
            }
        }
    }
    if let Some(max) = spec.max_p99_latency {
        if Duration::from_nanos(p99_all) > max {
            failures.push(format!(
                "p99 latency {} > {}",
                crate::duration::human(Duration::from_nanos(p99_all)),
                crate::duration::human(max)
            ));
        }
    }
    if let (Some(max), Some(a)) = (spec.max_retry_amplification, amplification) {
        if a > max {
            failures.push(format!("retry amplification {a:.2} > {max}"));
        }
    }

    let ratio_text = |t: Tally| t.ratio().map_or("n/a".to_string(), |r| format!("{r:.3}"));
    let measured = format!(
        "ok ratio {} overall, {} during faults, {} after heal",
        ratio_text(overall),
        ratio_text(during),
        ratio_text(after)
    );
    let mut verdict = if !failures.is_empty() {
        let in_period = |o: &Operation| match evidence_period {
            Period::Whole => true,
            Period::DuringFaults => plan.fault_active_at(at(o.invoke_ns)),
            Period::AfterHeal(cut) => at(o.invoke_ns) >= cut,
        };
        // A fault that recovered too late shows its first failed
        // operation first.
        let mut evidence: Vec<crate::history::Event> = fault_evidence
            .iter()
            .take(2 * MAX_EVIDENCE_OPS)
            .filter_map(|&i| events.get(i).cloned())
            .collect();
        evidence.extend(
            workload
                .iter()
                .filter(|o| !succeeded(o) && in_period(o))
                .take(MAX_EVIDENCE_OPS)
                .flat_map(|o| {
                    std::iter::once(o.invoke_index)
                        .chain(o.complete_index)
                        .map(|i| events[i].clone())
                }),
        );
        Verdict::fail("availability", failures.join("; "))
            .with_expected(expectations(spec))
            .with_evidence(evidence)
    } else if !unknowns.is_empty() {
        Verdict::unknown("availability", unknowns.join("; "))
    } else {
        Verdict::pass("availability", measured.clone())
    };
    verdict.details = verdict_details;
    if verdict.status != super::Status::Pass {
        verdict.summary = format!("{} ({measured})", verdict.summary);
    }
    verdict
}

fn expectations(spec: &AvailabilitySpec) -> String {
    let mut parts = Vec::new();
    if let Some(r) = spec.min_ok_ratio {
        parts.push(format!("ok ratio >= {r} overall"));
    }
    if let Some(r) = spec.min_ok_ratio_during_faults {
        parts.push(format!("ok ratio >= {r} during faults"));
    }
    if let Some(r) = spec.min_ok_ratio_after_heal {
        parts.push(format!("ok ratio >= {r} after the last heal"));
    }
    if let Some(d) = spec.max_recovery_time {
        parts.push(format!("recovery within {}", crate::duration::human(d)));
    }
    if let Some(d) = spec.max_p99_latency {
        parts.push(format!("p99 latency <= {}", crate::duration::human(d)));
    }
    if let Some(a) = spec.max_retry_amplification {
        parts.push(format!("at most {a} attempts per request"));
    }
    if let Some(b) = &spec.max_time_to_detect {
        parts.push(format!("every fault detected within {b}"));
    }
    if let Some(b) = &spec.max_time_to_recover {
        parts.push(format!(
            "every fault recovered from within {b} of its start"
        ));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Event, EventType, History, Op, OpKind, Value};
    use crate::scenario::{FaultEventSpec, ScenarioBuilder, Topology};

    fn plan_with_crash(at_s: u64, for_s: u64) -> Plan {
        let s = ScenarioBuilder::new("t", "x")
            .duration(Duration::from_secs(10))
            .fault(FaultEventSpec::Crash {
                at: Duration::from_secs(at_s),
                duration: Some(Duration::from_secs(for_s)),
                host: "s".into(),
                spread: None,
            })
            .build();
        let topology = Topology {
            servers: vec!["s".into()],
            clients: vec!["client-0".into()],
        };
        crate::plan::expand(&s, &topology, 1)
    }

    /// One op per 100ms from client 0, failing while `down(t)`.
    fn history(down: impl Fn(u64) -> bool) -> History {
        let mut h = History::new();
        for i in 0..100u64 {
            let t = i * 100_000_000;
            let op = Op {
                f: OpKind::Read,
                key: None,
                value: Value::Nil,
            };
            let mk = |kind, time_ns| Event {
                time_ns,
                process: 0,
                kind,
                op: op.clone(),
                attempts: 1,
                degraded: false,
                error: None,
            };
            h.push(mk(EventType::Invoke, t));
            let mut done = mk(
                if down(t) {
                    EventType::Fail
                } else {
                    EventType::Ok
                },
                t + 1_000_000,
            );
            if down(t) {
                done.error = Some("unavailable".into());
            }
            h.push(done);
        }
        h
    }

    #[test]
    fn availability_drops_during_the_fault_and_passes_after_heal() {
        let plan = plan_with_crash(2, 3);
        let h = history(|t| (2_000_000_000..5_000_000_000).contains(&t));
        let spec = AvailabilitySpec {
            min_ok_ratio_after_heal: Some(0.99),
            max_recovery_time: Some(Duration::from_secs(1)),
            ..Default::default()
        };
        let v = check(&h.operations().unwrap(), &h.events, &plan, &spec, None);
        assert_eq!(v.status, super::super::Status::Pass, "{v:?}");
        assert_eq!(v.details["ok_ratio_during_faults"], json!(0.0));
        assert_eq!(v.details["ok_ratio_after_heal"], json!(1.0));
        assert_eq!(v.details["recovery_time_ms"], json!(0.0));
    }

    #[test]
    fn a_slow_recovery_fails_with_evidence_from_after_the_heal() {
        let plan = plan_with_crash(2, 3);
        // Down until 7s although the fault healed at 5s.
        let h = history(|t| (2_000_000_000..7_000_000_000).contains(&t));
        let spec = AvailabilitySpec {
            min_ok_ratio_after_heal: Some(0.9),
            max_recovery_time: Some(Duration::from_secs(1)),
            ..Default::default()
        };
        let v = check(&h.operations().unwrap(), &h.events, &plan, &spec, None);
        assert_eq!(v.status, super::super::Status::Fail);
        assert!(v.summary.contains("after heal"), "{}", v.summary);
        assert!(v.summary.contains("recovery took 2.000s"), "{}", v.summary);
        assert!(!v.evidence.is_empty());
        assert!(v.evidence.iter().all(|e| e.time_ns >= 5_000_000_000));
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
    }
}
