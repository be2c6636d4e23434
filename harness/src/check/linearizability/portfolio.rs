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
//! total budget of `first · 2^k` states, split in halves, and the
//! [`ChoiceOrder::UnknownLast`] search runs on to its half, then the
//! [`ChoiceOrder::CallOrder`] search to its. The first search to be
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
//! **Cost.** At most about three times the states of the faster order:
//! when the winner is decided with `w` states, the other has run at most
//! one step further, twice the winner's cap.

use super::model::{Model, SearchOp};
use super::search::{ChoiceOrder, Limits, Search, SearchReport, SearchResult};

/// The orders, in the order they take their turn within a step.
const ORDERS: [ChoiceOrder; 2] = [ChoiceOrder::UnknownLast, ChoiceOrder::CallOrder];

pub(crate) struct Portfolio<S> {
    /// One per order, or one alone where the orders do not differ.
    searches: Vec<Search<S>>,
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
        let orders: &[ChoiceOrder] = if ops.iter().any(|op| op.output().is_none()) {
            &ORDERS
        } else {
            &ORDERS[1..]
        };
        // Each memo sizes itself from the budget it is given.
        let memory = max_memory_bytes / orders.len() as u64;
        Portfolio {
            searches: orders
                .iter()
                .map(|&order| Search::new(model, ops, memory, order))
                .collect(),
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
            let turns = self.searches.len();
            while self.turn < turns {
                let cap = share(step_total, self.turn, turns);
                let turn = self.turn;
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

/// The share of `total` states of the search whose turn is `turn` of
/// `turns`: all of them for a search alone; of two, the first takes the
/// odd state.
fn share(total: u64, turn: usize, turns: usize) -> u64 {
    match (turns, turn) {
        (1, _) => total,
        (_, 0) => total - total / 2,
        _ => total / 2,
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
