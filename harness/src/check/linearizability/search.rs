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

const HEAD: u32 = 0;
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Node {
    prev: u32,
    next: u32,
    op: u32,
    /// For a call entry, its return entry (`NONE` if the outcome is
    /// unknown); `NONE` for return entries.
    ret: u32,
    is_call: bool,
}

/// The entry list: node 0 is the head, the last node the tail.
struct EntryList {
    nodes: Vec<Node>,
    /// For each operation, its call node.
    call_of: Vec<u32>,
}

impl EntryList {
    fn new<I, O>(ops: &[SearchOp<I, O>]) -> EntryList {
        // (position, returns after calls at equal positions, op, is_call)
        let mut entries: Vec<(u64, u8, u32, bool)> = Vec::with_capacity(ops.len() * 2);
        for (index, op) in ops.iter().enumerate() {
            entries.push((op.invoke_at, 0, index as u32, true));
            if let Completion::Returned { at, .. } = op.completion {
                entries.push((at, 1, index as u32, false));
            }
        }
        entries.sort_unstable();
        let len = entries.len() + 2;
        let tail = (len - 1) as u32;
        let mut nodes = Vec::with_capacity(len);
        let mut call_of = vec![NONE; ops.len()];
        let mut ret_of = vec![NONE; ops.len()];
        nodes.push(Node {
            prev: NONE,
            next: 1,
            op: NONE,
            ret: NONE,
            is_call: false,
        });
        for (i, &(_, _, op, is_call)) in entries.iter().enumerate() {
            let node = (i + 1) as u32;
            if is_call {
                call_of[op as usize] = node;
            } else {
                ret_of[op as usize] = node;
            }
            nodes.push(Node {
                prev: node - 1,
                next: node + 1,
                op,
                ret: NONE,
                is_call,
            });
        }
        nodes.push(Node {
            prev: tail - 1,
            next: NONE,
            op: NONE,
            ret: NONE,
            is_call: false,
        });
        for (op, &call) in call_of.iter().enumerate() {
            nodes[call as usize].ret = ret_of[op];
        }
        EntryList { nodes, call_of }
    }

    #[inline]
    fn unlink(&mut self, node: u32) {
        let Node { prev, next, .. } = self.nodes[node as usize];
        self.nodes[prev as usize].next = next;
        self.nodes[next as usize].prev = prev;
    }

    #[inline]
    fn relink(&mut self, node: u32) {
        let Node { prev, next, .. } = self.nodes[node as usize];
        self.nodes[prev as usize].next = node;
        self.nodes[next as usize].prev = node;
    }

    #[inline]
    fn lift(&mut self, call: u32) {
        self.unlink(call);
        let ret = self.nodes[call as usize].ret;
        if ret != NONE {
            self.unlink(ret);
        }
    }

    #[inline]
    fn unlift(&mut self, call: u32) {
        let ret = self.nodes[call as usize].ret;
        if ret != NONE {
            self.relink(ret);
        }
        self.relink(call);
    }
}

/// Decides whether `ops` are linearizable with respect to `model`.
///
/// Operations with an unknown outcome whose input the model calls
/// read-only must already have been removed: they would only slow the
/// search down.
pub(crate) fn search<M: Model>(
    model: &mut M,
    ops: &[SearchOp<M::Input, M::Output>],
    limits: &Limits<'_>,
) -> SearchReport<M::State> {
    let n = ops.len();
    let mut list = EntryList::new(ops);
    let words = n.div_ceil(64).max(1);
    let mut bits = vec![0u64; words];
    let mut bits_hash = 0u64;
    let keys: Vec<u64> = (0..n).map(zobrist).collect();
    let required: Vec<bool> = ops
        .iter()
        .map(|op| matches!(op.completion, Completion::Returned { .. }))
        .collect();
    let mut required_left = required.iter().filter(|&&r| r).count();
    let mut memo: Memo<M::State> = Memo::new(words, n * 4, limits.max_memory_bytes);
    let mut stack: Vec<(u32, M::State)> = Vec::with_capacity(n);
    let mut refused: Vec<Vec<M::State>> = vec![Vec::new(); n];
    let mut state = model.init();
    let mut deepest: Option<(usize, Stuck<M::State>)> = None;
    let mut longest_prefix = 0usize;
    let mut steps_until_poll = POLL_EVERY_STEPS;

    let report = |result, memo: &Memo<M::State>, longest_prefix| SearchReport {
        result,
        states_explored: memo.len() as u64,
        longest_prefix,
    };

    let mut entry = list.nodes[HEAD as usize].next;
    loop {
        if required_left == 0 {
            let order = stack.iter().map(|&(op, _)| op as usize).collect();
            return report(SearchResult::Linearizable { order }, &memo, longest_prefix);
        }
        steps_until_poll -= 1;
        if steps_until_poll == 0 {
            steps_until_poll = POLL_EVERY_STEPS;
            if (limits.cancelled)() {
                return report(SearchResult::Cancelled, &memo, longest_prefix);
            }
            if limits.deadline.is_some_and(|d| Instant::now() >= d) {
                return report(SearchResult::OutOfTime, &memo, longest_prefix);
            }
            // The memo may use what the model does not.
            let model_bytes = model.memory_bytes();
            if model_bytes.saturating_add(memo.bytes()) > limits.max_memory_bytes {
                return report(SearchResult::OutOfMemory, &memo, longest_prefix);
            }
            memo.set_max_bytes(limits.max_memory_bytes - model_bytes);
        }
        // While an operation that returned is not linearized, its return
        // entry is in the list ahead of the tail, so `entry` is never the
        // tail here.
        let node = list.nodes[entry as usize];
        if node.is_call {
            let op = node.op as usize;
            let spec = &ops[op];
            match model.step(&state, &spec.input, spec.output()) {
                // Linearizing an optional operation that leaves the state
                // as it is only takes away the option of linearizing it
                // later: the configuration we are in already covers it.
                Some(next_state) if !required[op] && next_state == state => {}
                Some(next_state) => {
                    let (word, bit) = (op / 64, 1u64 << (op % 64));
                    bits[word] |= bit;
                    bits_hash ^= keys[op];
                    let inserted = memo.insert(&bits, bits_hash, &next_state);
                    if inserted == Insert::Full {
                        return report(SearchResult::OutOfMemory, &memo, longest_prefix);
                    }
                    if inserted == Insert::New {
                        stack.push((node.op, std::mem::replace(&mut state, next_state)));
                        longest_prefix = longest_prefix.max(stack.len());
                        list.lift(entry);
                        if required[op] {
                            required_left -= 1;
                        }
                        if memo.len() as u64 >= limits.max_states {
                            return report(SearchResult::OutOfStates, &memo, longest_prefix);
                        }
                        entry = list.nodes[HEAD as usize].next;
                        continue;
                    }
                    bits[word] &= !bit;
                    bits_hash ^= keys[op];
                }
                None => {
                    let seen = &mut refused[op];
                    if required[op] && seen.len() < SEEN_STATES_KEPT && !seen.contains(&state) {
                        seen.push(state.clone());
                    }
                }
            }
            entry = node.next;
        } else {
            // An operation that must have taken effect by now has not.
            if deepest
                .as_ref()
                .is_none_or(|(depth, _)| stack.len() > *depth)
            {
                let tail_start = stack.len().saturating_sub(PREFIX_TAIL_KEPT);
                let stuck = Stuck {
                    op: node.op as usize,
                    prefix_tail: stack[tail_start..]
                        .iter()
                        .map(|&(op, _)| op as usize)
                        .collect(),
                    refused_states: Vec::new(),
                };
                deepest = Some((stack.len(), stuck));
            }
            let Some((op, previous)) = stack.pop() else {
                let mut stuck = match deepest {
                    Some((_, stuck)) => stuck,
                    None => unreachable_stuck(node.op as usize),
                };
                stuck.refused_states = std::mem::take(&mut refused[stuck.op]);
                return report(SearchResult::NotLinearizable(stuck), &memo, longest_prefix);
            };
            state = previous;
            let index = op as usize;
            bits[index / 64] &= !(1u64 << (index % 64));
            bits_hash ^= keys[index];
            let call = list.call_of[index];
            list.unlift(call);
            if required[index] {
                required_left += 1;
            }
            entry = list.nodes[call as usize].next;
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
