//! From a history's `txn` operations to compact transactions: keys and
//! values interned to dense ids, every micro-operation checked against the
//! data model, and each one's role in its transaction worked out (a read
//! before the transaction's own writes to that key is *external*: it shows
//! another transaction's version; the last write of a key is the one other
//! transactions can see).

use super::hashing::FxMap;
use super::{Options, TxnModel};
use crate::history::{MicroOp, MopKind, OpKind, Operation, Outcome, Value};

/// The version every key holds before any write (the empty list, `nil`).
pub(super) const INIT: u32 = u32::MAX;

/// What a micro-operation is to its transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// The first read of a key, before any write to it by this transaction.
    ExternalRead,
    /// Any other read whose value is known.
    InternalRead,
    /// A read of an `info` or `fail` transaction: nothing is known.
    UnknownRead,
    /// The transaction's last write to the key.
    FinalWrite,
    /// A write the same transaction overwrote (or appended after) later.
    IntermediateWrite,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Mop {
    pub kind: MopKind,
    pub key: u32,
    /// Writes: the value's id. Known reads: an index for [`Prepared::read`].
    pub arg: u32,
    pub role: Role,
}

impl Mop {
    pub fn is_write(&self) -> bool {
        self.kind != MopKind::Read
    }
}

#[derive(Clone, Debug)]
pub(super) struct Txn {
    /// Index of the operation in [`Prepared::operations`].
    pub op: u32,
    pub outcome: Outcome,
    mops: (u32, u32),
}

impl Txn {
    /// Whether it may have committed, and so is a vertex of the graph.
    pub fn possible(&self) -> bool {
        self.outcome != Outcome::Fail
    }
}

/// A history's transactions, ready for inference.
pub(super) struct Prepared {
    pub model: TxnModel,
    pub operations: Vec<Operation>,
    pub txns: Vec<Txn>,
    mops: Vec<Mop>,
    /// `(start, len)` in `elements` for each known read.
    reads: Vec<(u32, u32)>,
    elements: Vec<u32>,
    /// Key ids to keys and value ids to values, for messages.
    pub keys: Vec<Value>,
    pub values: Vec<Value>,
    /// Operations that are not transactions.
    pub ignored: usize,
}

impl Prepared {
    pub fn mops(&self, txn: u32) -> &[Mop] {
        let (start, end) = self.txns[txn as usize].mops;
        &self.mops[start as usize..end as usize]
    }

    /// What a known read saw: a list of value ids (a register read is a
    /// list of at most one value; empty is the initial version).
    pub fn read(&self, mop: &Mop) -> &[u32] {
        debug_assert!(mop.kind == MopKind::Read && mop.role != Role::UnknownRead);
        let (start, len) = self.reads[mop.arg as usize];
        &self.elements[start as usize..(start + len) as usize]
    }

    /// The version a known read observed: the write of its last element.
    pub fn read_version(&self, mop: &Mop) -> u32 {
        self.read(mop).last().copied().unwrap_or(INIT)
    }

    /// The txn's event names for messages: `T12 (process 3)`.
    pub fn name(&self, txn: u32) -> String {
        let op = &self.operations[self.txns[txn as usize].op as usize];
        format!("T{} (process {})", op.invoke_index, op.process)
    }

    pub fn key_name(&self, key: u32) -> String {
        self.keys[key as usize].to_string()
    }

    /// What a known read saw, spelled as in the history.
    pub fn read_text(&self, mop: &Mop) -> String {
        let seen = self.read(mop);
        match self.model {
            TxnModel::ListAppend => {
                let items: Vec<String> = seen
                    .iter()
                    .map(|&v| self.values[v as usize].to_string())
                    .collect();
                format!("[{}]", items.join(" "))
            }
            TxnModel::RwRegister => seen
                .last()
                .map_or("nil".to_string(), |&v| self.values[v as usize].to_string()),
        }
    }

    pub fn value_name(&self, value: u32) -> String {
        if value == INIT {
            "the initial state".to_string()
        } else {
            self.values[value as usize].to_string()
        }
    }
}

struct Interner {
    ids: FxMap<Value, u32>,
    items: Vec<Value>,
}

impl Interner {
    fn new() -> Interner {
        Interner {
            ids: FxMap::default(),
            items: Vec::new(),
        }
    }

    fn intern(&mut self, value: &Value) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = self.items.len() as u32;
        self.ids.insert(value.clone(), id);
        self.items.push(value.clone());
        id
    }
}

/// Checks and compacts the `txn` operations; the error says which event
/// does not fit the model, and how.
pub(super) fn prepare(operations: Vec<Operation>, options: &Options) -> Result<Prepared, String> {
    let mut out = Prepared {
        model: options.model,
        operations: Vec::new(),
        txns: Vec::new(),
        mops: Vec::new(),
        reads: Vec::new(),
        elements: Vec::new(),
        keys: Vec::new(),
        values: Vec::new(),
        ignored: 0,
    };
    let mut keys = Interner::new();
    let mut values = Interner::new();
    let mut roles = RoleTracker::default();
    for (index, op) in operations.iter().enumerate() {
        if op.f != OpKind::Txn {
            out.ignored += 1;
            continue;
        }
        if out.txns.len() as u64 >= options.budget.max_txns {
            return Err(format!(
                "the history has more than {} transactions ([invariants.transactional] max_txns, check-history --max-txns); raise it or check a shorter history",
                options.budget.max_txns
            ));
        }
        let event = op.complete_index.unwrap_or(op.invoke_index);
        let at = |message: String| format!("event {event} (process {}): {message}", op.process);
        let mops = txn_mops(op).map_err(at)?;
        let start = out.mops.len() as u32;
        roles.begin(mops.len());
        for (position, mop) in mops.iter().enumerate() {
            let at_mop =
                |message: String| at(format!("micro-operation {} {mop}: {message}", position + 1));
            check_mop(mop, options.model).map_err(at_mop)?;
            let key = match &mop.key {
                Value::Int(_) | Value::Str(_) => keys.intern(&mop.key),
                other => {
                    return Err(at_mop(format!(
                        "a key must be an integer or a string, found {other}"
                    )))
                }
            };
            let known = op.outcome == Outcome::Ok;
            let arg = match mop.f {
                MopKind::Read if !known => 0,
                MopKind::Read => {
                    let items: &[Value] = match &mop.value {
                        Value::Nil => &[],
                        Value::List(items) => items,
                        single => std::slice::from_ref(single),
                    };
                    let start = out.elements.len() as u32;
                    for item in items {
                        out.elements.push(values.intern(item));
                    }
                    out.reads.push((start, items.len() as u32));
                    out.reads.len() as u32 - 1
                }
                MopKind::Append | MopKind::Write => values.intern(&mop.value),
            };
            let index = out.mops.len();
            let role = roles.role(key, mop.f, known, index, &mut out.mops);
            out.mops.push(Mop {
                kind: mop.f,
                key,
                arg,
                role,
            });
        }
        out.txns.push(Txn {
            op: index as u32,
            outcome: op.outcome,
            mops: (start, out.mops.len() as u32),
        });
    }
    out.keys = keys.items;
    out.values = values.items;
    out.operations = operations;
    Ok(out)
}

/// The micro-operations to use: an `ok` completion's (with what the reads
/// saw), which must match the invocation's; otherwise the invocation's.
fn txn_mops(op: &Operation) -> Result<&[MicroOp], String> {
    fn as_mops<'a>(value: &'a Value, what: &str) -> Result<&'a [MicroOp], String> {
        match value {
            Value::Txn(mops) => Ok(mops),
            // JSON spells an empty transaction as an empty list.
            Value::List(items) if items.is_empty() => Ok(&[]),
            other => Err(format!(
                "the {what} of a txn must be a list of micro-operations, found {other}"
            )),
        }
    }
    let invoked = as_mops(&op.input, "invocation")?;
    if op.outcome != Outcome::Ok {
        return Ok(invoked);
    }
    let completed = as_mops(&op.output, "ok completion")?;
    if completed.len() != invoked.len() {
        return Err(format!(
            "the completion has {} micro-operations but the invocation had {}",
            completed.len(),
            invoked.len()
        ));
    }
    for (i, (asked, done)) in invoked.iter().zip(completed).enumerate() {
        let same_write = asked.f == MopKind::Read || asked.value == done.value;
        if asked.f != done.f || asked.key != done.key || !same_write {
            return Err(format!(
                "micro-operation {} was invoked as {asked} but completed as {done}",
                i + 1
            ));
        }
    }
    Ok(completed)
}

fn check_mop(mop: &MicroOp, model: TxnModel) -> Result<(), String> {
    let scalar = |v: &Value| matches!(v, Value::Int(_) | Value::Str(_));
    match (model, mop.f) {
        (TxnModel::ListAppend, MopKind::Append) | (TxnModel::RwRegister, MopKind::Write) => {
            if scalar(&mop.value) {
                Ok(())
            } else {
                Err(format!(
                    "a written value must be an integer or a string, found {}",
                    mop.value
                ))
            }
        }
        (TxnModel::ListAppend, MopKind::Read) => match &mop.value {
            Value::Nil => Ok(()),
            Value::List(items) if items.iter().all(scalar) => Ok(()),
            other => Err(format!(
                "a list-append read sees nil or a list of integers or strings, found {other}"
            )),
        },
        (TxnModel::RwRegister, MopKind::Read) => {
            if mop.value.is_nil() || scalar(&mop.value) {
                Ok(())
            } else {
                Err(format!(
                    "a register read sees nil, an integer or a string, found {}",
                    mop.value
                ))
            }
        }
        (TxnModel::ListAppend, MopKind::Write) => {
            Err("list-append transactions append and read; [:w …] is rw-register's".to_string())
        }
        (TxnModel::RwRegister, MopKind::Append) => {
            Err("rw-register transactions write and read; [:append …] is list-append's".to_string())
        }
    }
}

/// Per transaction: which keys it has read and written so far, to tell
/// external reads from internal ones and final writes from intermediate
/// ones. Transactions are short, so a linear scan beats a hash table.
#[derive(Default)]
struct RoleTracker {
    /// `(key, read so far, index of the latest write)`.
    seen: Vec<(u32, bool, Option<usize>)>,
}

impl RoleTracker {
    fn begin(&mut self, mops: usize) {
        self.seen.clear();
        self.seen.reserve(mops);
    }

    fn role(
        &mut self,
        key: u32,
        kind: MopKind,
        known: bool,
        index: usize,
        mops: &mut [Mop],
    ) -> Role {
        let slot = match self.seen.iter().position(|s| s.0 == key) {
            Some(slot) => slot,
            None => {
                self.seen.push((key, false, None));
                self.seen.len() - 1
            }
        };
        let entry = &mut self.seen[slot];
        if kind == MopKind::Read {
            if !known {
                return Role::UnknownRead;
            }
            let external = !entry.1 && entry.2.is_none();
            entry.1 = true;
            return if external {
                Role::ExternalRead
            } else {
                Role::InternalRead
            };
        }
        if let Some(previous) = entry.2.replace(index) {
            mops[previous].role = Role::IntermediateWrite;
        }
        Role::FinalWrite
    }
}
