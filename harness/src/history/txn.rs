//! Transactions: operations whose value is a list of micro-operations.
//!
//! A `txn` operation (Jepsen's `:f :txn`) carries its micro-operations in
//! order, as [`Value::Txn`]. Two data models use them (Elle's):
//!
//! - **list-append**: `[:append k v]` appends `v` to the list stored at `k`;
//!   `[:r k nil]` in the invocation is a read whose completion carries the
//!   whole list it saw, `[:r k [1 2 3]]` (`nil` or `[]`: the empty list).
//! - **rw-register**: `[:w k v]` sets the register `k` to `v`; `[:r k v]` in
//!   the completion is the value read (`nil`: never written).
//!
//! The invocation lists what the client asked for (reads with `nil`); an
//! `ok` completion repeats it with the values the reads saw. A `fail` or
//! `info` completion says nothing about reads.

use super::Value;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a micro-operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MopKind {
    /// `:append`: add an element at the end of a list.
    #[serde(rename = "append")]
    Append,
    /// `:r`: read a list or a register.
    #[serde(rename = "r")]
    Read,
    /// `:w`: overwrite a register.
    #[serde(rename = "w")]
    Write,
}

impl MopKind {
    pub const ALL: [MopKind; 3] = [MopKind::Append, MopKind::Read, MopKind::Write];

    /// Jepsen's keyword, without the colon.
    pub fn as_str(self) -> &'static str {
        match self {
            MopKind::Append => "append",
            MopKind::Read => "r",
            MopKind::Write => "w",
        }
    }

    pub fn parse(name: &str) -> Option<MopKind> {
        MopKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One step of a transaction: `[:append k v]`, `[:r k v]` or `[:w k v]`.
///
/// Keys are integers or strings (an EDN keyword key `:x` is read as the
/// string `":x"`); values are integers or strings, and a list-append read's
/// value is the list it saw.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MicroOp {
    pub f: MopKind,
    pub key: Value,
    pub value: Value,
}

impl MicroOp {
    pub fn append(key: impl Into<Value>, value: impl Into<Value>) -> MicroOp {
        MicroOp {
            f: MopKind::Append,
            key: key.into(),
            value: value.into(),
        }
    }

    /// A read as invoked: its value is `nil` until the completion fills it.
    pub fn read(key: impl Into<Value>) -> MicroOp {
        MicroOp {
            f: MopKind::Read,
            key: key.into(),
            value: Value::Nil,
        }
    }

    /// A read that saw `value` (for a completion).
    pub fn read_saw(key: impl Into<Value>, value: impl Into<Value>) -> MicroOp {
        MicroOp {
            f: MopKind::Read,
            key: key.into(),
            value: value.into(),
        }
    }

    pub fn write(key: impl Into<Value>, value: impl Into<Value>) -> MicroOp {
        MicroOp {
            f: MopKind::Write,
            key: key.into(),
            value: value.into(),
        }
    }
}

impl fmt::Display for MicroOp {
    /// Jepsen's spelling: `[:append 3 1]`, `[:r "x" [1 2]]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[:{} {} {}]", self.f.as_str(), self.key, self.value)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<Vec<i64>> for Value {
    /// A list of integers, such as what a list-append read saw.
    fn from(items: Vec<i64>) -> Value {
        Value::List(items.into_iter().map(Value::Int).collect())
    }
}

impl From<Option<i64>> for Value {
    /// A register read: `None` is `nil`.
    fn from(v: Option<i64>) -> Value {
        v.map_or(Value::Nil, Value::Int)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_ops_print_in_jepsen_spelling() {
        let txn = Value::Txn(vec![
            MicroOp::append(3, 1),
            MicroOp::read_saw("x", vec![1, 2]),
            MicroOp::write(4, Value::Nil),
        ]);
        assert_eq!(
            txn.to_string(),
            "[[:append 3 1] [:r \"x\" [1 2]] [:w 4 nil]]"
        );
    }

    #[test]
    fn txn_values_serialise_as_json_objects_and_back() {
        let txn = Value::Txn(vec![MicroOp::append("k", 1), MicroOp::read("k")]);
        let json = serde_json::to_string(&txn).unwrap();
        assert_eq!(
            json,
            r#"[{"f":"append","key":"k","value":1},{"f":"r","key":"k","value":null}]"#
        );
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), txn);
        // Inside an event too (its operation is flattened into it).
        let event = crate::history::Event {
            time_ns: 5,
            process: 1,
            kind: crate::history::EventType::Ok,
            op: crate::history::Op {
                f: crate::history::OpKind::Txn,
                key: None,
                value: txn.clone(),
            },
            attempts: 0,
            degraded: false,
            error: None,
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            serde_json::from_str::<crate::history::Event>(&json).unwrap(),
            event
        );
        // A plain list is still a list.
        let list: Value = serde_json::from_str("[1,[2]]").unwrap();
        assert_eq!(
            list,
            Value::List(vec![Value::Int(1), Value::List(vec![Value::Int(2)])])
        );
    }
}
