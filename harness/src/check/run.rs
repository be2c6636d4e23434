//! The `run` verdict: did the simulation do the work its scenario asked
//! for? Every other verdict judges what happened; this one says whether
//! enough happened to judge. It fails when the simulation did not finish
//! (a hang, a panic, a host whose software failed), and is `unknown` when
//! it finished without testing what the scenario describes: plan events
//! due within the workload never applied (typically because the workload
//! stopped at `workload.max_ops` first, which it then names as the knob),
//! or no client issued an operation. A cap reached after every fault was
//! applied only shaped the workload: the verdict passes and says so.

use super::Verdict;
use crate::duration::format_duration;
use crate::history::FINAL_READER_PROCESS;
use crate::plan::Plan;
use crate::record::RunRecord;
use std::time::Duration;

pub(super) fn check(plan: &Plan, record: &RunRecord) -> Verdict {
    if !record.end.is_completed() {
        return Verdict::fail("run", record.end.describe())
            .with_expected("every client finishes within duration + drain, without panics");
    }
    let expected =
        "the workload runs for simulation.duration and every fault of the plan is applied";
    let due: Vec<_> = plan
        .events
        .iter()
        .enumerate()
        .filter(|(i, e)| *i >= record.plan_events_applied && e.at <= plan.duration)
        .map(|(_, e)| e)
        .collect();
    let never_applied = match due.first() {
        Some(first) => format!(
            "; {} of the plan's events due within the workload never applied (the first: {} at {})",
            due.len(),
            first.action.describe(),
            format_duration(first.at)
        ),
        None => String::new(),
    };
    let capped = record.max_ops_reached_ns.map(|at_ns| {
        format!(
            "the workload stopped at workload.max_ops = {} operations at {}, before simulation.duration = {}",
            plan.workload.max_ops,
            format_duration(Duration::from_nanos(at_ns)),
            format_duration(plan.duration),
        )
    });
    if let (Some(at_ns), Some(capped), false) = (record.max_ops_reached_ns, &capped, due.is_empty())
    {
        return Verdict::unknown(
            "run",
            format!(
                "{capped}{never_applied}: raise workload.max_ops (or lower workload.clients or workload.rate)"
            ),
        )
        .with_expected(expected)
        .with_detail("max_ops", plan.workload.max_ops)
        .with_detail("max_ops_reached_ns", at_ns);
    }
    if !due.is_empty() {
        return Verdict::unknown(
            "run",
            format!(
                "the run ended at {} before its plan finished{never_applied}",
                format_duration(record.elapsed)
            ),
        )
        .with_expected(expected);
    }
    let issued = record.history.dropped_events > 0
        || record
            .history
            .events
            .iter()
            .any(|e| e.process < FINAL_READER_PROCESS);
    if !issued {
        return Verdict::unknown(
            "run",
            format!(
                "no client issued an operation in {}: at workload.rate = {} per client the first think time (1/rate ± 50%) outlasts the workload; raise workload.rate or simulation.duration",
                format_duration(plan.duration),
                plan.workload.rate
            ),
        )
        .with_expected(expected);
    }
    let summary = format!("completed in {} steps", record.steps);
    match capped {
        // Every fault happened; the cap only shaped the workload (some
        // scenarios use it for a burst of exactly N operations).
        Some(capped) => Verdict::pass("run", format!("{summary}; {capped}"))
            .with_detail("max_ops", plan.workload.max_ops),
        None => Verdict::pass("run", summary),
    }
}
