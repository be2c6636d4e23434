//! Multi-key transactions: one log entry holding a transaction's steps.
//!
//! Model: a transaction is a list of steps over the store's string values —
//! `read k`, `write k v` (set), `append k v` (concatenate). By default the
//! whole transaction is one command of the replicated log and runs when
//! that entry is applied: every replica applies the same entries in the
//! same order, and the leader answers only once the entry commits, so
//! transactions are strict serializable (read-only ones too: they go
//! through the log like any other).
//!
//! With `txn_isolation = "snapshot"` the leader instead answers a
//! transaction's reads from its applied state when the request arrives
//! (the snapshot) and logs the writes with the value each written key held
//! in that snapshot; applying the entry aborts the transaction when any of
//! those keys changed since (first committer wins). That is snapshot
//! isolation: no lost updates, no fractured reads, but two transactions
//! that read each other's keys and write disjoint ones both commit — write
//! skew, which serializability forbids.
//!
//! A transaction travels in one token of the usual entry layout (see
//! [`super::protocol`]): its own `|`-separated tokens, escaped once more.

use super::protocol::{Parser, Tokens};
use std::collections::BTreeMap;

/// What a step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Read,
    Write,
    Append,
}

impl StepKind {
    fn word(self) -> &'static str {
        match self {
            StepKind::Read => "r",
            StepKind::Write => "w",
            StepKind::Append => "a",
        }
    }
}

/// One step; a read's value is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    pub key: String,
    pub value: String,
}

/// What a snapshot-isolation transaction saw when the leader took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// One value per read step, in order.
    pub reads: Vec<String>,
    /// Each written key and the value it held in the snapshot.
    pub expect: Vec<(String, String)>,
}

/// A transaction as the log carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnCommand {
    pub steps: Vec<Step>,
    /// `None`: run at apply time (serializable). `Some`: reads already
    /// answered from a snapshot; writes checked against it.
    pub snapshot: Option<Snapshot>,
}

/// What running a transaction's steps produced: the value of each read,
/// in order, and the final value of each key it wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    pub reads: Vec<String>,
    pub writes: BTreeMap<String, String>,
}

/// Runs `steps` over the state `lookup` shows, with the transaction's own
/// writes visible to its later reads. Changes nothing.
pub fn execute(steps: &[Step], lookup: impl Fn(&str) -> String) -> Effects {
    let mut effects = Effects::default();
    for step in steps {
        let current = |effects: &Effects| {
            effects
                .writes
                .get(&step.key)
                .cloned()
                .unwrap_or_else(|| lookup(&step.key))
        };
        match step.kind {
            StepKind::Read => {
                let seen = current(&effects);
                effects.reads.push(seen);
            }
            StepKind::Write => {
                effects.writes.insert(step.key.clone(), step.value.clone());
            }
            StepKind::Append => {
                let joined = current(&effects) + &step.value;
                effects.writes.insert(step.key.clone(), joined);
            }
        }
    }
    effects
}

impl TxnCommand {
    /// Whether any step writes.
    pub fn writes(&self) -> bool {
        self.steps.iter().any(|s| s.kind != StepKind::Read)
    }

    /// The transaction as one string (a token of the entry).
    pub fn encode(&self) -> String {
        let mut t = Tokens::new("txn").num(self.steps.len() as u64);
        for step in &self.steps {
            t = t.word(step.kind.word()).str(&step.key).str(&step.value);
        }
        match &self.snapshot {
            None => t.word("-").finish(),
            Some(snapshot) => {
                t = t.word("s").num(snapshot.reads.len() as u64);
                for read in &snapshot.reads {
                    t = t.str(read);
                }
                t = t.num(snapshot.expect.len() as u64);
                for (key, value) in &snapshot.expect {
                    t = t.str(key).str(value);
                }
                t.finish()
            }
        }
    }

    pub fn decode(text: &str) -> Result<TxnCommand, String> {
        let mut p = Parser::new(text);
        if p.word()? != "txn" {
            return Err(format!("not a transaction: {text:?}"));
        }
        let n = p.num()?;
        let mut steps = Vec::new();
        for _ in 0..n {
            let kind = match p.word()? {
                "r" => StepKind::Read,
                "w" => StepKind::Write,
                "a" => StepKind::Append,
                other => return Err(format!("unknown transaction step {other:?}")),
            };
            steps.push(Step {
                kind,
                key: p.str()?,
                value: p.str()?,
            });
        }
        let snapshot = match p.word()? {
            "-" => None,
            "s" => {
                let reads = (0..p.num()?).map(|_| p.str()).collect::<Result<_, _>>()?;
                let mut expect = Vec::new();
                for _ in 0..p.num()? {
                    expect.push((p.str()?, p.str()?));
                }
                Some(Snapshot { reads, expect })
            }
            other => return Err(format!("unknown transaction mode {other:?}")),
        };
        p.end()?;
        Ok(TxnCommand { steps, snapshot })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(kind: StepKind, key: &str, value: &str) -> Step {
        Step {
            kind,
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn a_transaction_sees_its_own_writes_and_changes_nothing() {
        let state: BTreeMap<String, String> = [("x".to_string(), "1 ".to_string())].into();
        let steps = [
            step(StepKind::Read, "x", ""),
            step(StepKind::Append, "x", "2 "),
            step(StepKind::Read, "x", ""),
            step(StepKind::Read, "y", ""),
            step(StepKind::Write, "y", "7"),
            step(StepKind::Write, "y", "8"),
        ];
        let effects = execute(&steps, |k| state.get(k).cloned().unwrap_or_default());
        assert_eq!(effects.reads, ["1 ", "1 2 ", ""]);
        assert_eq!(
            effects.writes,
            [("x".into(), "1 2 ".into()), ("y".into(), "8".into())].into()
        );
        assert_eq!(state.len(), 1);
    }

    #[test]
    fn transactions_round_trip_through_their_text() {
        let plain = TxnCommand {
            steps: vec![
                step(StepKind::Append, "0", "12 "),
                step(StepKind::Read, "1|x", ""),
            ],
            snapshot: None,
        };
        let snapshot = TxnCommand {
            snapshot: Some(Snapshot {
                reads: vec!["%= 3 ".into()],
                expect: vec![("0".into(), "".into())],
            }),
            ..plain.clone()
        };
        for txn in [plain, snapshot] {
            assert_eq!(TxnCommand::decode(&txn.encode()).unwrap(), txn);
        }
        for bad in [
            "",
            "txn|1|r|=a",
            "txn|0|x",
            "txn|1|q|=a|=|-",
            "txn|0|-|extra",
        ] {
            assert!(TxnCommand::decode(bad).is_err(), "{bad:?}");
        }
    }
}
