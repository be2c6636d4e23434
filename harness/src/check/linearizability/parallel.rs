//! Searching independent partitions at once, one round at a time.
//!
//! Partitions (keys) are independent, so a history is linearizable exactly
//! when each of them is (P-compositionality). In a round, every partition
//! still undecided is searched on, up to the round's state budget; they are
//! handed out in key order to at most `available_parallelism` threads, and
//! each search is kept between rounds so that the next round carries on
//! where this one stopped. Once a partition fails, the partitions after it
//! are skipped or stopped: the verdict names the first failing one, and
//! what those after it found in this round (which depends on the threads)
//! is never counted. Those before it always finish the round, so which one
//! is first does not depend on the threads.

use super::model::{Model, SearchOp};
use super::search::{Limits, Search, SearchReport, SearchResult};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// One partition: its own model value, its operations and, once started,
/// its search.
pub(crate) struct Job<'a, M: Model> {
    pub model: &'a mut M,
    pub ops: &'a [SearchOp<M::Input, M::Output>],
    pub search: Option<Search<M::State>>,
}

/// What one round asks of the searches.
pub(crate) struct Round {
    /// Each partition searches on until it has memoised this many states.
    pub max_states: u64,
    pub max_memory_bytes: u64,
    pub deadline: Option<Instant>,
    /// Most threads to search with.
    pub threads: usize,
    /// When the first round started (helper threads start only once the
    /// searches have run a while).
    pub searches_started: Instant,
}

/// A job waiting for a thread, and then its report.
type Slot<'a, 'j, M> = Mutex<(
    Option<&'j mut Job<'a, M>>,
    Option<SearchReport<<M as Model>::State>>,
)>;

/// Helper threads start only once a check's searches have run this long on
/// the calling thread. Most checks finish sooner than a thread starts, and on a
/// busy machine a new thread can wait milliseconds for a core.
const HELPERS_AFTER: Duration = Duration::from_micros(500);

/// The number of threads that can run at once. Asked once per process:
/// the answer comes from cgroup files and costs more than a small check.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Searches every job on, up to the round's budget; `None` for jobs
/// skipped or stopped because an earlier one failed.
pub(crate) fn run_round<'a, M>(
    jobs: Vec<&mut Job<'a, M>>,
    round: &Round,
) -> Vec<Option<SearchReport<M::State>>>
where
    M: Model + Send,
    M::Input: Sync,
    M::Output: Sync,
    M::State: Send,
{
    let count = jobs.len();
    let threads = round.threads.clamp(1, count.max(1));
    let first_failure = AtomicUsize::new(usize::MAX);
    let next = AtomicUsize::new(0);
    let slots: Vec<Slot<'a, '_, M>> = jobs
        .into_iter()
        .map(|job| Mutex::new((Some(job), None)))
        .collect();
    let stopped = |index: usize| first_failure.load(Ordering::Relaxed) < index;

    // Takes jobs in order until none are left. `poll` is called between
    // jobs and now and then during a search.
    let work = |poll: &(dyn Fn() + Sync)| loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = slots.get(index) else {
            break;
        };
        poll();
        if stopped(index) {
            continue;
        }
        // Each slot is taken by exactly one thread, so these locks never
        // wait.
        let job = slot.lock().unwrap_or_else(PoisonError::into_inner).0.take();
        let Some(job) = job else { continue };
        let cancelled = || {
            poll();
            stopped(index)
        };
        let limits = Limits {
            max_states: round.max_states,
            max_memory_bytes: round.max_memory_bytes,
            deadline: round.deadline,
            cancelled: &cancelled,
        };
        let search = job
            .search
            .get_or_insert_with(|| Search::new(job.model, job.ops, round.max_memory_bytes));
        let report = search.run(job.model, job.ops, &limits);
        // Only a search that ran out of this round's states goes on; the
        // others free their memory now, for the next partition to reuse.
        if !matches!(report.result, SearchResult::OutOfStates) {
            job.search = None;
        }
        let report = match report.result {
            SearchResult::Cancelled => None,
            SearchResult::NotLinearizable(_) => {
                first_failure.fetch_min(index, Ordering::Relaxed);
                Some(report)
            }
            _ => Some(report),
        };
        slot.lock().unwrap_or_else(PoisonError::into_inner).1 = report;
    };

    std::thread::scope(|scope| {
        let helpers_started = AtomicBool::new(threads <= 1);
        let poll = || {
            if !helpers_started.load(Ordering::Relaxed)
                && round.searches_started.elapsed() >= HELPERS_AFTER
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
