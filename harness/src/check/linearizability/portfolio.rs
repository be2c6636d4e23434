//! Two searches of one partition, side by side, for the answer of
//! whichever needs fewer states.
//!
//! **Why.** Where a search tries the operations whose outcome is unknown
//! decides how soon it answers, and no place is best on every history
//! (see [`ChoiceOrder`]): trying them last answers Porcupine's etcd files
//! in a tenth of the states, trying them in call order answers kv-swarm
//! histories whose timed-out write took effect early, where the other
//! runs out of any budget. So each partition gets one search of each
//! order, and they take turns. A partition in which every operation
//! returned gets one search: there the two orders are the same.
//!
//! **Model.** Turns follow a fixed schedule of steps: step `k` has a
//! total budget of `first · 2^k` states. Step 0 is the
//! [`ChoiceOrder::UnknownLast`] search's alone; from step 1 on the
//! [`ChoiceOrder::CallOrder`] search gets one [`CALL_ORDER_SHARE`]th of
//! each step's total. Within a step the unknown-last search runs on to its
//! share, then the call-order one to its. The first search to be
//! decided gives the answer; the states counted are both searches'
//! together. Each search is itself pausable without effect (see
//! [`Search`]), and the schedule does not depend on how the caller
//! slices the budget, as long as every budget it asks for is one of the
//! ladder's (`first · 4^r`, which is a step's total, or the ladder's
//! maximum, which is final): the answer and the states counted are a
//! function of the final budget alone. A partition decided with `s`
//! states is decided by every ladder budget above `s` and by none at or
//! below it, as [`super::rounds`] needs.
//!
//! **Cost.** The shares are uneven because the two orders are not equally
//! often the faster: on Porcupine's etcd histories trying unknown-outcome
//! operations last wins on every file, often within step 0, where the
//! call-order search is never even built; call order wins on histories
//! such as kv-swarm seed 4, by far more than the factor its small share
//! costs it. When the unknown-last search wins with `w` states the pair
//! has spent at most about `w · 8/7`; when the call-order one wins with
//! `w`, under `15 w` (the other search at most one step further, at
//! seven times the share).

use super::model::{Model, SearchOp};
use super::search::{ChoiceOrder, Limits, Search, SearchReport, SearchResult};

/// The orders, in the order they take their turn within a step.
const ORDERS: [ChoiceOrder; 2] = [ChoiceOrder::UnknownLast, ChoiceOrder::CallOrder];

pub(crate) struct Portfolio<S> {
    /// The orders taking turns: both, or one alone where they do not
    /// differ.
    orders: &'static [ChoiceOrder],
    /// One per order, built the first time its turn has a budget.
    searches: Vec<Search<S>>,
    /// Each search's memory budget.
    memory_each: u64,
    /// The total budget of step 0: the ladder's first budget.
    first: u64,
    /// The step in progress, and the search whose turn it is.
    step: u32,
    turn: usize,
}

impl<S: Clone + Eq + std::hash::Hash> Portfolio<S> {
    /// `first` is the first budget of the ladder the caller's budgets come
    /// from; see [`Search::new`] for what `ops` must not contain.
    pub fn new<M: Model<State = S>>(
        model: &mut M,
        ops: &[SearchOp<M::Input, M::Output>],
        max_memory_bytes: u64,
        first: u64,
    ) -> Portfolio<S> {
        let orders: &'static [ChoiceOrder] = if ops.iter().any(|op| op.output().is_none()) {
            &ORDERS
        } else {
            &ORDERS[1..]
        };
        // Each memo sizes itself from the budget it is given.
        let memory_each = max_memory_bytes / orders.len() as u64;
        Portfolio {
            orders,
            searches: vec![Search::new(model, ops, memory_each, orders[0])],
            memory_each,
            first: first.max(1),
            step: 0,
            turn: 0,
        }
    }

    /// Bytes both searches hold.
    pub fn memory_bytes(&self) -> u64 {
        self.searches.iter().map(Search::memory_bytes).sum()
    }

    fn states(&self) -> u64 {
        self.searches.iter().map(Search::states).sum()
    }

    /// Searches on until one search is decided or `limits.max_states`
    /// (a ladder budget, see the module documentation) is reached by both.
    /// Results are final as for [`Search::run`]. Memory is one budget for
    /// the pair: a search may use what the other does not hold.
    pub fn run<M: Model<State = S>>(
        &mut self,
        model: &mut M,
        ops: &[SearchOp<M::Input, M::Output>],
        limits: &Limits<'_>,
    ) -> SearchReport<S> {
        let target = limits.max_states.max(1);
        loop {
            let step_total = self
                .first
                .checked_shl(self.step)
                .filter(|total| total >> self.step == self.first)
                .unwrap_or(u64::MAX)
                .min(target);
            let turns = self.orders.len();
            while self.turn < turns {
                let cap = share(step_total, self.step, self.first, self.turn, turns);
                let turn = self.turn;
                if cap > 0 && turn == self.searches.len() {
                    let order = self.orders[turn];
                    self.searches
                        .push(Search::new(model, ops, self.memory_each, order));
                }
                if cap > 0 && self.searches[turn].states() < cap {
                    let others: u64 = self.memory_bytes() - self.searches[turn].memory_bytes();
                    let own = Limits {
                        max_states: cap,
                        max_memory_bytes: limits.max_memory_bytes.saturating_sub(others),
                        deadline: limits.deadline,
                        cancelled: limits.cancelled,
                    };
                    let report = self.searches[turn].run(model, ops, &own);
                    match report.result {
                        SearchResult::OutOfStates => {}
                        SearchResult::Cancelled => return self.report(SearchResult::Cancelled),
                        decided => return self.report(decided),
                    }
                }
                self.turn += 1;
            }
            if step_total >= target {
                // Both are at their share of the target. The next call,
                // with a larger target, carries on from the same step (its
                // shares grow); this step's turns are taken again.
                self.turn = 0;
                return self.report(SearchResult::OutOfStates);
            }
            self.step += 1;
            self.turn = 0;
        }
    }

    fn report(&self, result: SearchResult<S>) -> SearchReport<S> {
        SearchReport {
            result,
            states_explored: self.states(),
            longest_prefix: self
                .searches
                .iter()
                .map(Search::longest_prefix)
                .max()
                .unwrap_or(0),
        }
    }
}

/// From step 1 on, the call-order search's share of a step's states is
/// one in this many (see the module documentation for why so small).
pub(crate) const CALL_ORDER_SHARE: u64 = 8;

/// The share of step `step`'s `total` states of the search whose turn is
/// `turn` of `turns`: all of them for a search alone and for the first of
/// two in step 0; later, the second gets one [`CALL_ORDER_SHARE`]th, but
/// never so much that the first's share falls below the `first` states it
/// had in step 0 (a final budget can cut a step's total short, and a
/// share must never shrink, or the pair would overrun the budget).
fn share(total: u64, step: u32, first: u64, turn: usize, turns: usize) -> u64 {
    let second = if step == 0 {
        0
    } else {
        (total / CALL_ORDER_SHARE).min(total.saturating_sub(first))
    };
    match (turns, turn) {
        (1, _) => total,
        (_, 0) => total - second,
        _ => second,
    }
}

/// Decides whether `ops` are linearizable with respect to `model`, in one
/// go (see [`Search::new`] for what `ops` must not contain).
pub(crate) fn search<M: Model>(
    model: &mut M,
    ops: &[SearchOp<M::Input, M::Output>],
    limits: &Limits<'_>,
) -> SearchReport<M::State> {
    let first = super::rounds::Ladder::new(limits.max_states).first();
    Portfolio::new(model, ops, limits.max_memory_bytes, first).run(model, ops, limits)
}

#[cfg(test)]
mod share_tests {
    use super::share;

    #[test]
    fn shares_sum_to_the_step_and_the_first_search_never_loses_ground() {
        let first = 1024;
        // Step 0 is the first search's alone.
        assert_eq!(
            (share(first, 0, first, 0, 2), share(first, 0, first, 1, 2)),
            (1024, 0)
        );
        // An unclipped step gives the second one eighth.
        assert_eq!(
            (share(2048, 1, first, 0, 2), share(2048, 1, first, 1, 2)),
            (1792, 256)
        );
        // A final budget just above step 0 must not shrink the first's share.
        assert_eq!(
            (share(1100, 1, first, 0, 2), share(1100, 1, first, 1, 2)),
            (1024, 76)
        );
        for total in [1024, 1025, 1100, 1170, 2048, 5000, 1 << 40] {
            for step in 1..4 {
                let (a, b) = (
                    share(total, step, first, 0, 2),
                    share(total, step, first, 1, 2),
                );
                assert_eq!(a + b, total);
                assert!(a >= first);
            }
        }
    }
}
