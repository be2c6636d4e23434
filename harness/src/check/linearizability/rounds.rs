//! Iterative deepening over keys: answer as soon as the fastest failing
//! key fails, and still say the same thing every time.
//!
//! **Model.** Every key is searched in rounds with a growing per-key state
//! budget: [`FIRST_ROUND_STATES`], then twice as many each round, up to
//! [`super::Budget::max_states`]. A key leaves the rounds once it is decided
//! (linearizable, not linearizable, or out of memory, which no larger state
//! budget can cure). The first round in which some key fails ends the
//! check, and the verdict names the first failing key in key order. Budgets
//! count states, never time, and a search carries on where the previous
//! round left it (see [`super::search::Search`]), so which round a key
//! fails in, and so the verdict, the key and its evidence, depend on the
//! history and the budget only: not on threads, machine or load. A key that
//! cannot be decided therefore costs no more than the round budget while
//! another key fails quickly.
//!
//! **Stopping.** A failure stops the keys after it in its round: the
//! verdict names the first failing key, and whether a later key got further
//! in that round depends on the threads, so the report shows what the
//! later keys had found by the end of the round before. Keys before it
//! always finish the round, so which key fails first does not depend on the
//! threads either.
//!
//! **The last round** runs at the full budget. It comes early when only
//! one key is left (nothing else can fail first) or when the searches kept
//! between rounds together hold more than one key's memory budget (so that
//! many undecided keys never hold many budgets' worth of memory at once).

use super::model::Model;
use super::parallel::{cores, run_round, Job, Round};
use super::search::{SearchResult, Stuck};
use super::{Budget, HARD_MAX_STATES};
use std::time::Instant;

/// The per-key state budget of the first round. Small enough that a key
/// failing within a few thousand states is found in a few milliseconds
/// whatever the other keys do; large enough that small histories (most
/// keys of a run) are decided in the first round.
pub const FIRST_ROUND_STATES: u64 = 1024;

/// What became of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome<S> {
    Linearizable,
    NotLinearizable(Stuck<S>),
    Undecided(Undecided),
}

/// Why a key was left undecided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Undecided {
    /// It used the whole state budget (`max_states`).
    States,
    /// It used the whole memory budget (`max_memory_bytes`).
    Memory,
    /// The wall-clock deadline passed.
    Time,
    /// The check ended (another key failed) before it was decided.
    Stopped,
}

/// One key's result, as far as it can be told the same way every time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyResult<S> {
    pub outcome: Outcome<S>,
    /// Configurations memoised by the end of its last counted round.
    pub states_explored: u64,
    /// The most operations any attempt linearized by then.
    pub longest_prefix: usize,
}

/// Every key's result, in key order, and the budget of the round the
/// check ended in.
pub(crate) struct Checked<S> {
    pub keys: Vec<KeyResult<S>>,
    /// The per-key state budget of the last round run.
    pub last_round_states: u64,
}

/// Searches every job in rounds (see the module documentation).
pub(crate) fn check_in_rounds<M>(
    mut jobs: Vec<Job<'_, M>>,
    budget: &Budget,
    deadline: Option<Instant>,
) -> Checked<M::State>
where
    M: Model + Send,
    M::Input: Sync,
    M::Output: Sync,
    M::State: Send,
{
    let searches_started = Instant::now();
    let max_states = budget.max_states.clamp(1, HARD_MAX_STATES);
    let mut keys: Vec<KeyResult<M::State>> = (0..jobs.len())
        .map(|_| KeyResult {
            outcome: Outcome::Undecided(Undecided::Stopped),
            states_explored: 0,
            longest_prefix: 0,
        })
        .collect();
    let mut live = vec![true; jobs.len()];
    let mut live_count = jobs.len();
    let mut round_states = FIRST_ROUND_STATES.min(max_states);
    loop {
        let kept_bytes: u64 = jobs
            .iter()
            .filter_map(|job| job.search.as_ref())
            .map(|search| search.memory_bytes())
            .sum();
        let last =
            round_states >= max_states || live_count <= 1 || kept_bytes > budget.max_memory_bytes;
        if last {
            round_states = max_states;
        }
        let round = Round {
            max_states: round_states,
            max_memory_bytes: budget.max_memory_bytes,
            deadline,
            threads: budget.max_threads.unwrap_or_else(cores),
            searches_started,
        };
        let indices: Vec<usize> = (0..jobs.len()).filter(|&i| live[i]).collect();
        let in_round: Vec<&mut Job<'_, M>> = jobs
            .iter_mut()
            .zip(&live)
            .filter_map(|(job, &live)| live.then_some(job))
            .collect();
        let reports = run_round(in_round, &round);

        // Keys after the first failure may or may not have got further,
        // depending on the threads: drop what they found.
        let first_failure = reports.iter().position(|r| {
            r.as_ref()
                .is_some_and(|r| matches!(r.result, SearchResult::NotLinearizable(_)))
        });
        let counted = first_failure.map_or(reports.len(), |position| position + 1);
        for (&index, report) in indices.iter().zip(reports).take(counted) {
            let Some(report) = report else { continue };
            let key = &mut keys[index];
            key.states_explored = report.states_explored;
            key.longest_prefix = report.longest_prefix;
            let decided = match report.result {
                SearchResult::Linearizable { .. } => Outcome::Linearizable,
                SearchResult::NotLinearizable(stuck) => Outcome::NotLinearizable(stuck),
                SearchResult::OutOfStates if !last => continue,
                SearchResult::OutOfStates => Outcome::Undecided(Undecided::States),
                SearchResult::OutOfMemory => Outcome::Undecided(Undecided::Memory),
                SearchResult::OutOfTime => Outcome::Undecided(Undecided::Time),
                SearchResult::Cancelled => Outcome::Undecided(Undecided::Stopped),
            };
            key.outcome = decided;
            live[index] = false;
            live_count -= 1;
        }
        if last || first_failure.is_some() || live_count == 0 {
            return Checked {
                keys,
                last_round_states: round_states,
            };
        }
        round_states = round_states.saturating_mul(2);
    }
}
