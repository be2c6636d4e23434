//! Turning search reports into a verdict a person can act on.

use super::model::{Completion, Model};
use super::rounds::{Checked, Outcome, Undecided};
use super::search::Stuck;
use super::{Budget, Partition, INVARIANT, RAISE_MAX_MEMORY_BYTES, RAISE_MAX_STATES};
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
    checked: &Checked<M::State>,
) -> Verdict {
    let operations: usize = partitions.iter().map(|p| p.ops.len()).sum();
    // Every count comes from a round's end, so none depends on threads.
    let states: u64 = checked.keys.iter().map(|k| k.states_explored).sum();
    let with_counts = |verdict: Verdict| {
        verdict
            .with_detail("model", ctx.model_name)
            .with_detail("operations", operations as u64)
            .with_detail("partitions", partitions.len() as u64)
            .with_detail("states_explored", states)
    };
    let undecided: Vec<(usize, Undecided)> = checked
        .keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| match k.outcome {
            Outcome::Undecided(why) => Some((i, why)),
            _ => None,
        })
        .collect();
    let undecided_keys = || {
        serde_json::Value::Array(
            undecided
                .iter()
                .map(|&(i, _)| partitions[i].key.as_deref().into())
                .collect(),
        )
    };

    let failing = checked
        .keys
        .iter()
        .enumerate()
        .find_map(|(i, k)| match &k.outcome {
            Outcome::NotLinearizable(stuck) => Some((i, stuck, k.longest_prefix)),
            _ => None,
        });
    if let Some((index, stuck, longest_prefix)) = failing {
        let mut verdict = with_counts(failure(ctx, &partitions[index], stuck))
            .with_detail("longest_linearizable_prefix", longest_prefix as u64)
            .with_detail("found_within_states", checked.last_round_states);
        if !undecided.is_empty() {
            let keys: Vec<usize> = undecided.iter().map(|&(i, _)| i).collect();
            verdict.summary = format!(
                "{}; found within {} states per key, when {} {} not decided yet",
                verdict.summary,
                checked.last_round_states,
                key_list(partitions, &keys),
                if keys.len() == 1 { "was" } else { "were" }
            );
            verdict = verdict.with_detail("undecided_keys", undecided_keys());
        }
        return verdict;
    }

    if let Some(&(first, _)) = undecided.first() {
        let verdict = with_counts(Verdict::unknown(
            INVARIANT,
            undecided_summary(ctx, partitions, &undecided),
        ))
        .with_detail("undecided_keys", undecided_keys());
        return match &partitions[first].key {
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

/// At most this many keys are named in a summary; the details list all.
const KEYS_NAMED: usize = 8;

/// `key "a"`, `keys "a", "b"`, `keys "a", …, "h" and 3 more`.
fn key_list<M: Model>(partitions: &[Partition<M>], indices: &[usize]) -> String {
    let mut list = String::from(if indices.len() == 1 { "key " } else { "keys " });
    for (n, &i) in indices.iter().take(KEYS_NAMED).enumerate() {
        if n > 0 {
            list.push_str(", ");
        }
        match &partitions[i].key {
            Some(key) => push_quoted(&mut list, key),
            None => list.push_str("(no key)"),
        }
    }
    if indices.len() > KEYS_NAMED {
        list.push_str(&format!(" and {} more", indices.len() - KEYS_NAMED));
    }
    list
}

/// Appends `key` as `{key:?}` would, without the cost of escaping keys
/// that need none (most of them).
fn push_quoted(out: &mut String, key: &str) {
    if key
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        out.push('"');
        out.push_str(key);
        out.push('"');
    } else {
        out.push_str(&format!("{key:?}"));
    }
}

/// Why each undecided key is undecided, grouped by reason, and which knob
/// to raise for each reason.
fn undecided_summary<M: Model>(
    ctx: &Context<'_>,
    partitions: &[Partition<M>],
    undecided: &[(usize, Undecided)],
) -> String {
    let budget = ctx.budget;
    let mut clauses = Vec::new();
    let mut fixes = Vec::new();
    for why in [
        Undecided::Memory,
        Undecided::States,
        Undecided::Time,
        Undecided::Stopped,
    ] {
        let keys: Vec<usize> = undecided
            .iter()
            .filter(|&&(_, w)| w == why)
            .map(|&(i, _)| i)
            .collect();
        if keys.is_empty() {
            continue;
        }
        let (limit, fix) = match why {
            Undecided::Memory => (
                format!(
                    "the memory budget of {} bytes per key",
                    budget.max_memory_bytes
                ),
                Some(RAISE_MAX_MEMORY_BYTES.to_string()),
            ),
            Undecided::States => (
                format!("the budget of {} states per key", budget.max_states),
                Some(RAISE_MAX_STATES.to_string()),
            ),
            Undecided::Time => (
                format!(
                    "the deadline of {} ms",
                    budget.deadline.map_or(0, |d| d.as_millis())
                ),
                Some("raise Budget::deadline".to_string()),
            ),
            Undecided::Stopped => ("the end of the check".to_string(), None),
        };
        // A history without keys is one partition: no key to name.
        let whose = if partitions.len() == 1 && partitions[0].key.is_none() {
            String::new()
        } else {
            format!(" {}", key_list(partitions, &keys))
        };
        clauses.push(format!("could not decide{whose} within {limit}"));
        fixes.extend(fix);
    }
    let counted = if undecided.len() > 1 {
        format!(
            "{} of {} keys undecided: ",
            undecided.len(),
            partitions.len()
        )
    } else {
        String::new()
    };
    let fix = if fixes.is_empty() {
        String::new()
    } else {
        format!("; {} or check a shorter history", fixes.join(", or "))
    };
    format!("{counted}{}{fix}", clauses.join("; "))
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

#[cfg(test)]
mod tests {
    use super::push_quoted;

    #[test]
    fn keys_are_quoted_as_debug_quotes_them() {
        for key in ["a", "x y", "q\"", "b\\", "tab\t", "é", "it's", "", "\u{7f}"] {
            let mut quoted = String::new();
            push_quoted(&mut quoted, key);
            assert_eq!(quoted, format!("{key:?}"));
        }
    }
}
