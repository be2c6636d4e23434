//! The state machine: committed entries applied in order, each answering
//! the client that proposed it (or `unknown` if its entry was replaced),
//! and the applied state published for the convergence checker.
//!
//! Besides the state, a replica keeps a *history digest*: every applied
//! entry chained into one hash, carried in checkpoints so that it survives
//! compaction, restarts and a checkpoint sent by the leader. Replicas that
//! applied the same entries agree on it; one that applied a different
//! command at some index (a record damaged on disk and trusted, say)
//! disagrees for good, even after later writes have overwritten the keys
//! it got wrong. It is published with the state, as etcd's members compare
//! a hash of their store at the same revision to find a corrupted one, and
//! reported at every applied index (`harness::sim::publish_applied`), so
//! the harness sees a divergence even if a checkpoint repairs it later.

use super::Node;
use crate::systems::kv::protocol::{Command, Entry, Reply, Tokens};
use crate::systems::kv::txn::{execute, TxnCommand};
use std::collections::BTreeMap;

impl Node {
    pub(super) async fn apply_committed(&mut self) {
        let advanced = self.applied < self.commit;
        let mut commit_moved = false;
        while self.applied < self.commit {
            let index = self.applied + 1;
            let Some(entry) = self.log.get(index).cloned() else {
                break;
            };
            let result = apply_command(&mut self.state, &entry.command);
            self.applied = index;
            self.digest = chain_digest(self.digest, index, &entry);
            harness::sim::publish_applied(&self.host, index, self.digest);
            commit_moved = true;
            if let Some((term, reply)) = self.pending_writes.remove(&index) {
                let answer = if term == entry.term {
                    result
                } else {
                    Reply::Unknown("entry replaced".into())
                };
                let _ = reply.send(answer);
            }
        }
        if advanced {
            self.publish();
        }
        if commit_moved && self.is_leader() {
            // Followers learn the new commit index at once.
            self.broadcast();
        }
        self.maybe_checkpoint().await;
    }
}

/// The history digest after applying `entry` at `index`: FNV-1a over the
/// digest before it and the entry as its WAL record spells it.
pub(super) fn chain_digest(digest: u64, index: u64, entry: &Entry) -> u64 {
    let record = Tokens::new("").num(digest).num(index).entry(entry).finish();
    harness::seed::fnv1a(record.as_bytes())
}

/// Sets a key; the empty string is the absent key.
fn set(state: &mut BTreeMap<String, String>, key: &str, value: String) {
    if value.is_empty() {
        state.remove(key);
    } else {
        state.insert(key.to_string(), value);
    }
}

/// Applies a committed command and returns the answer its client gets.
fn apply_command(state: &mut BTreeMap<String, String>, command: &Command) -> Reply {
    match command {
        Command::Noop => Reply::Done,
        Command::Put { key, value } => {
            set(state, key, value.clone());
            Reply::Done
        }
        Command::Append { key, value } => {
            let current = state.get(key).cloned().unwrap_or_default();
            set(state, key, current + value);
            Reply::Done
        }
        Command::Cas { key, expected, new } => {
            if state.get(key).map_or("", String::as_str) == expected {
                set(state, key, new.clone());
                Reply::Done
            } else {
                Reply::CasFailed
            }
        }
        Command::Txn(txn) => apply_txn(state, txn),
    }
}

/// Runs a committed transaction. A snapshot-isolation one first checks
/// that no key it writes changed since its snapshot (first committer
/// wins); its reads were answered from the snapshot.
fn apply_txn(state: &mut BTreeMap<String, String>, txn: &TxnCommand) -> Reply {
    let current = |key: &str| state.get(key).cloned().unwrap_or_default();
    if let Some(snapshot) = &txn.snapshot {
        if snapshot
            .expect
            .iter()
            .any(|(key, held)| current(key) != *held)
        {
            return Reply::CasFailed;
        }
    }
    let effects = execute(&txn.steps, current);
    for (key, value) in effects.writes {
        set(state, &key, value);
    }
    match &txn.snapshot {
        Some(snapshot) => Reply::TxnDone(snapshot.reads.clone()),
        None => Reply::TxnDone(effects.reads),
    }
}
