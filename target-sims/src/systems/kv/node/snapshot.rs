//! Snapshot-isolation transactions (`txn_isolation = "snapshot"`): the
//! leader answers the reads from its applied state when the request
//! arrives and logs the writes with what each written key held then; the
//! apply step aborts the transaction if any of them changed (see
//! `txn.rs`).
//!
//! The snapshot is a prefix of the log, so a transaction never sees half
//! of another; a leader whose own term has not committed an entry yet may
//! not have applied everything its predecessors committed, so it refuses
//! (the client tries again) rather than answer from an older prefix than
//! it must.

use super::{Node, Role};
use crate::systems::kv::protocol::{Command, Reply};
use crate::systems::kv::txn::{execute, Snapshot, TxnCommand};
use tokio::sync::oneshot;

impl Node {
    pub(super) async fn propose_on_snapshot(
        &mut self,
        mut txn: TxnCommand,
        reply: oneshot::Sender<Reply>,
    ) {
        let ready = match &self.role {
            Role::Leader(leader) => self.broken.is_none() && self.commit >= leader.term_start,
            _ => false,
        };
        if self.is_leader() && !ready {
            let _ = reply.send(Reply::Unavailable("leader not ready".into()));
            return;
        }
        if ready {
            let state = &self.state;
            let held = |key: &str| state.get(key).cloned().unwrap_or_default();
            let effects = execute(&txn.steps, held);
            let expect = effects
                .writes
                .keys()
                .map(|key| (key.clone(), held(key)))
                .collect();
            txn.snapshot = Some(Snapshot {
                reads: effects.reads,
                expect,
            });
        }
        // Not the leader: `propose` redirects, as for any command.
        self.propose(Command::Txn(txn), reply).await;
    }
}
