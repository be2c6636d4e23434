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
use super::Budget;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

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

/// Helper threads start only once a check has run this long on the
/// calling thread. Most checks finish sooner than a thread starts, and on a
/// busy machine a new thread can wait milliseconds for a core.
const HELPERS_AFTER: Duration = Duration::from_micros(500);

/// The number of threads that can run at once. Asked once per process:
/// the answer comes from cgroup files and costs more than a small check.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

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
    let started = Instant::now();
    let count = jobs.len();
    let threads = if count > 1 { cores().min(count) } else { 1 };
    let first_failure = AtomicUsize::new(usize::MAX);
    let next = AtomicUsize::new(0);
    let slots: Vec<Slot<'_, M>> = jobs
        .into_iter()
        .map(|job| Mutex::new((Some(job), None)))
        .collect();

    // Takes jobs in order until none are left. `poll` is called between
    // jobs and now and then during a search.
    let work = |poll: &(dyn Fn() + Sync)| {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = slots.get(index) else {
                break;
            };
            poll();
            if first_failure.load(Ordering::Relaxed) < index {
                continue;
            }
            // Each slot is taken by exactly one thread, so these locks
            // never wait.
            let job = slot.lock().unwrap_or_else(PoisonError::into_inner).0.take();
            let Some(job) = job else { continue };
            let cancelled = || {
                poll();
                first_failure.load(Ordering::Relaxed) < index
            };
            let report = search_one(job.model, job.ops, budget, deadline, &cancelled);
            let report = match report.result {
                SearchResult::Cancelled => None,
                SearchResult::NotLinearizable(_) => {
                    first_failure.fetch_min(index, Ordering::Relaxed);
                    Some(report)
                }
                _ => Some(report),
            };
            slot.lock().unwrap_or_else(PoisonError::into_inner).1 = report;
        }
    };

    std::thread::scope(|scope| {
        let helpers_started = AtomicBool::new(threads <= 1);
        let poll = || {
            if !helpers_started.load(Ordering::Relaxed)
                && started.elapsed() >= HELPERS_AFTER
                && !helpers_started.swap(true, Ordering::Relaxed)
            {
                for _ in 1..threads {
                    scope.spawn(|| work(&|| {}));
                }
            }
        };
        work(&poll);
    });
    slots
        .into_iter()
        .map(|slot| slot.into_inner().unwrap_or_else(PoisonError::into_inner).1)
        .collect()
}

/// Searches one partition within the budget.
pub(crate) fn search_one<M: Model>(
    model: &mut M,
    ops: &[SearchOp<M::Input, M::Output>],
    budget: &Budget,
    deadline: Option<Instant>,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> SearchReport<M::State> {
    let limits = Limits {
        max_states: budget.max_states.min(super::HARD_MAX_STATES),
        max_memory_bytes: budget.max_memory_bytes,
        deadline,
        cancelled,
    };
    search(model, ops, &limits)
}
