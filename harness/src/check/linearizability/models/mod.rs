//! The built-in sequential specifications.
//!
//! Each model is one object: the checker gives every key of a history its
//! own model value (independent keys are checked apart), so a model never
//! looks at keys except to name them in messages. Values are interned to
//! small integers when the history is read, so the search compares and
//! hashes integers only.

mod counter;
mod interner;
mod kv;
mod queue;
mod register;

pub use counter::{Counter, CounterInput};
pub use kv::{Kv, KvInput};
pub use queue::{Queue, QueueInput};
pub use register::{Register, RegisterInput};

use super::memo::FixedMap;
use crate::history::Value;
use std::fmt;
use std::str::FromStr;

/// The built-in models, by the names the CLI and scenarios use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelKind {
    /// One register per key (or one for a key-less history): `read`,
    /// `write`, `cas [expected new]`; starts as `nil`.
    Register,
    /// A string per key: `read`/`get`, `write`/`put`, `append`, `cas`; an
    /// absent key reads as `""`.
    Kv,
    /// An integer per key: `add n`, `read`; starts at 0.
    Counter,
    /// A FIFO queue per key: `enqueue v`, `dequeue` (answers `nil` when
    /// empty).
    Queue,
}

impl ModelKind {
    pub const ALL: [ModelKind; 4] = [
        ModelKind::Register,
        ModelKind::Kv,
        ModelKind::Counter,
        ModelKind::Queue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::Kv => "kv",
            ModelKind::Counter => "counter",
            ModelKind::Queue => "queue",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown model name; its message lists the known ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownModel(pub String);

impl fmt::Display for UnknownModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = ModelKind::ALL.iter().map(|m| m.as_str()).collect();
        write!(
            f,
            "unknown model {:?}; expected one of: {}",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownModel {}

impl FromStr for ModelKind {
    type Err = UnknownModel;

    fn from_str(name: &str) -> Result<ModelKind, UnknownModel> {
        ModelKind::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
            .ok_or_else(|| UnknownModel(name.to_string()))
    }
}

/// Values of one partition, interned: id 0 is always `nil`.
#[derive(Clone, Debug)]
struct ValueTable {
    values: Vec<Value>,
    ids: FixedMap<Value, u32>,
}

impl ValueTable {
    const NIL: u32 = 0;

    fn new() -> ValueTable {
        let mut table = ValueTable {
            values: Vec::new(),
            ids: FixedMap::default(),
        };
        table.intern(&Value::Nil);
        table
    }

    fn intern(&mut self, value: &Value) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.ids.insert(value.clone(), id);
        id
    }

    fn get(&self, id: u32) -> &Value {
        &self.values[id as usize]
    }
}

/// `read` or `read of key "k"`: how messages name an operation on a key.
fn on_key(what: &str, key: Option<&str>) -> String {
    match key {
        Some(key) => format!("{what} of key {key:?}"),
        None => what.to_string(),
    }
}

/// `{a, b}` from descriptions, sorted so that messages do not depend on the
/// order the search met them in.
fn one_of(mut items: Vec<String>) -> String {
    items.sort();
    items.dedup();
    format!("{{{}}}", items.join(", "))
}

/// The error for an operation a model does not have.
fn unsupported(model: &str, f: crate::history::OpKind, has: &str, hint: &str) -> String {
    format!("the {model} model has {has}, not {f}{hint}")
}

/// Roughly what a hash map holds: its slots plus a control byte each.
fn map_bytes<K, V>(map: &FixedMap<K, V>) -> usize {
    map.capacity() * (std::mem::size_of::<(K, V)>() + 1)
}
