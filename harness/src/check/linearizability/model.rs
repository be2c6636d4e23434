//! Sequential specifications, and the operations the search feeds them.

use crate::history::Operation;
use std::hash::Hash;

/// A sequential specification: what one object (one key) does when
/// operations run on it one at a time.
///
/// The search calls [`Model::step`] millions of times, so states should be
/// small and cheap to clone and hash: the built-in models intern their
/// values and keep states as integers. `step` takes `&mut self` so that a
/// model can intern states it computes (a string after an append) and cache
/// transitions; one model value serves one partition, on one thread.
pub trait Model {
    type State: Clone + Eq + Hash;
    type Input;
    type Output;

    /// The state before any operation.
    fn init(&mut self) -> Self::State;

    /// Applies one operation to `state`: the next state, or `None` if the
    /// operation cannot happen in `state` with that output (a read of a
    /// different value, a cas whose expected value is not there).
    ///
    /// `output` is `None` when the outcome is unknown (`info`): the step
    /// then means "it took effect, whatever it answered". Not taking effect
    /// at all is the search's business, not the model's.
    fn step(
        &mut self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Whether the operation never changes any state. The search drops such
    /// operations when their outcome is unknown: they constrain nothing.
    fn is_read_only(&self, _input: &Self::Input) -> bool {
        false
    }

    /// Bytes the model holds in tables it grows during the search
    /// (interned states, cached transitions); they count against
    /// [`super::Budget::max_memory_bytes`]. Models that grow nothing keep
    /// the default.
    fn memory_bytes(&self) -> u64 {
        0
    }

    /// How to show an operation to a person: `read -> 3`, `cas [3 0]`.
    fn describe_op(&self, input: &Self::Input, output: Option<&Self::Output>) -> String;

    /// How to show a state to a person: `3`, `nil`, `"x 0 1 y"`.
    fn describe_state(&self, state: &Self::State) -> String;

    /// What the operation that could not be linearized should have seen,
    /// given the distinct states (`seen`, at most a few) in which the search
    /// tried it and the model refused it. `None` lets the checker say it in
    /// general terms.
    fn expectation(
        &self,
        _input: &Self::Input,
        _output: Option<&Self::Output>,
        _seen: &[Self::State],
    ) -> Option<String> {
        None
    }
}

/// A model that knows how to read operations of a [`crate::history::History`].
pub trait HistoryModel: Model {
    /// Translates one operation into the model's input and, when
    /// `op.outcome` is `ok`, its output (`None` otherwise). An error says
    /// why the operation does not fit the model. `fail` operations go to
    /// [`HistoryModel::translate_failed`] instead.
    fn translate(&mut self, op: &Operation) -> Result<(Self::Input, Option<Self::Output>), String>;

    /// A `fail` operation that the system answered (it carries no
    /// `error`): it did not take effect, but its answer may still show
    /// something about the state, at one instant between its invocation
    /// and its completion. A `cas` that failed its comparison saw a value
    /// other than the one it expected. Return the input and output of that
    /// observation, an operation the search must linearize and whose step
    /// leaves the state as it is (and which [`Model::is_read_only`] calls
    /// read-only), or `None` when the failure shows nothing (the default:
    /// the operation is dropped). Failures with an error are never passed
    /// in: they only say that the operation did not happen.
    fn translate_failed(&mut self, _op: &Operation) -> Observed<Self> {
        None
    }
}

/// What a failed operation showed, for [`HistoryModel::translate_failed`]:
/// nothing (`None`), or the input and output of an observation, or why the
/// operation does not fit the model.
pub type Observed<M> = Option<Result<(<M as Model>::Input, <M as Model>::Output), String>>;

/// How an operation ended, as the search sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completion<O> {
    /// It took effect at some point between its invocation and `at`, and
    /// answered `output`.
    Returned { at: u64, output: O },
    /// It may have taken effect at any point after its invocation, or
    /// never (`info`, or never completed).
    Unknown,
}

/// One operation for the search. Positions (`invoke_at`, `at`) order
/// events in real time; only their order matters. At equal positions an
/// invocation counts as concurrent with a completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchOp<I, O> {
    pub input: I,
    pub invoke_at: u64,
    pub completion: Completion<O>,
}

impl<I, O> SearchOp<I, O> {
    pub fn output(&self) -> Option<&O> {
        match &self.completion {
            Completion::Returned { output, .. } => Some(output),
            Completion::Unknown => None,
        }
    }
}
