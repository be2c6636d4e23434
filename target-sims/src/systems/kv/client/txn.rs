//! Transactions from the client's side: a `txn` operation's
//! micro-operations become one logged [`TxnCommand`], and its answer fills
//! in what the reads saw.
//!
//! Keys are the micro-operations' keys as text (`0`, `1`, …), apart from
//! the `k…` keys of single-key operations. A list is stored the way the
//! `append` operation stores it, each element followed by a space
//! (`"1 2 3 "`), so a read shows a list exactly when its text ends in a
//! space; a register holds its value's text; an absent key reads `nil`
//! (the empty list, for list-append).
//!
//! A transaction that writes is a mutation: once it may have reached a
//! leader it is never resent. A read-only one is retried like a read. Two
//! planted bugs live here (`txn-split-reads`, `txn-split-commit`): both
//! break one transaction into several, each correct on its own.

use super::{text_value, value_text, Answer, KvClient};
use crate::systems::kv::protocol::{Command, Reply, Request};
use crate::systems::kv::settings::Bug;
use crate::systems::kv::txn::{Step, StepKind, TxnCommand};
use harness::history::{MicroOp, MopKind, Value};
use harness::target::Completion;

/// The store key of a micro-operation's key.
fn key_text(key: &Value) -> String {
    value_text(key)
}

fn step(mop: &MicroOp) -> Step {
    let (kind, value) = match mop.f {
        MopKind::Read => (StepKind::Read, String::new()),
        MopKind::Write => (StepKind::Write, value_text(&mop.value)),
        MopKind::Append => (StepKind::Append, format!("{} ", value_text(&mop.value))),
    };
    Step {
        kind,
        key: key_text(&mop.key),
        value,
    }
}

/// What a read's text is in the history: a list if it ends in a space
/// (every element an integer), else a register's value.
pub fn read_value(text: &str) -> Value {
    if text.ends_with(' ') {
        let items: Option<Vec<Value>> = text
            .split_whitespace()
            .map(|item| item.parse::<i64>().ok().map(Value::Int))
            .collect();
        if let Some(items) = items {
            return Value::List(items);
        }
        return Value::Str(text.to_string());
    }
    text_value(text)
}

/// The micro-operations with each read's value filled in from `reads`, or
/// `None` if there are not exactly as many reads.
fn fill(mops: &[MicroOp], reads: &[String]) -> Option<Vec<MicroOp>> {
    let mut reads = reads.iter();
    let filled: Vec<MicroOp> = mops
        .iter()
        .map(|mop| match mop.f {
            MopKind::Read => reads
                .next()
                .map(|text| MicroOp::read_saw(mop.key.clone(), read_value(text))),
            _ => Some(mop.clone()),
        })
        .collect::<Option<_>>()?;
    reads.next().is_none().then_some(filled)
}

/// Distinct keys in first-use order, each with the indices of its
/// micro-operations.
fn by_key(mops: &[MicroOp]) -> Vec<Vec<usize>> {
    let mut keys: Vec<&Value> = Vec::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, mop) in mops.iter().enumerate() {
        match keys.iter().position(|k| **k == mop.key) {
            Some(g) => groups[g].push(i),
            None => {
                keys.push(&mop.key);
                groups.push(vec![i]);
            }
        }
    }
    groups
}

impl KvClient {
    pub(super) async fn run_txn(&mut self, mops: &[MicroOp]) -> Completion {
        let invoked = Value::Txn(mops.to_vec());
        let read_only = mops.iter().all(|m| m.f == MopKind::Read);
        let multi_key = by_key(mops).len() > 1;
        let result = if multi_key && read_only && self.config.bug(Bug::TxnSplitReads) {
            self.split_reads(mops).await
        } else if multi_key && !read_only && self.config.bug(Bug::TxnSplitCommit) {
            self.split_commit(mops).await
        } else {
            self.commit(mops).await
        };
        match result {
            Ok((filled, attempts)) => Completion::ok(Value::Txn(filled)).with_attempts(attempts),
            Err(answer) => answer.completion(invoked),
        }
    }

    /// The transaction as one logged command.
    async fn commit(&mut self, mops: &[MicroOp]) -> Result<(Vec<MicroOp>, u32), Answer> {
        let command = TxnCommand {
            steps: mops.iter().map(step).collect(),
            snapshot: None,
        };
        let mutation = command.writes();
        let text = Request::Client(Command::Txn(command)).encode();
        let answer = self
            .exchange(&text, mutation, |reply| {
                matches!(reply, Reply::TxnDone(_) | Reply::CasFailed)
            })
            .await;
        match answer {
            Answer::Reply(Reply::TxnDone(reads), attempts) => match fill(mops, &reads) {
                Some(filled) => Ok((filled, attempts)),
                None => Err(Answer::Unknown(
                    format!("{} reads answered for the transaction's reads", reads.len()),
                    attempts,
                )),
            },
            Answer::Reply(Reply::CasFailed, attempts) => Err(Answer::NotDone(
                "aborted: a key it writes changed since its snapshot".into(),
                attempts,
            )),
            other => Err(other),
        }
    }

    /// The `txn-split-reads` bug: one linearizable read per key.
    async fn split_reads(&mut self, mops: &[MicroOp]) -> Result<(Vec<MicroOp>, u32), Answer> {
        let mut filled = Vec::with_capacity(mops.len());
        let mut total = 0;
        for mop in mops {
            let text = Request::Get {
                key: key_text(&mop.key),
            }
            .encode();
            match self
                .exchange(&text, false, |reply| matches!(reply, Reply::Value(_)))
                .await
            {
                Answer::Reply(Reply::Value(seen), attempts) => {
                    total += attempts;
                    filled.push(MicroOp::read_saw(mop.key.clone(), read_value(&seen)));
                }
                other => return Err(other),
            }
        }
        Ok((filled, total))
    }

    /// The `txn-split-commit` bug: one transaction per key, in turn; the
    /// first part that does not commit decides the outcome, whatever the
    /// parts before it did.
    async fn split_commit(&mut self, mops: &[MicroOp]) -> Result<(Vec<MicroOp>, u32), Answer> {
        let mut filled = mops.to_vec();
        let mut total = 0;
        for group in by_key(mops) {
            let part: Vec<MicroOp> = group.iter().map(|&i| mops[i].clone()).collect();
            let (done, attempts) = self.commit(&part).await?;
            total += attempts;
            for (i, mop) in group.into_iter().zip(done) {
                filled[i] = mop;
            }
        }
        Ok((filled, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_lists_when_the_text_is_a_list() {
        assert_eq!(read_value(""), Value::Nil);
        assert_eq!(read_value("1 22 "), Value::from(vec![1, 22]));
        assert_eq!(read_value("7"), Value::Int(7));
        assert_eq!(read_value("a b "), Value::Str("a b ".into()));
    }

    #[test]
    fn answers_fill_the_reads_in_order() {
        let mops = [MicroOp::append(0, 5), MicroOp::read(0), MicroOp::read(1)];
        let filled = fill(&mops, &["5 ".into(), "".into()]).unwrap();
        assert_eq!(
            filled,
            [
                MicroOp::append(0, 5),
                MicroOp::read_saw(0, vec![5]),
                MicroOp::read_saw(1, Value::Nil)
            ]
        );
        assert!(fill(&mops, &["5 ".into()]).is_none());
        assert!(fill(&mops, &["".into(), "".into(), "".into()]).is_none());
        assert_eq!(step(&mops[0]).value, "5 ");
        assert_eq!(step(&mops[2]).key, "1");
        assert_eq!(by_key(&mops), vec![vec![0, 1], vec![2]]);
    }
}
