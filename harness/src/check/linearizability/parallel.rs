//! Searching independent partitions at once.
//!
//! Partitions (keys) are independent, so a history is linearizable exactly
//! when each of them is (P-compositionality). Threads take work from the
//! [`Plan`] (which partition to search on, and how far) until none is
//! left; each partition's search is kept between pieces of work so that
//! the next piece carries on where the last one stopped. A search no longer
//! needed as far as it was asked (another partition failed earlier) is
//! stopped. None of this shows in the report: the plan reports only what
//! does not depend on which thread got where first.

use super::model::{Model, SearchOp};
use super::portfolio::Portfolio;
use super::rounds::{need_packed, Checked, Item, Ladder, Plan};
use super::search::{Limits, SearchResult};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// One partition: its own model value, its operations and, once started,
/// its search.
pub(crate) struct Job<'a, M: Model> {
    pub model: &'a mut M,
    pub ops: &'a [SearchOp<M::Input, M::Output>],
    pub search: Option<Portfolio<M::State>>,
}

/// The limits every search of one check shares.
pub(crate) struct CheckLimits {
    pub ladder: Ladder,
    pub max_memory_bytes: u64,
    pub deadline: Option<Instant>,
    /// Most threads to search with.
    pub threads: usize,
}

/// Helper threads start only once a check's searches have run this long on
/// the calling thread. Most checks finish sooner than a thread starts, and
/// on a busy machine a new thread can wait milliseconds for a core.
const HELPERS_AFTER: Duration = Duration::from_micros(500);

/// The number of threads that can run at once. Asked once per process:
/// the answer comes from cgroup files and costs more than a small check.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Searches the jobs as the plan says until it has no work left, and
/// returns what it found.
pub(crate) fn run_plan<M>(jobs: Vec<Job<'_, M>>, limits: &CheckLimits) -> Checked<M::State>
where
    M: Model + Send,
    M::Input: Sync,
    M::Output: Sync,
    M::State: Send,
{
    let started = Instant::now();
    let count = jobs.len();
    let threads = limits.threads.clamp(1, count.max(1));
    let plan = Mutex::new(Plan::new(count, limits.ladder, limits.max_memory_bytes));
    // Wakes threads waiting for work when a search stops; `waiting` (read
    // and written under the plan's lock) spares the wake-up call when no
    // thread waits, as in every check that runs on one thread.
    let stopped = Condvar::new();
    let waiting = AtomicUsize::new(0);
    // The plan's first failure, for searches to read without the lock.
    let first_failure = AtomicU64::new(u64::MAX);
    let jobs: Vec<Mutex<Job<'_, M>>> = jobs.into_iter().map(Mutex::new).collect();
    let lock_plan = || plan.lock().unwrap_or_else(PoisonError::into_inner);

    // Takes work until the plan has none and nothing runs that could make
    // more. `poll` is called between pieces of work and now and then
    // during a search.
    let work = |thread: usize, poll: &(dyn Fn() + Sync)| {
        let mut guard = lock_plan();
        loop {
            let Some(item) = guard.next(thread) else {
                if guard.running() == 0 {
                    break;
                }
                waiting.fetch_add(1, Ordering::Relaxed);
                guard = stopped.wait(guard).unwrap_or_else(PoisonError::into_inner);
                waiting.fetch_sub(1, Ordering::Relaxed);
                continue;
            };
            drop(guard);
            poll();
            let (report, paused_bytes) = {
                // Only the thread holding the item touches its job.
                let mut job = jobs[item.key]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                search_item(&mut job, item, limits, &first_failure, poll)
            };
            guard = lock_plan();
            guard.finish(item, report, paused_bytes);
            first_failure.store(guard.first_failure_packed(), Ordering::Relaxed);
            if waiting.load(Ordering::Relaxed) > 0 {
                stopped.notify_all();
            }
        }
        if waiting.load(Ordering::Relaxed) > 0 {
            stopped.notify_all();
        }
        drop(guard);
    };

    std::thread::scope(|scope| {
        let helpers_started = AtomicBool::new(threads <= 1);
        let poll = || {
            if !helpers_started.load(Ordering::Relaxed)
                && started.elapsed() >= HELPERS_AFTER
                && !helpers_started.swap(true, Ordering::Relaxed)
            {
                for thread in 1..threads {
                    let work = &work;
                    scope.spawn(move || work(thread, &|| {}));
                }
            }
        };
        work(0, &poll);
    });
    plan.into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_checked()
}

/// Searches one job on to `item.target` states (or until it is no longer
/// needed that far): the report, and the bytes the search keeps if it may
/// go on.
fn search_item<M: Model>(
    job: &mut Job<'_, M>,
    item: Item,
    limits: &CheckLimits,
    first_failure: &AtomicU64,
    poll: &(dyn Fn() + Sync),
) -> (super::search::SearchReport<M::State>, u64) {
    let cancelled = || {
        poll();
        need_packed(
            limits.ladder,
            first_failure.load(Ordering::Relaxed),
            item.key,
        ) < item.target
    };
    let search_limits = Limits {
        max_states: item.target,
        max_memory_bytes: limits.max_memory_bytes,
        deadline: limits.deadline,
        cancelled: &cancelled,
    };
    let Job {
        model,
        ops,
        search: slot,
    } = job;
    let search = slot.get_or_insert_with(|| {
        Portfolio::new(*model, ops, limits.max_memory_bytes, limits.ladder.first())
    });
    let report = search.run(*model, ops, &search_limits);
    if matches!(
        report.result,
        SearchResult::OutOfStates | SearchResult::Cancelled
    ) {
        let bytes = search.memory_bytes();
        (report, bytes)
    } else {
        // Decided: free its memory now, for the next search to reuse.
        *slot = None;
        (report, 0)
    }
}
