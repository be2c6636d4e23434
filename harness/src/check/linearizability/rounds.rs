//! Iterative deepening over keys: answer as soon as the fastest failing
//! key fails, and still say the same thing every time.
//!
//! **Model.** Budgets form a ladder of rounds: round 0 allows
//! [`FIRST_ROUND_STATES`] states per key, each round four times as many as
//! the one before, up to [`super::Budget::max_states`]. A key's search stops
//! after exactly as many states as it needs, and pausing and resuming it
//! changes nothing (see [`super::search::Search`]), so each key has a
//! round in which it is decided, a function of the history alone: the
//! first whose budget exceeds the states it needs. The verdict names the
//! failing key with the earliest such round, the first in key order among
//! those of that round; every other key is reported as it stands at the
//! budget that choice needed it searched to (keys before the failing one:
//! its round's budget; keys after it: the round before). Budgets count
//! states, never time, so verdict, key, evidence and counts depend on the
//! history and the budget only: not on threads, machine or load. A key that
//! cannot be decided costs no more than the round at which another key
//! fails.
//!
//! **Schedule.** [`Plan`] hands out work: the key with the lowest next
//! round, first in key order, searched on to that round's budget; helper
//! threads never wait for each other between rounds. When another key
//! fails, keys no longer needed that far are stopped. When only one key is
//! left open, it goes straight to the budget it needs (nothing else can
//! fail first), and so does every key once the paused searches together
//! hold more than one key's memory budget (so that many undecided keys
//! never hold many budgets' worth of memory). None of this changes what is
//! reported: only how soon.

use super::search::{SearchReport, SearchResult, Stuck};
use std::collections::BTreeSet;

/// The per-key state budget of the first round. Small enough that a key
/// failing within a few thousand states is found in a few milliseconds
/// whatever the other keys do; large enough that small histories (most
/// keys of a run) are decided in the first round.
pub const FIRST_ROUND_STATES: u64 = 1024;

/// Each round's budget is this many times the one before.
pub const ROUND_GROWTH: u64 = 1 << GROWTH_BITS;

/// Each round's budget is `2^GROWTH_BITS` times the one before: few enough
/// rounds that switching between keys costs little (a resumed search finds
/// its memory out of the caches), many enough that no key is searched much
/// further than the first failure needs.
const GROWTH_BITS: u32 = 2;

/// How far into the queue a thread looks for a key it searched before.
const AFFINITY_SCAN: usize = 8;

/// The budgets of the rounds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ladder {
    first: u64,
    max: u64,
}

impl Ladder {
    /// Rounds from [`FIRST_ROUND_STATES`] (or `max`, if smaller) to `max`.
    pub fn new(max: u64) -> Ladder {
        Ladder {
            first: FIRST_ROUND_STATES.min(max).max(1),
            max: max.max(1),
        }
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The budget of round 0.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// The state budget of `round`.
    pub fn budget(&self, round: u32) -> u64 {
        let shift = round.saturating_mul(GROWTH_BITS);
        match self.first.checked_shl(shift) {
            Some(budget) if budget >> shift == self.first => budget.min(self.max),
            _ => self.max,
        }
    }

    /// The first round whose budget exceeds `states`: the round a search
    /// that ends after `states` states is decided in (a search stops for
    /// its budget right after memoising that many states).
    pub fn round_of(&self, states: u64) -> u32 {
        let mut round = 0;
        while self.budget(round) <= states && self.budget(round) < self.max {
            round += 1;
        }
        round
    }
}

/// How a key's search ended, once it did.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ended<S> {
    Linearizable,
    NotLinearizable(Stuck<S>),
    OutOfMemory,
    OutOfTime,
}

/// One key as the plan sees it.
struct KeyPlan<S> {
    /// States memoised so far (while undecided).
    progress: u64,
    /// How its search ended, the states it had then and its longest
    /// linearized prefix.
    ended: Option<(Ended<S>, u64, usize)>,
    /// Bytes its paused search holds.
    paused_bytes: u64,
    /// Searched as far as the verdict needs, or running to get there.
    closed: bool,
    running: bool,
    /// The thread that searched it last.
    thread: Option<usize>,
}

/// One piece of work: search `key` on until `target` states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub key: usize,
    pub target: u64,
}

/// What to search next, and what has been found (see the module
/// documentation). Keys are indices in key order.
pub(crate) struct Plan<S> {
    ladder: Ladder,
    max_memory_bytes: u64,
    keys: Vec<KeyPlan<S>>,
    /// Keys waiting for a thread, by the round they go on to, then key.
    queue: BTreeSet<(u32, usize)>,
    /// The earliest failure so far: (round, key).
    first_failure: Option<(u32, usize)>,
    /// Keys not yet searched as far as the verdict needs.
    open: usize,
    running: usize,
    paused_bytes: u64,
}

impl<S> Plan<S> {
    pub fn new(keys: usize, ladder: Ladder, max_memory_bytes: u64) -> Plan<S> {
        Plan {
            ladder,
            max_memory_bytes,
            keys: (0..keys)
                .map(|_| KeyPlan {
                    progress: 0,
                    ended: None,
                    paused_bytes: 0,
                    closed: false,
                    running: false,
                    thread: None,
                })
                .collect(),
            queue: (0..keys).map(|key| (0, key)).collect(),
            first_failure: None,
            open: keys,
            running: 0,
            paused_bytes: 0,
        }
    }

    /// The states `key` must be searched to: everything while no key has
    /// failed; once one has, as far as could still make it the first
    /// failure (its round for keys before it, the round before for keys
    /// after it).
    pub fn need(&self, key: usize) -> u64 {
        need(self.ladder, self.first_failure, key)
    }

    fn is_settled(&self, key: usize) -> bool {
        let k = &self.keys[key];
        k.ended.is_some() || k.progress >= self.need(key)
    }

    /// Closes every open key that no longer needs searching.
    fn close_settled(&mut self) {
        for key in 0..self.keys.len() {
            if !self.keys[key].closed && self.is_settled(key) {
                self.keys[key].closed = true;
                self.open -= 1;
            }
        }
    }

    /// The next search for thread `thread` to run, if any can start now:
    /// the first in the queue, or, among the first few of its round, one
    /// this thread searched before (its memory is nearer, in the caches
    /// and in the allocator).
    pub fn next(&mut self, thread: usize) -> Option<Item> {
        loop {
            let &(round, first) = self.queue.first()?;
            let (round, key) = self
                .queue
                .iter()
                .take(AFFINITY_SCAN)
                .take_while(|&&(r, _)| r == round)
                .find(|&&(_, key)| self.keys[key].thread == Some(thread))
                .copied()
                .unwrap_or((round, first));
            self.queue.remove(&(round, key));
            if self.keys[key].closed || self.is_settled(key) {
                continue;
            }
            let need = self.need(key);
            // Budgets are states, so how far a search runs in one go is
            // the schedule's business only.
            let target = if self.open == 1 || self.paused_bytes > self.max_memory_bytes {
                need
            } else {
                self.ladder.budget(round).min(need)
            };
            let k = &mut self.keys[key];
            k.running = true;
            k.thread = Some(thread);
            self.paused_bytes -= std::mem::take(&mut k.paused_bytes);
            self.running += 1;
            return Some(Item { key, target });
        }
    }

    /// Whether searches are still running (which may queue more work).
    pub fn running(&self) -> usize {
        self.running
    }

    /// The earliest failure so far, packed so that a smaller number is an
    /// earlier failure (for [`need_packed`], which threads read without the
    /// plan's lock).
    pub fn first_failure_packed(&self) -> u64 {
        pack(self.first_failure)
    }

    /// Records how a search of `item` stopped; `paused_bytes` is what the
    /// search holds if it can go on.
    pub fn finish(&mut self, item: Item, report: SearchReport<S>, paused_bytes: u64) {
        let key = item.key;
        self.running -= 1;
        self.keys[key].running = false;
        let states = report.states_explored;
        let ended = match report.result {
            SearchResult::OutOfStates | SearchResult::Cancelled => {
                let k = &mut self.keys[key];
                k.progress = states;
                k.paused_bytes = paused_bytes;
                self.paused_bytes += paused_bytes;
                if self.is_settled(key) {
                    self.close(key);
                } else {
                    self.queue.insert((self.ladder.round_of(states), key));
                }
                return;
            }
            SearchResult::Linearizable { .. } => Ended::Linearizable,
            SearchResult::NotLinearizable(stuck) => Ended::NotLinearizable(stuck),
            SearchResult::OutOfMemory => Ended::OutOfMemory,
            SearchResult::OutOfTime => Ended::OutOfTime,
        };
        let failed = matches!(ended, Ended::NotLinearizable(_));
        self.keys[key].ended = Some((ended, states, report.longest_prefix));
        self.close(key);
        if failed {
            let failure = (self.ladder.round_of(states), key);
            if self.first_failure.is_none_or(|first| failure < first) {
                self.first_failure = Some(failure);
                self.close_settled();
            }
        }
    }

    fn close(&mut self, key: usize) {
        if !self.keys[key].closed {
            self.keys[key].closed = true;
            self.open -= 1;
        }
    }

    /// What the verdict reports of each key, once no work is left.
    pub fn into_checked(self) -> Checked<S> {
        let ladder = self.ladder;
        let first_failure = self.first_failure;
        let keys = self
            .keys
            .into_iter()
            .enumerate()
            .map(|(key, k)| {
                let need = need(ladder, first_failure, key);
                match k.ended {
                    // A search may have run past what the verdict needs
                    // (threads ran ahead); what it found there is not
                    // counted, so that the report never depends on them.
                    Some((ended, states, longest_prefix))
                        if states < need || matches!(ended, Ended::OutOfTime) =>
                    {
                        let outcome = match ended {
                            Ended::Linearizable => Outcome::Linearizable,
                            Ended::NotLinearizable(stuck) => Outcome::NotLinearizable(stuck),
                            Ended::OutOfMemory => Outcome::Undecided(Undecided::Memory),
                            Ended::OutOfTime => Outcome::Undecided(Undecided::Time),
                        };
                        KeyResult {
                            outcome,
                            states_explored: states,
                            longest_prefix,
                        }
                    }
                    _ => KeyResult {
                        outcome: Outcome::Undecided(if need >= ladder.max() {
                            Undecided::States
                        } else {
                            Undecided::Stopped
                        }),
                        // It got at least this far without an answer.
                        states_explored: need,
                        longest_prefix: 0,
                    },
                }
            })
            .collect();
        Checked {
            keys,
            last_round_states: first_failure
                .map_or(ladder.max(), |(round, _)| ladder.budget(round)),
        }
    }
}

/// `first_failure` as one number, ordered as failures are: round, then key.
fn pack(first_failure: Option<(u32, usize)>) -> u64 {
    first_failure.map_or(u64::MAX, |(round, key)| {
        (u64::from(round) << 32) | key as u64
    })
}

fn need(ladder: Ladder, first_failure: Option<(u32, usize)>, key: usize) -> u64 {
    match first_failure {
        None => ladder.max(),
        Some((round, first)) if key <= first => ladder.budget(round),
        Some((0, _)) => 0,
        Some((round, _)) => ladder.budget(round - 1),
    }
}

/// [`Plan::need`] from [`Plan::first_failure_packed`], for a search deciding
/// whether to stop without taking the plan's lock.
pub(crate) fn need_packed(ladder: Ladder, first_failure: u64, key: usize) -> u64 {
    let unpacked = (first_failure != u64::MAX).then_some((
        (first_failure >> 32) as u32,
        (first_failure & 0xffff_ffff) as usize,
    ));
    need(ladder, unpacked, key)
}

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
    /// Configurations memoised, as far as the verdict needed the key
    /// searched.
    pub states_explored: u64,
    /// For a failing key, the most operations any attempt linearized.
    pub longest_prefix: usize,
}

/// Every key's result, in key order, and the budget of the round the
/// verdict was found in.
pub(crate) struct Checked<S> {
    pub keys: Vec<KeyResult<S>>,
    /// The round budget of the failure reported; `max_states` otherwise.
    pub last_round_states: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_grow_fourfold_up_to_the_budget() {
        let ladder = Ladder::new(5000);
        let budgets: Vec<u64> = (0..5).map(|r| ladder.budget(r)).collect();
        assert_eq!(budgets, [1024, 4096, 5000, 5000, 5000]);
        assert_eq!(ladder.round_of(0), 0);
        assert_eq!(ladder.round_of(1023), 0);
        assert_eq!(ladder.round_of(1024), 1);
        assert_eq!(ladder.round_of(4999), 2);
        assert_eq!(ladder.round_of(5000), 2);
        assert_eq!(Ladder::new(10).budget(0), 10);
        assert_eq!(Ladder::new(u64::MAX).budget(80), u64::MAX);
    }

    #[test]
    fn a_failure_limits_how_far_other_keys_are_needed() {
        let ladder = Ladder::new(1 << 20);
        assert_eq!(need(ladder, None, 3), 1 << 20);
        let first = Some((2, 5));
        assert_eq!(need(ladder, first, 4), 16384);
        assert_eq!(need(ladder, first, 6), 4096);
        assert_eq!(need(ladder, Some((0, 5)), 6), 0);
        assert_eq!(need_packed(ladder, pack(first), 6), 4096);
        assert!(pack(Some((1, 9))) < pack(Some((2, 0))));
        assert!(pack(Some((2, 0))) < pack(Some((2, 1))));
    }
}
