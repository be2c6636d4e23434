//! The entry list a search walks: every operation's call entry and, if it
//! returned, its return entry, in real-time order, as a doubly linked list
//! over a vector. Lifting an operation unlinks both entries; unlifting it
//! relinks them from their own (stale) pointers, which is exact when
//! operations are unlifted in the reverse order of lifting, as a
//! depth-first search does.

use super::model::{Completion, SearchOp};

pub(super) const HEAD: u32 = 0;
pub(super) const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
pub(super) struct Node {
    pub prev: u32,
    pub next: u32,
    pub op: u32,
    /// For a call entry, its return entry (`NONE` if the outcome is
    /// unknown); `NONE` for return entries.
    pub ret: u32,
    /// For a call entry, the pass of the scan that tries its operation;
    /// `RETURN` for return entries (and the head and tail).
    pub pass: u8,
}

/// [`Node::pass`] of a node that is not a call entry.
pub(super) const RETURN: u8 = u8::MAX;

/// The entry list: node 0 is the head, the last node the tail.
pub(super) struct EntryList {
    pub nodes: Vec<Node>,
    /// For each operation, its call node.
    pub call_of: Vec<u32>,
}

impl EntryList {
    /// `pass_of(op)` gives the pass of the scan that tries an operation.
    pub fn new<I, O>(ops: &[SearchOp<I, O>], pass_of: impl Fn(usize) -> u8) -> EntryList {
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
            pass: RETURN,
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
                pass: if is_call {
                    pass_of(op as usize)
                } else {
                    RETURN
                },
            });
        }
        nodes.push(Node {
            prev: tail - 1,
            next: NONE,
            op: NONE,
            ret: NONE,
            pass: RETURN,
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
    pub fn lift(&mut self, call: u32) {
        self.unlink(call);
        let ret = self.nodes[call as usize].ret;
        if ret != NONE {
            self.unlink(ret);
        }
    }

    #[inline]
    pub fn unlift(&mut self, call: u32) {
        let ret = self.nodes[call as usize].ret;
        if ret != NONE {
            self.relink(ret);
        }
        self.relink(call);
    }
}
