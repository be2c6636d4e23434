//! Checking independent partitions at once.
//!
//! Partitions (keys) are independent, so a history is linearizable exactly
//! when each of them is (P-compositionality). They are handed out in order
//! to at most `available_parallelism` threads. Once one fails, partitions
//! after it are skipped or cancelled; partitions before it always run to
//! the end, so the report (which names the first failing partition and
//! counts the work up to it) is the same whatever the threads did.

use super::model::{Model, SearchOp};
use super::search::{search, Limits, SearchReport, SearchResult};
use super::{memo::Memo, Budget};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// One partition to search: its own model value and its operations.
pub(crate) struct Job<'a, M: Model> {
    pub model: &'a mut M,
    pub ops: &'a [SearchOp<M::Input, M::Output>],
}

/// A job waiting for a thread, and then its report.
type Slot<'a, M> = Mutex<(
    Option<Job<'a, M>>,
    Option<SearchReport<<M as Model>::State>>,
)>;

/// Searches every job; `None` for jobs skipped or cancelled because an
/// earlier one failed.
pub(crate) fn run_all<M>(
    jobs: Vec<Job<'_, M>>,
    budget: &Budget,
    deadline: Option<Instant>,
) -> Vec<Option<SearchReport<M::State>>>
where
    M: Model + Send,
    M::Input: Sync,
    M::Output: Sync,
    M::State: Send,
{
    let count = jobs.len();
    let first_failure = AtomicUsize::new(usize::MAX);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count);

    let run = |index: usize, job: Job<'_, M>| -> Option<SearchReport<M::State>> {
        if first_failure.load(Ordering::Relaxed) < index {
            return None;
        }
        let cancelled = || first_failure.load(Ordering::Relaxed) < index;
        let report = search_one(job.model, job.ops, budget, deadline, &cancelled);
        match report.result {
            SearchResult::Cancelled => None,
            SearchResult::NotLinearizable(_) => {
                first_failure.fetch_min(index, Ordering::Relaxed);
                Some(report)
            }
            _ => Some(report),
        }
    };

    if threads <= 1 {
        return jobs
            .into_iter()
            .enumerate()
            .map(|(index, job)| run(index, job))
            .collect();
    }

    let slots: Vec<Slot<'_, M>> = jobs
        .into_iter()
        .map(|job| Mutex::new((Some(job), None)))
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(slot) = slots.get(index) else {
                    break;
                };
                // Each slot is taken by exactly one thread, so these locks
                // never wait.
                let job = slot.lock().unwrap_or_else(PoisonError::into_inner).0.take();
                if let Some(job) = job {
                    let report = run(index, job);
                    slot.lock().unwrap_or_else(PoisonError::into_inner).1 = report;
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.into_inner().unwrap_or_else(PoisonError::into_inner).1)
        .collect()
}

/// Searches one partition within the budget: the state cap is the
/// smaller of `max_states` and what fits in `max_memory_bytes`.
pub(crate) fn search_one<M: Model>(
    model: &mut M,
    ops: &[SearchOp<M::Input, M::Output>],
    budget: &Budget,
    deadline: Option<Instant>,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> SearchReport<M::State> {
    let words = ops.len().div_ceil(64).max(1);
    let by_memory = budget.max_memory_bytes / Memo::<M::State>::bytes_per_entry(words);
    let limits = Limits {
        max_states: budget.max_states.min(by_memory).min(super::HARD_MAX_STATES),
        deadline,
        cancelled,
    };
    search(model, ops, &limits)
}
