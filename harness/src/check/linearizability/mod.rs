//! Linearizability: did every operation appear to take effect atomically,
//! at one instant between its invocation and its completion, in an order
//! that a single sequential copy of the object (the [`Model`]) allows?
//!
//! **Failure model.** An `ok` operation took effect in its interval. An
//! `info` operation, and one that never completed, may have taken effect
//! at any instant after its invocation, or never: its completion is at
//! infinity and linearizing it is optional. A read with an unknown outcome
//! constrains nothing and is dropped. A `fail` operation certainly did not
//! take effect, so it is dropped, unless the system answered it (no
//! `error`) and the answer says something: a `cas` that failed its
//! comparison read, at one instant in its interval, a value other than the
//! one it expected, and is checked as such a read (see
//! [`HistoryModel::translate_failed`]). Real-time order is the order of
//! events in the history (times are not consulted).
//!
//! **Algorithm.** Wing & Gong's search with Lowe's memoisation (see
//! [`search`]): depth-first over "which pending operation takes effect
//! next", remembering every (set of linearized operations, model state)
//! configuration already explored, in a table with a fixed hasher so that
//! the search order and the verdict are the same on every run. Independent
//! keys are checked apart and in parallel (P-compositionality: a history is
//! linearizable exactly when each key's sub-history is), in rounds of a
//! growing per-key state budget (see [`rounds`]), so that a key that fails
//! quickly is found whatever the other keys cost, and the same key is
//! reported every time.
//!
//! **Budget.** Each key's search may memoise at most
//! [`Budget::max_states`] configurations within [`Budget::max_memory_bytes`];
//! running out gives `unknown`, never `pass`, and the verdict names every
//! key left undecided. Scenarios set both in `[invariants.linearizable]`,
//! `check-history` with `--max-states` and `--max-memory-bytes`. An
//! optional wall-clock deadline exists for interactive use; verdicts that
//! hit it are not reproducible, which is why it is off by default.
//!
//! **Verdict.** On failure: the key, the operation the deepest attempt
//! could not linearize, what it should have seen, as evidence the events
//! of that operation, of the last operations linearized before it and of
//! the operations concurrent with it, and the keys still undecided when
//! the check stopped.

mod entries;
mod memo;
mod model;
mod models;
mod parallel;
mod portfolio;
mod report;
mod rounds;
mod search;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_plan;
#[cfg(test)]
mod tests_portfolio;
#[cfg(test)]
mod tests_random;
#[cfg(test)]
mod tests_rounds;

pub use memo::{FixedHasher, FixedMap, FixedState};
pub use model::{Completion, HistoryModel, Model, Observed, SearchOp};
pub use models::{
    Counter, CounterInput, Kv, KvInput, ModelKind, Queue, QueueInput, Register, RegisterInput,
    UnknownModel,
};
pub use rounds::{FIRST_ROUND_STATES, ROUND_GROWTH};
pub use search::{SearchReport, SearchResult, Stuck};

use crate::check::Verdict;
use crate::history::jepsen::{parse_history, ParseError};
use crate::history::{History, Operation, Outcome};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The invariant's name in scenarios and verdicts.
pub const INVARIANT: &str = "linearizable";

/// Default [`Budget::max_states`]: about a second or two of search on one
/// core, a few hundred MB at most for wide histories.
pub const DEFAULT_MAX_STATES: u64 = 4_000_000;

/// Default [`Budget::max_memory_bytes`] (512 MiB).
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 512 << 20;

/// The largest and smallest budgets a user may set: scenario validation
/// owns the bounds (it runs below the checker).
pub use crate::scenario::{
    LINEARIZABLE_HARD_MAX_STATES as HARD_MAX_STATES,
    LINEARIZABLE_MIN_MAX_MEMORY_BYTES as MIN_MAX_MEMORY_BYTES,
};

/// How to raise the state budget, for messages.
pub const RAISE_MAX_STATES: &str =
    "raise max_states ([invariants.linearizable] max_states in a scenario, --max-states for check-history)";

/// How to raise the memory budget, for messages.
pub const RAISE_MAX_MEMORY_BYTES: &str =
    "raise max_memory_bytes ([invariants.linearizable] max_memory_bytes in a scenario, --max-memory-bytes for check-history)";

/// How much searching one check may do before answering `unknown`.
///
/// Both limits apply to each partition (key) separately, so whether a key
/// fits does not depend on the other keys or on how many run at once. At
/// most `available_parallelism` partitions are searched at a time, and the
/// searches kept between rounds hold about one key's memory budget at most
/// together (see [`rounds`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most configurations one partition's search may memoise. Work is
    /// proportional to it (each configuration is expanded once).
    pub max_states: u64,
    /// Most bytes one partition's search may hold in its memo (a
    /// configuration's size grows with the number of operations on the
    /// key) and in the model's own tables (interned strings, queue
    /// contents). The model's share is measured every few thousand steps,
    /// so it can overshoot by what the model interns in between.
    pub max_memory_bytes: u64,
    /// Wall-clock limit for the whole check. Off by default: a verdict that
    /// depends on the wall clock is not reproducible.
    pub deadline: Option<Duration>,
    /// Most threads one check uses at once; `None` for one per core. The
    /// verdict is the same whatever it is.
    pub max_threads: Option<usize>,
}

impl Budget {
    /// The default budget with the limits a user set (`None` keeps the
    /// default), or an error naming the limit (`max_states`,
    /// `max_memory_bytes`) and what it must be.
    pub fn with_limits(
        max_states: Option<u64>,
        max_memory_bytes: Option<u64>,
    ) -> Result<Budget, (&'static str, String)> {
        if let Some(error) =
            crate::scenario::linearizable_budget_error(max_states, max_memory_bytes)
        {
            return Err(error);
        }
        let mut budget = Budget::default();
        if let Some(states) = max_states {
            budget.max_states = states;
        }
        if let Some(bytes) = max_memory_bytes {
            budget.max_memory_bytes = bytes;
        }
        Ok(budget)
    }
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            max_states: DEFAULT_MAX_STATES,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            deadline: None,
            max_threads: None,
        }
    }
}

/// Checks `history` against one of the built-in models.
pub fn check(history: &History, model: ModelKind, budget: &Budget) -> Verdict {
    let name = model.as_str();
    match model {
        ModelKind::Register => check_with(history, budget, name, Register::for_key),
        ModelKind::Kv => check_with(history, budget, name, Kv::for_key),
        ModelKind::Counter => check_with(history, budget, name, Counter::for_key),
        ModelKind::Queue => check_with(history, budget, name, Queue::for_key),
    }
}

/// Parses a history in either Jepsen format and checks it: what
/// `chaos check-history --model register|kv FILE` does with each file.
pub fn check_history_text(
    text: &str,
    model: ModelKind,
    budget: &Budget,
) -> Result<Verdict, ParseError> {
    let history = parse_history(text)?;
    Ok(check(&history, model, budget))
}

/// One key's sub-history, ready to search.
struct Partition<M: Model> {
    key: Option<String>,
    model: M,
    ops: Vec<SearchOp<M::Input, M::Output>>,
    /// For each search operation, its index in the history's operations.
    origin: Vec<usize>,
}

/// Checks `history` with a model of your own: `make` builds a fresh model
/// for each key (`None` for operations without a key); `model_name` names
/// it in messages.
pub fn check_with<M, F>(history: &History, budget: &Budget, model_name: &str, make: F) -> Verdict
where
    M: HistoryModel + Send,
    M::Input: Sync,
    M::Output: Sync,
    M::State: Send,
    F: Fn(Option<&str>) -> M,
{
    let started = Instant::now();
    if history.is_truncated() {
        return Verdict::unknown(
            INVARIANT,
            format!(
                "the history is truncated ({} events were dropped), so linearizability cannot be decided; raise the history limit (RunOptions::history_limit, default {} events)",
                history.dropped_events,
                crate::history::DEFAULT_HISTORY_LIMIT
            ),
        );
    }
    let operations = match history.operations() {
        Ok(operations) => operations,
        Err(malformed) => {
            return Verdict::unknown(INVARIANT, format!("malformed history: {malformed}"))
        }
    };
    let mut partitions = match partition(&operations, &make) {
        Ok(partitions) => partitions,
        Err((op, message)) => {
            return Verdict::unknown(
                INVARIANT,
                format!(
                    "the history does not fit the {model_name} model: event {}: {message}",
                    operations[op].invoke_index
                ),
            )
        }
    };
    let jobs = partitions
        .iter_mut()
        .map(|p| parallel::Job {
            model: &mut p.model,
            ops: &p.ops,
            search: None,
        })
        .collect();
    let limits = parallel::CheckLimits {
        ladder: rounds::Ladder::new(budget.max_states.clamp(1, HARD_MAX_STATES)),
        max_memory_bytes: budget.max_memory_bytes,
        deadline: budget.deadline.map(|d| started + d),
        threads: budget.max_threads.unwrap_or_else(parallel::cores),
    };
    let checked = parallel::run_plan(jobs, &limits);
    report::verdict(
        &report::Context {
            history,
            operations: &operations,
            model_name,
            budget,
        },
        &partitions,
        &checked,
    )
}

/// Splits the operations that may have taken effect by key and translates
/// them for the model, in history order, so that the first error reported
/// is the earliest. Errors carry the index of the operation.
fn partition<M, F>(operations: &[Operation], make: &F) -> Result<Vec<Partition<M>>, (usize, String)>
where
    M: HistoryModel,
    F: Fn(Option<&str>) -> M,
{
    let mut by_key: BTreeMap<Option<&str>, Partition<M>> = BTreeMap::new();
    for (index, op) in operations.iter().enumerate() {
        // A failure with an error (a timeout, a refused connection) says
        // only that the operation did not happen.
        if op.outcome == Outcome::Fail && !op.answered() {
            continue;
        }
        let key = op.key.as_deref();
        let partition = by_key.entry(key).or_insert_with(|| Partition {
            key: key.map(str::to_string),
            model: make(key),
            ops: Vec::new(),
            origin: Vec::new(),
        });
        let translated = if op.outcome == Outcome::Fail {
            match partition.model.translate_failed(op) {
                None => continue,
                Some(observed) => observed.map(|(input, output)| (input, Some(output))),
            }
        } else {
            partition.model.translate(op)
        };
        let (input, output) = translated.map_err(|m| (index, m))?;
        let completion = match (output, op.complete_index) {
            (Some(output), Some(at)) if op.outcome != Outcome::Info => {
                model::Completion::Returned {
                    at: at as u64,
                    output,
                }
            }
            _ => {
                if partition.model.is_read_only(&input) {
                    continue;
                }
                model::Completion::Unknown
            }
        };
        partition.ops.push(SearchOp {
            input,
            invoke_at: op.invoke_index as u64,
            completion,
        });
        partition.origin.push(index);
    }
    Ok(by_key.into_values().filter(|p| !p.ops.is_empty()).collect())
}

/// Searches one set of operations (no partitioning, no history): the
/// engine under [`check_with`], for models whose operations do not come
/// from a [`History`]. Operations with an unknown outcome that the model
/// calls read-only are ignored; indices in the report refer to `ops`.
pub fn check_operations<M: Model>(
    model: &mut M,
    ops: &[SearchOp<M::Input, M::Output>],
    budget: &Budget,
) -> SearchReport<M::State>
where
    M::Input: Clone,
    M::Output: Clone,
{
    let kept: Vec<usize> = (0..ops.len())
        .filter(|&i| !(ops[i].output().is_none() && model.is_read_only(&ops[i].input)))
        .collect();
    let filtered: Vec<SearchOp<M::Input, M::Output>> =
        kept.iter().map(|&i| ops[i].clone()).collect();
    let limits = search::Limits {
        max_states: budget.max_states.clamp(1, HARD_MAX_STATES),
        max_memory_bytes: budget.max_memory_bytes,
        deadline: budget.deadline.map(|d| Instant::now() + d),
        cancelled: &|| false,
    };
    let mut report = portfolio::search(model, &filtered, &limits);
    match &mut report.result {
        SearchResult::Linearizable { order } => {
            for op in order.iter_mut() {
                *op = kept[*op];
            }
        }
        SearchResult::NotLinearizable(stuck) => {
            stuck.op = kept[stuck.op];
            for op in stuck.prefix_tail.iter_mut() {
                *op = kept[*op];
            }
        }
        _ => {}
    }
    report
}
