//! The state machine: committed entries applied in order, each answering
//! the client that proposed it (or `unknown` if its entry was replaced),
//! and the applied state published for the convergence checker.

use super::Node;
use crate::systems::kv::protocol::{Command, Reply};
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
