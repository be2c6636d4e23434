//! Client histories in Jepsen's model.
//!
//! A history is the sequence of events clients observed, in simulated time.
//! Each operation is an `invoke` followed by exactly one completion: `ok` (it
//! happened), `fail` (it certainly did not happen) or `info` (unknown: it may
//! have taken effect at any time after its invocation, or never). An
//! operation with no completion at all (the run ended first) counts as
//! `info`. A process (logical client) has at most one operation in flight;
//! after an `info` a process never invokes again under the same number, so
//! clients that keep going after a timeout take a fresh process number.

pub mod jepsen;
pub mod txn;

pub use txn::{MicroOp, MopKind};

use serde::{Deserialize, Serialize};
use std::fmt;

/// What an operation does (Jepsen's `:f`). Models interpret them; the
/// spellings `get`/`put` of key-value histories are read as `read`/`write`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Read,
    Write,
    Cas,
    Append,
    Add,
    Enqueue,
    Dequeue,
    /// A transaction: the value is a list of micro-operations
    /// ([`Value::Txn`]), checked by the transactional checker.
    Txn,
}

impl OpKind {
    pub const ALL: [OpKind; 8] = [
        OpKind::Read,
        OpKind::Write,
        OpKind::Cas,
        OpKind::Append,
        OpKind::Add,
        OpKind::Enqueue,
        OpKind::Dequeue,
        OpKind::Txn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Read => "read",
            OpKind::Write => "write",
            OpKind::Cas => "cas",
            OpKind::Append => "append",
            OpKind::Add => "add",
            OpKind::Enqueue => "enqueue",
            OpKind::Dequeue => "dequeue",
            OpKind::Txn => "txn",
        }
    }

    /// Parses Jepsen's and our spellings (`get` = `read`, `put` = `write`).
    pub fn parse(name: &str) -> Option<OpKind> {
        Some(match name {
            "read" | "get" => OpKind::Read,
            "write" | "put" => OpKind::Write,
            "cas" => OpKind::Cas,
            "append" => OpKind::Append,
            "add" => OpKind::Add,
            "enqueue" => OpKind::Enqueue,
            "dequeue" => OpKind::Dequeue,
            "txn" => OpKind::Txn,
            _ => return None,
        })
    }

    /// Whether an operation of this kind can change state (and so matters
    /// for durability).
    pub fn is_mutation(self) -> bool {
        !matches!(self, OpKind::Read)
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Jepsen-style value: `nil`, an integer, a string or a vector (a `cas`
/// carries `[expected new]`), or a transaction's micro-operations.
///
/// In JSON a transaction is an array of objects
/// (`[{"f":"append","key":"k","value":1}]`), so it cannot be mistaken for
/// a list; an empty transaction reads back as an empty list, which the
/// transactional checker takes as the same thing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Nil,
    Int(i64),
    Str(String),
    List(Vec<Value>),
    /// The micro-operations of a `txn` operation, in order.
    Txn(Vec<MicroOp>),
}

impl Value {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}

impl fmt::Display for Value {
    /// Jepsen's EDN spelling: `nil`, `3`, `"abc"`, `[3 0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Txn(mops) => {
                f.write_str("[")?;
                for (i, mop) in mops.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{mop}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// One client operation as written in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub f: OpKind,
    /// The key for multi-key models; `None` for a single object.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key: Option<String>,
    pub value: Value,
}

/// Jepsen's event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Invoke => "invoke",
            EventType::Ok => "ok",
            EventType::Fail => "fail",
            EventType::Info => "info",
        }
    }
}

/// One line of a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Simulated time since the start of the run, in nanoseconds. Histories
    /// read from other tools have no times: their events are numbered instead.
    pub time_ns: u64,
    /// The logical client (Jepsen's `:process`).
    pub process: u64,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(flatten)]
    pub op: Op,
    /// On completions: how many attempts the client made (0 = not reported).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub attempts: u32,
    /// On `ok` completions: the answer came from a fallback (cache, default)
    /// rather than the system of record.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub degraded: bool,
    /// On `fail` and `info` completions: why (Jepsen's `:error`), e.g.
    /// `timeout` or `unavailable`. A `fail` without an error is a definite
    /// answer from the system, such as a `cas` whose comparison failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Fail,
    /// Unknown, including "never completed".
    Info,
}

/// An invocation paired with its completion: what checkers work on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// Index of the invoke event in the history.
    pub invoke_index: usize,
    /// Index of the completion event, if there was one.
    pub complete_index: Option<usize>,
    pub process: u64,
    pub f: OpKind,
    pub key: Option<String>,
    /// The value the client sent (for `read`s, usually `nil`).
    pub input: Value,
    /// The value the completion carried (for `ok` reads, what was read).
    pub output: Value,
    pub outcome: Outcome,
    pub invoke_ns: u64,
    /// `None` when the operation never completed.
    pub complete_ns: Option<u64>,
    pub attempts: u32,
    pub degraded: bool,
    pub error: Option<String>,
}

impl Operation {
    /// The system answered: `ok`, or a `fail` that is a definite answer
    /// rather than an error (a failed comparison, not a timeout).
    pub fn answered(&self) -> bool {
        match self.outcome {
            Outcome::Ok => true,
            Outcome::Fail => self.error.is_none(),
            Outcome::Info => false,
        }
    }

    pub fn latency_ns(&self) -> Option<u64> {
        self.complete_ns.map(|c| c.saturating_sub(self.invoke_ns))
    }
}

/// Process numbers from here up are the harness's final reader, which
/// reads every key once the workload and the faults are over; the
/// workload's logical clients number from 0 and never get this far.
/// Checkers and reports tell the two apart by this number alone.
pub const FINAL_READER_PROCESS: u64 = 1 << 40;

/// Default cap on the number of events a run records (see
/// [`History::with_limit`]).
pub const DEFAULT_HISTORY_LIMIT: usize = 1_000_000;

/// A bounded, append-only history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub events: Vec<Event>,
    /// Events refused because the history was full. A truncated history
    /// cannot prove safety, so checkers report `unknown` on it.
    #[serde(default)]
    pub dropped_events: u64,
    #[serde(skip)]
    limit: Option<usize>,
}

/// A problem with the shape of a history (not with what it says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedHistory {
    pub event_index: usize,
    pub message: String,
}

impl fmt::Display for MalformedHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event {}: {}", self.event_index, self.message)
    }
}

impl std::error::Error for MalformedHistory {}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// A history that records at most `limit` events and counts the rest.
    pub fn with_limit(limit: usize) -> History {
        History {
            limit: Some(limit),
            ..History::default()
        }
    }

    pub fn push(&mut self, event: Event) {
        if self.limit.is_some_and(|limit| self.events.len() >= limit) {
            self.dropped_events += 1;
            return;
        }
        self.events.push(event);
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn is_truncated(&self) -> bool {
        self.dropped_events > 0
    }

    /// Pairs each invocation with its completion, in invocation order.
    ///
    /// A completion must follow an invocation by the same process with the
    /// same `f` and key; a process may not invoke twice without completing.
    /// Invocations left open at the end become `info` operations.
    pub fn operations(&self) -> Result<Vec<Operation>, MalformedHistory> {
        let mut ops: Vec<Operation> = Vec::with_capacity(self.events.len() / 2 + 1);
        // process -> index into `ops` of its open invocation. Sorted vector
        // keyed by process would do too; a BTreeMap keeps order deterministic.
        let mut open: std::collections::BTreeMap<u64, usize> = Default::default();
        for (index, event) in self.events.iter().enumerate() {
            match event.kind {
                EventType::Invoke => {
                    if open.contains_key(&event.process) {
                        return Err(MalformedHistory {
                            event_index: index,
                            message: format!(
                                "process {} invokes while its previous operation is still open",
                                event.process
                            ),
                        });
                    }
                    open.insert(event.process, ops.len());
                    ops.push(Operation {
                        invoke_index: index,
                        complete_index: None,
                        process: event.process,
                        f: event.op.f,
                        key: event.op.key.clone(),
                        input: event.op.value.clone(),
                        output: Value::Nil,
                        outcome: Outcome::Info,
                        invoke_ns: event.time_ns,
                        complete_ns: None,
                        attempts: 0,
                        degraded: false,
                        error: None,
                    });
                }
                completion => {
                    let Some(op_index) = open.remove(&event.process) else {
                        return Err(MalformedHistory {
                            event_index: index,
                            message: format!(
                                "process {} completes an operation it never invoked",
                                event.process
                            ),
                        });
                    };
                    let op = &mut ops[op_index];
                    if op.f != event.op.f {
                        return Err(MalformedHistory {
                            event_index: index,
                            message: format!(
                                "process {} invoked {} but completed {}",
                                event.process, op.f, event.op.f
                            ),
                        });
                    }
                    op.complete_index = Some(index);
                    op.complete_ns = Some(event.time_ns);
                    op.output = event.op.value.clone();
                    op.attempts = event.attempts;
                    op.degraded = event.degraded;
                    op.error = event.error.clone();
                    op.outcome = match completion {
                        EventType::Ok => Outcome::Ok,
                        EventType::Fail => Outcome::Fail,
                        _ => Outcome::Info,
                    };
                }
            }
        }
        Ok(ops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(process: u64, kind: EventType, f: OpKind, value: Value) -> Event {
        Event {
            time_ns: 0,
            process,
            kind,
            op: Op {
                f,
                key: None,
                value,
            },
            attempts: 0,
            degraded: false,
            error: None,
        }
    }

    #[test]
    fn pairs_invocations_with_completions_and_leaves_open_ones_info() {
        let mut h = History::new();
        h.push(ev(1, EventType::Invoke, OpKind::Write, Value::Int(3)));
        h.push(ev(2, EventType::Invoke, OpKind::Read, Value::Nil));
        h.push(ev(1, EventType::Ok, OpKind::Write, Value::Int(3)));
        h.push(ev(2, EventType::Ok, OpKind::Read, Value::Int(3)));
        h.push(ev(1, EventType::Invoke, OpKind::Write, Value::Int(4)));
        let ops = h.operations().unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[1].output, Value::Int(3));
        assert_eq!(ops[2].outcome, Outcome::Info);
        assert_eq!(ops[2].complete_ns, None);
    }

    #[test]
    fn rejects_a_second_invocation_while_one_is_open() {
        let mut h = History::new();
        h.push(ev(1, EventType::Invoke, OpKind::Write, Value::Int(3)));
        h.push(ev(1, EventType::Invoke, OpKind::Write, Value::Int(4)));
        assert_eq!(h.operations().unwrap_err().event_index, 1);
    }

    #[test]
    fn a_full_history_counts_what_it_drops() {
        let mut h = History::with_limit(1);
        h.push(ev(1, EventType::Invoke, OpKind::Write, Value::Int(3)));
        h.push(ev(1, EventType::Ok, OpKind::Write, Value::Int(3)));
        assert_eq!(h.len(), 1);
        assert!(h.is_truncated());
    }

    #[test]
    fn values_print_in_jepsen_spelling() {
        let v = Value::List(vec![Value::Int(3), Value::Nil, Value::Str("a".into())]);
        assert_eq!(v.to_string(), "[3 nil \"a\"]");
    }
}
