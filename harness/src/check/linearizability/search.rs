//! The Wing & Gong / Lowe search for one partition.
//!
//! The history is a doubly linked list of call and return entries in real
//! time order. The search walks it from the front: at a call entry it tries
//! to linearize that operation now (the model accepts it and the resulting
//! configuration is new), and if so removes ("lifts") the operation's call
//! and return entries and starts again from the front. Reaching a return
//! entry means an operation that must have taken effect by then has not:
//! the search backtracks, puts the last lifted operation back ("unlifts"
//! it, in the reverse order of removal, so the list's own stale pointers
//! restore it) and tries the next candidate after it.
//!
//! Operations with an unknown outcome have no return entry: they may be
//! linearized at any point after their call, or never, so the search is
//! done as soon as every operation that did return has been linearized.

use super::entries::{EntryList, HEAD, NONE, RETURN};
use super::memo::{zobrist, Insert, Memo};
use super::model::{Completion, Model, SearchOp};
use std::time::Instant;

/// How far one search may go.
pub(crate) struct Limits<'a> {
    /// Most configurations to memoise before giving up.
    pub max_states: u64,
    /// Most bytes the memo and the model's own tables may hold.
    pub max_memory_bytes: u64,
    pub deadline: Option<Instant>,
    /// Polled now and then; `true` stops the search (its answer is no
    /// longer needed).
    pub cancelled: &'a (dyn Fn() -> bool + Sync),
}

/// The passes of a configuration's scan (see [`Search::run`]): eager
/// operations, then the others that returned, then those whose outcome is
/// unknown.
const EAGER_PASS: u8 = 0;
const REQUIRED_PASS: u8 = 1;
const OPTIONAL_PASS: u8 = 2;

/// Where a search tries the operations whose outcome is unknown. Neither
/// order is best on every history (see [`Search::run`]), so the checker
/// runs one search of each side by side ([`super::portfolio`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChoiceOrder {
    /// With the returned operations, in real-time order of their calls.
    CallOrder,
    /// Only once no returned operation can be linearized.
    UnknownLast,
}

/// How many of an operation's refused states to keep for the report.
const SEEN_STATES_KEPT: usize = 8;
/// How many of the last linearized operations to keep for the report.
const PREFIX_TAIL_KEPT: usize = 3;
/// Deadline, cancellation and the model's memory use are polled every this
/// many steps.
const POLL_EVERY_STEPS: u32 = 1 << 12;

/// What the search concluded, with indices into the operations it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchResult<S> {
    /// A witness: operations in the order they took effect. Operations with
    /// an unknown outcome that are absent never took effect.
    Linearizable {
        order: Vec<usize>,
    },
    NotLinearizable(Stuck<S>),
    /// The state budget ran out: no answer.
    OutOfStates,
    /// The memory budget ran out: no answer.
    OutOfMemory,
    /// The wall-clock deadline passed: no answer.
    OutOfTime,
    /// Stopped from outside before it finished.
    Cancelled,
}

/// Where the deepest attempt got stuck.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stuck<S> {
    /// The operation whose completion the deepest attempt reached without
    /// being able to linearize it.
    pub op: usize,
    /// The last few operations of that attempt's linearization, oldest
    /// first.
    pub prefix_tail: Vec<usize>,
    /// Distinct states in which the model refused `op` (a few at most), in
    /// the order the search met them.
    pub refused_states: Vec<S>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchReport<S> {
    pub result: SearchResult<S>,
    /// Configurations memoised.
    pub states_explored: u64,
    /// The most operations any attempt linearized.
    pub longest_prefix: usize,
}

/// A search that can stop when it reaches its state budget and carry on
/// later with a larger one.
///
/// Pausing changes nothing about the search: it walks the same path
/// whether it runs to a budget of `n` states in one go or in several
/// stretches that add up to `n`, so its answer depends on the final budget
/// only. That is what lets the checker search every key a little at a time
/// (see [`super::rounds`]) and stay deterministic.
pub(crate) struct Search<S> {
    list: EntryList,
    bits: Vec<u64>,
    bits_hash: u64,
    /// Zobrist key of each operation.
    keys: Vec<u64>,
    /// Operations that returned and are not linearized yet.
    required_left: u32,
    memo: Memo<S>,
    /// The operations linearized so far, each with the configuration's
    /// `first_optional` as far as the scan had got when it chose it, and the
    /// state before it.
    stack: Vec<(u32, u32, S)>,
    refused: Vec<Vec<S>>,
    state: S,
    deepest: Option<(usize, Stuck<S>)>,
    longest_prefix: usize,
    steps_until_poll: u32,
    /// The entry to look at next.
    entry: u32,
    /// The pass the scan of the current configuration is in.
    pass: u8,
    /// The first call entries of the second and third passes that the
    /// first pass met in the current configuration (`NONE`: none): where
    /// those passes start, and whether they are needed at all.
    first_required: u32,
    first_optional: u32,
}

impl<S: Clone + Eq + std::hash::Hash> Search<S> {
    /// A search of `ops` from the model's initial state. Operations with
    /// an unknown outcome whose input the model calls read-only must
    /// already have been removed: they would only slow the search down.
    pub fn new<M: Model<State = S>>(
        model: &mut M,
        ops: &[SearchOp<M::Input, M::Output>],
        max_memory_bytes: u64,
        order: ChoiceOrder,
    ) -> Search<S> {
        let n = ops.len();
        let words = n.div_ceil(64).max(1);
        // An operation that returned must be linearized; one whose outcome
        // is unknown may be. One that returned and never changes the state
        // is eager.
        let pass_of = |op: usize| match ops[op].completion {
            Completion::Returned { .. } if model.is_read_only(&ops[op].input) => EAGER_PASS,
            Completion::Returned { .. } => REQUIRED_PASS,
            Completion::Unknown if order == ChoiceOrder::CallOrder => REQUIRED_PASS,
            Completion::Unknown => OPTIONAL_PASS,
        };
        let list = EntryList::new(ops, pass_of);
        let required_left = ops
            .iter()
            .filter(|op| matches!(op.completion, Completion::Returned { .. }))
            .count() as u32;
        let entry = list.nodes[HEAD as usize].next;
        Search {
            list,
            bits: vec![0u64; words],
            bits_hash: 0,
            keys: (0..n).map(zobrist).collect(),
            memo: Memo::new(words, n * 4, max_memory_bytes),
            stack: Vec::with_capacity(n),
            refused: vec![Vec::new(); n],
            state: model.init(),
            deepest: None,
            longest_prefix: 0,
            steps_until_poll: POLL_EVERY_STEPS,
            entry,
            pass: EAGER_PASS,
            first_required: NONE,
            first_optional: NONE,
            required_left,
        }
    }

    /// Bytes the search holds in its memo, where nearly all of its memory
    /// is.
    pub fn memory_bytes(&self) -> u64 {
        self.memo.bytes()
    }

    /// Configurations memoised so far.
    pub fn states(&self) -> u64 {
        self.memo.len() as u64
    }

    /// The most operations any attempt has linearized so far.
    pub fn longest_prefix(&self) -> usize {
        self.longest_prefix
    }

    /// Searches on until the search is decided or a limit is reached.
    /// After [`SearchResult::OutOfStates`] or [`SearchResult::Cancelled`]
    /// the search may be run again (with a larger `max_states`, or the
    /// same); any other result is final. `model` and `ops`
    /// must be the ones the search was made with.
    ///
    /// The scan of a configuration makes up to three passes over the
    /// operations real time allows next (those whose call comes before the
    /// first return still in the list).
    ///
    /// The first looks for an *eager* operation, one that returned and
    /// never changes the state (a read, a failed cas), that the model
    /// accepts here, and linearizes it for good: nothing else is tried in
    /// its place. If a linearization exists from this configuration, one
    /// exists that starts with it (move it to the front: it changes no
    /// state, and real time puts before it only operations already
    /// linearized, or the scan would have stopped at their return), so
    /// when what follows it fails, the configuration fails and the search
    /// backtracks past it at once. Configurations then differ only in
    /// choices that matter.
    ///
    /// The second tries the other operations that returned, one by one,
    /// in real-time order of their calls; with [`ChoiceOrder::CallOrder`]
    /// those whose outcome is unknown are tried among them, in the same
    /// order, and with [`ChoiceOrder::UnknownLast`] only in a third pass.
    /// Trying them last suits histories whose timed-out operations mostly
    /// never took effect, such as Jepsen's etcd files (10x fewer states over
    /// Porcupine's 102 etcd files that decide), but blows up where one that
    /// did take effect has to go early: every ordering of the returned
    /// operations concurrent with it is tried first (kv-swarm seed 4: over
    /// 4,000,000 states undecided, against 2,910 states in call order; see
    /// `tests/tests/linearizability_regressions.rs`). The first pass notes
    /// where the others start, so that each walks only its part of the
    /// list, and none runs when it has nothing to try. The order of the
    /// passes changes which linearization is found first, and how soon,
    /// never whether one exists.
    pub fn run<M: Model<State = S>>(
        &mut self,
        model: &mut M,
        ops: &[SearchOp<M::Input, M::Output>],
        limits: &Limits<'_>,
    ) -> SearchReport<S> {
        // The hottest values live in locals while the search runs.
        let mut entry = self.entry;
        let mut pass = self.pass;
        let mut first_required = self.first_required;
        let mut first_optional = self.first_optional;
        let mut bits_hash = self.bits_hash;
        let mut required_left = self.required_left;
        let mut steps_until_poll = self.steps_until_poll;
        let mut longest_prefix = self.longest_prefix;
        let Search {
            list,
            bits,
            keys,
            memo,
            stack,
            refused,
            state,
            deepest,
            ..
        } = self;

        let result = loop {
            if required_left == 0 {
                let order = stack.iter().map(|&(op, _, _)| op as usize).collect();
                break SearchResult::Linearizable { order };
            }
            steps_until_poll -= 1;
            if steps_until_poll == 0 {
                steps_until_poll = POLL_EVERY_STEPS;
                if (limits.cancelled)() {
                    // Poll again first thing when resumed, so that the
                    // polls (and the memory checks among them) fall on the
                    // same steps as in a search that never stopped.
                    steps_until_poll = 1;
                    break SearchResult::Cancelled;
                }
                if limits.deadline.is_some_and(|d| Instant::now() >= d) {
                    break SearchResult::OutOfTime;
                }
                // The memo may use what the model does not.
                let model_bytes = model.memory_bytes();
                if model_bytes.saturating_add(memo.bytes()) > limits.max_memory_bytes {
                    break SearchResult::OutOfMemory;
                }
                memo.set_max_bytes(limits.max_memory_bytes - model_bytes);
            }
            // While an operation that returned is not linearized, its return
            // entry is in the list ahead of the tail, so `entry` is never the
            // tail here.
            // Skip to the next call of this pass, or the first return; the
            // first pass notes where the others will start.
            let mut node = list.nodes[entry as usize];
            if pass == EAGER_PASS {
                while node.pass != EAGER_PASS && node.pass != RETURN {
                    if node.pass == REQUIRED_PASS {
                        if first_required == NONE {
                            first_required = entry;
                        }
                    } else if first_optional == NONE {
                        first_optional = entry;
                    }
                    entry = node.next;
                    node = list.nodes[entry as usize];
                }
            } else {
                while node.pass != pass && node.pass != RETURN {
                    entry = node.next;
                    node = list.nodes[entry as usize];
                }
            }
            if node.pass != RETURN {
                let op = node.op as usize;
                let spec = &ops[op];
                // No return entry: the outcome is unknown.
                let optional = node.ret == NONE;
                match model.step(state, &spec.input, spec.output()) {
                    // Linearizing an optional operation that leaves the state
                    // as it is only takes away the option of linearizing it
                    // later: the configuration we are in already covers it.
                    Some(next_state) if optional && next_state == *state => {
                        entry = node.next;
                        continue;
                    }
                    Some(next_state) => {
                        let (word, bit) = (op / 64, 1u64 << (op % 64));
                        bits[word] |= bit;
                        bits_hash ^= keys[op];
                        let inserted = memo.insert(bits, bits_hash, &next_state);
                        if inserted == Insert::New {
                            let before = std::mem::replace(state, next_state);
                            stack.push((node.op, first_optional, before));
                            first_required = NONE;
                            first_optional = NONE;
                            longest_prefix = longest_prefix.max(stack.len());
                            list.lift(entry);
                            if !optional {
                                required_left -= 1;
                            }
                            entry = list.nodes[HEAD as usize].next;
                            pass = EAGER_PASS;
                            if memo.len() as u64 >= limits.max_states {
                                break SearchResult::OutOfStates;
                            }
                            continue;
                        }
                        // Undone, so that even a search that stops here
                        // is left consistent.
                        bits[word] &= !bit;
                        bits_hash ^= keys[op];
                        if inserted == Insert::Full {
                            break SearchResult::OutOfMemory;
                        }
                        // Seen before, so it led nowhere; for an eager
                        // operation, neither does this configuration.
                        if pass != EAGER_PASS {
                            entry = node.next;
                            continue;
                        }
                    }
                    None => {
                        let seen = &mut refused[op];
                        if !optional && seen.len() < SEEN_STATES_KEPT && !seen.contains(state) {
                            seen.push(state.clone());
                        }
                        entry = node.next;
                        continue;
                    }
                }
            } else if pass == EAGER_PASS && first_required != NONE {
                // No eager operation can be linearized here: try the others
                // that returned, from the first the scan met.
                pass = REQUIRED_PASS;
                entry = first_required;
                continue;
            } else if pass != OPTIONAL_PASS && first_optional != NONE {
                // Nothing that returned can be linearized here: try those
                // whose outcome is unknown.
                pass = OPTIONAL_PASS;
                entry = first_optional;
                continue;
            } else if deepest
                .as_ref()
                .is_none_or(|(depth, _)| stack.len() > *depth)
            {
                // An operation that must have taken effect by now has not.
                let tail_start = stack.len().saturating_sub(PREFIX_TAIL_KEPT);
                let stuck = Stuck {
                    op: node.op as usize,
                    prefix_tail: stack[tail_start..]
                        .iter()
                        .map(|&(op, _, _)| op as usize)
                        .collect(),
                    refused_states: Vec::new(),
                };
                *deepest = Some((stack.len(), stuck));
            }
            // Backtrack: undo the last choice that had alternatives (an
            // eager operation had none) and try the next candidate after
            // it, in the pass that chose it.
            let undone = loop {
                let Some((op, optional, previous)) = stack.pop() else {
                    break None;
                };
                first_optional = optional;
                *state = previous;
                let index = op as usize;
                bits[index / 64] &= !(1u64 << (index % 64));
                bits_hash ^= keys[index];
                let call = list.call_of[index];
                list.unlift(call);
                let node = list.nodes[call as usize];
                if node.ret != NONE {
                    required_left += 1;
                }
                if node.pass != EAGER_PASS {
                    break Some(node);
                }
            };
            match undone {
                Some(node) => {
                    pass = node.pass;
                    entry = node.next;
                }
                None => {
                    let mut stuck = match deepest.take() {
                        Some((_, stuck)) => stuck,
                        None => unreachable_stuck(node.op as usize),
                    };
                    stuck.refused_states = std::mem::take(&mut refused[stuck.op]);
                    break SearchResult::NotLinearizable(stuck);
                }
            }
        };

        self.entry = entry;
        self.pass = pass;
        self.first_required = first_required;
        self.first_optional = first_optional;
        self.bits_hash = bits_hash;
        self.required_left = required_left;
        self.steps_until_poll = steps_until_poll;
        self.longest_prefix = longest_prefix;
        SearchReport {
            result,
            states_explored: self.memo.len() as u64,
            longest_prefix,
        }
    }
}

/// `deepest` is set just before the stack is found empty; this keeps the
/// code total without an `unwrap`.
fn unreachable_stuck<S>(op: usize) -> Stuck<S> {
    Stuck {
        op,
        prefix_tail: Vec::new(),
        refused_states: Vec::new(),
    }
}
