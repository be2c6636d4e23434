//! Reads by read index: the leader answers once it has committed an entry
//! of its own term and a majority has answered a heartbeat round sent
//! after the read arrived. No clock is trusted for this, unless the
//! leader's lease holds (`lease.rs`).

use super::{Node, PendingRead, Role, MAX_PENDING_READS};
use crate::systems::kv::protocol::Reply;
use crate::systems::kv::settings::Bug;
use tokio::sync::oneshot;
use tokio::time::Instant;

impl Node {
    pub(super) fn read(&mut self, key: String, reply: oneshot::Sender<Reply>) {
        if !self.is_leader() {
            let _ = reply.send(Reply::Redirect(self.leader));
            return;
        }
        if self.config.bug(Bug::StaleRead) {
            // The planted bug: "I am the leader, so my state is current."
            let value = self.state.get(&key).cloned().unwrap_or_default();
            let _ = reply.send(Reply::Value(value));
            return;
        }
        if self.lease_holds() {
            if let Role::Leader(leader) = &mut self.role {
                if !leader.lease_used {
                    leader.lease_used = true;
                    tracing::info!(target: "kv", host = %self.host, term = self.meta.term, "reads served on the lease");
                }
            }
            let value = self.state.get(&key).cloned().unwrap_or_default();
            let _ = reply.send(Reply::Value(value));
            return;
        }
        if self.pending_reads.len() >= MAX_PENDING_READS {
            let _ = reply.send(Reply::Unavailable("too many pending reads".into()));
            return;
        }
        // Only answers to requests sent from now on prove leadership after
        // the read arrived.
        self.round += 1;
        self.pending_reads.push_back(PendingRead {
            key,
            round: self.round,
            since: Instant::now(),
            reply,
        });
        self.broadcast();
        self.serve_reads();
    }

    pub(super) fn serve_reads(&mut self) {
        let Role::Leader(leader) = &self.role else {
            return;
        };
        if self.commit < leader.term_start {
            return;
        }
        while let Some(read) = self.pending_reads.front() {
            let acks = 1 + leader
                .acked_round
                .iter()
                .enumerate()
                .filter(|&(p, &r)| p != self.me && r >= read.round)
                .count();
            if acks < self.majority() {
                break;
            }
            let read = self.pending_reads.pop_front().expect("front exists");
            let value = self.state.get(&read.key).cloned().unwrap_or_default();
            let _ = read.reply.send(Reply::Value(value));
        }
    }
}
