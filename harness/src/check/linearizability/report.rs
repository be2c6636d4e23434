//! Turning search reports into a verdict a person can act on.

use super::model::{Completion, Model};
use super::search::{SearchReport, SearchResult, Stuck};
use super::{Budget, Partition, INVARIANT};
use crate::check::Verdict;
use crate::history::{History, Operation};

/// At most this many operations concurrent with the stuck one go into the
/// evidence: enough to see what could have interfered, short enough to read.
const CONCURRENT_IN_EVIDENCE: usize = 6;

pub(super) struct Context<'a> {
    pub history: &'a History,
    pub operations: &'a [Operation],
    pub model_name: &'a str,
    pub budget: &'a Budget,
}

pub(super) fn verdict<M: Model>(
    ctx: &Context<'_>,
    partitions: &[Partition<M>],
    reports: &[Option<SearchReport<M::State>>],
) -> Verdict {
    let operations: usize = partitions.iter().map(|p| p.ops.len()).sum();
    // Partitions before the first failure all ran to the end, so counting
    // up to it does not depend on thread timing.
    let first_failure = reports.iter().position(|r| {
        r.as_ref()
            .is_some_and(|r| matches!(r.result, SearchResult::NotLinearizable(_)))
    });
    let counted = first_failure.map_or(reports.len(), |i| i + 1);
    let states: u64 = reports[..counted]
        .iter()
        .flatten()
        .map(|r| r.states_explored)
        .sum();
    let with_counts = |verdict: Verdict| {
        verdict
            .with_detail("model", ctx.model_name)
            .with_detail("operations", operations as u64)
            .with_detail("partitions", partitions.len() as u64)
            .with_detail("states_explored", states)
    };

    if let Some(index) = first_failure {
        let partition = &partitions[index];
        if let Some(Some(SearchReport {
            result: SearchResult::NotLinearizable(stuck),
            longest_prefix,
            ..
        })) = reports.get(index)
        {
            return with_counts(failure(ctx, partition, stuck))
                .with_detail("longest_linearizable_prefix", *longest_prefix as u64);
        }
    }

    for (partition, report) in partitions.iter().zip(reports) {
        let on_key = partition
            .key
            .as_ref()
            .map_or(String::new(), |key| format!(" on key {key:?}"));
        let summary = match report.as_ref().map(|r| &r.result) {
            Some(SearchResult::OutOfStates) => format!(
                "could not decide{on_key} within the budget of {} states (max_states); raise it or check a shorter history",
                ctx.budget.max_states
            ),
            Some(SearchResult::OutOfMemory) => format!(
                "could not decide{on_key} within the memory budget of {} bytes (max_memory_bytes); raise it or check a shorter history",
                ctx.budget.max_memory_bytes
            ),
            Some(SearchResult::OutOfTime) => format!(
                "could not decide{on_key} before the deadline of {} ms; raise it or check a shorter history",
                ctx.budget.deadline.map_or(0, |d| d.as_millis())
            ),
            Some(SearchResult::Cancelled) | None => {
                format!("the search{on_key} was stopped before it finished")
            }
            Some(SearchResult::Linearizable { .. } | SearchResult::NotLinearizable(_)) => {
                continue
            }
        };
        let verdict = with_counts(Verdict::unknown(INVARIANT, summary));
        return match &partition.key {
            Some(key) => verdict.with_detail("key", key.as_str()),
            None => verdict,
        };
    }

    let summary = if operations == 0 {
        "linearizable: no operations that took effect or may have".to_string()
    } else {
        format!(
            "linearizable: {operations} operations in {} partition{}, {states} states explored",
            partitions.len(),
            if partitions.len() == 1 { "" } else { "s" }
        )
    };
    with_counts(Verdict::pass(INVARIANT, summary))
}

fn failure<M: Model>(
    ctx: &Context<'_>,
    partition: &Partition<M>,
    stuck: &Stuck<M::State>,
) -> Verdict {
    let ops = &partition.ops;
    let stuck_op = &ops[stuck.op];
    let described = partition
        .model
        .describe_op(&stuck_op.input, stuck_op.output());
    let operation = &ctx.operations[partition.origin[stuck.op]];
    let events = match operation.complete_index {
        Some(done) => format!("events {}-{}", operation.invoke_index, done),
        None => format!("event {}", operation.invoke_index),
    };
    let key = partition
        .key
        .as_ref()
        .map_or(String::new(), |key| format!("key {key:?}: "));
    let summary = format!(
        "{key}{described} by process {} ({events}) could not be linearized",
        operation.process
    );
    let expected = partition
        .model
        .expectation(&stuck_op.input, stuck_op.output(), &stuck.refused_states)
        .unwrap_or_else(|| {
            format!(
                "{described} to take effect at one instant between its invocation and completion, in an order with the operations before and concurrent with it that the {} model allows; no such order exists",
                ctx.model_name
            )
        });

    let mut chosen: Vec<usize> = vec![stuck.op];
    chosen.extend(&stuck.prefix_tail);
    chosen.extend(concurrent_with(ops, stuck.op, &chosen));
    let mut indices: Vec<usize> = chosen
        .iter()
        .flat_map(|&op| {
            let operation = &ctx.operations[partition.origin[op]];
            [Some(operation.invoke_index), operation.complete_index]
        })
        .flatten()
        .collect();
    indices.sort_unstable();
    indices.dedup();
    let evidence = indices
        .into_iter()
        .filter_map(|i| ctx.history.events.get(i).cloned())
        .collect();

    let verdict = Verdict::fail(INVARIANT, summary)
        .with_expected(expected)
        .with_evidence(evidence);
    match &partition.key {
        Some(key) => verdict.with_detail("key", key.as_str()),
        None => verdict,
    }
}

/// Operations whose interval overlaps `target`'s, nearest invocation
/// first, leaving out those already `chosen`.
fn concurrent_with<I, O>(
    ops: &[super::model::SearchOp<I, O>],
    target: usize,
    chosen: &[usize],
) -> Vec<usize> {
    let start = ops[target].invoke_at;
    let end = match ops[target].completion {
        Completion::Returned { at, .. } => at,
        Completion::Unknown => u64::MAX,
    };
    let mut overlapping: Vec<usize> = (0..ops.len())
        .filter(|i| !chosen.contains(i))
        .filter(|&i| {
            let op = &ops[i];
            let op_end = match op.completion {
                Completion::Returned { at, .. } => at,
                Completion::Unknown => u64::MAX,
            };
            op.invoke_at < end && op_end > start
        })
        .collect();
    overlapping.sort_by_key(|&i| (ops[i].invoke_at.abs_diff(start), i));
    overlapping.truncate(CONCURRENT_IN_EVIDENCE);
    overlapping
}
