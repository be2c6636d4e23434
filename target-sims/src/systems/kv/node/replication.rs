//! Log replication. Follower side: accept a leader's term, append its
//! entries after the matching one (cutting a conflicting suffix), install
//! its checkpoint when far behind. Leader side: append locally, send each
//! idle peer what it lacks (or a heartbeat), take in the replies, and
//! commit the highest entry of this term a commit quorum holds.

use super::{Node, Outbound, Role, Sent, LEADER, MAX_BATCH_ENTRIES, MAX_PENDING_WRITES};
use crate::systems::kv::checkpoint::{
    replace_file, Checkpoint, CHECKPOINT_PATH, CHECKPOINT_TMP_PATH,
};
use crate::systems::kv::protocol::{
    AppendRequest, Command, Entry, Reply, Request, SnapshotRequest,
};
use crate::systems::kv::settings::KvConfig;
use crate::systems::kv::wal::encode_record;
use std::rc::Rc;
use tokio::sync::oneshot;
use tokio::time::Instant;

impl Node {
    pub(super) fn refuse(&self, round: u64, hint: u64) -> Reply {
        Reply::Appended {
            term: self.meta.term,
            success: false,
            match_index: hint,
            round,
        }
    }

    /// The term checks common to append and snapshot requests; `false`
    /// means refuse.
    pub(super) async fn accept_leader(&mut self, term: u64, leader: usize) -> bool {
        if self.broken.is_some() || term < self.meta.term {
            return false;
        }
        if term == self.meta.term && self.is_leader() {
            // Impossible while each term has one leader; refusing keeps a
            // leader from silently following a rival of its own term.
            tracing::warn!(target: "kv", host = %self.host, term, rival = %KvConfig::host(leader), "another leader in my term");
            return false;
        }
        if !self.follow_term(term).await {
            return false;
        }
        if self.leader != Some(leader) {
            self.leader = Some(leader);
            tracing::info!(target: "kv", host = %self.host, term, leader = %KvConfig::host(leader), "following leader");
        }
        self.election.heartbeat(&LEADER, Instant::now());
        self.heard_leader = Instant::now();
        true
    }

    pub(super) async fn on_append(&mut self, a: AppendRequest) -> Reply {
        if !self.accept_leader(a.term, a.leader).await {
            return self.refuse(a.round, self.commit);
        }
        if a.prev_index > self.log.last_index() {
            return self.refuse(a.round, self.log.last_index());
        }
        if a.prev_index >= self.log.base_index()
            && self.log.term_at(a.prev_index) != Some(a.prev_term)
        {
            let hint = self
                .commit
                .max(self.log.base_index())
                .min(a.prev_index.saturating_sub(1));
            return self.refuse(a.round, hint);
        }
        // Find where the new entries start, cutting a conflicting suffix.
        let mut fresh = Vec::new();
        for (i, entry) in a.entries.iter().enumerate() {
            let index = a.prev_index + 1 + i as u64;
            if index <= self.log.base_index() {
                continue;
            }
            if fresh.is_empty() && index <= self.log.last_index() {
                if self.log.term_at(index) == Some(entry.term) {
                    continue;
                }
                if index <= self.commit {
                    tracing::warn!(target: "kv", host = %self.host, index, commit = self.commit, "truncating committed entries");
                }
                let offset = self.log.offset(index).expect("index within the log");
                if let Err(err) = self.wal.truncate(offset).await {
                    self.fail_disk("wal truncate", err);
                    return self.refuse(a.round, self.commit);
                }
                self.log.truncate_from(index);
            }
            fresh.push((index, entry.clone()));
        }
        if !fresh.is_empty() {
            let mut bytes = Vec::new();
            let mut offsets = Vec::new();
            for (index, entry) in &fresh {
                offsets.push(self.wal.size_bytes() + bytes.len() as u64);
                encode_record(*index, entry, &mut bytes);
            }
            if let Err(err) = self.wal.append(&bytes, self.sync_writes()).await {
                self.fail_disk("wal append", err);
                return self.refuse(a.round, self.commit);
            }
            for ((_, entry), offset) in fresh.into_iter().zip(offsets) {
                self.log.push(entry, offset);
            }
        }
        let last_new = a.prev_index + a.entries.len() as u64;
        if a.leader_commit > self.commit {
            self.commit = self.commit.max(a.leader_commit.min(last_new));
            self.apply_committed().await;
        }
        if self.meta.untrusted
            && a.leader_commit > 0
            && self.log.last_index() >= a.leader_commit
            && self.log.term_at(a.leader_commit) == Some(a.term)
        {
            self.meta.untrusted = false;
            if self.persist_meta().await {
                tracing::info!(target: "kv", host = %self.host, index = a.leader_commit, "caught up after lost records; voting again");
            }
        }
        Reply::Appended {
            term: self.meta.term,
            success: true,
            match_index: last_new,
            round: a.round,
        }
    }

    pub(super) async fn on_snapshot(&mut self, s: SnapshotRequest) -> Reply {
        if !self.accept_leader(s.term, s.leader).await {
            return self.refuse(s.round, self.commit);
        }
        let done = Reply::Appended {
            term: self.meta.term,
            success: true,
            match_index: s.last_index,
            round: s.round,
        };
        if s.last_index <= self.commit {
            return done;
        }
        let checkpoint = Checkpoint {
            last_index: s.last_index,
            last_term: s.last_term,
            digest: s.digest,
            state: s.state,
        };
        if let Err(err) = replace_file(
            &self.disk,
            CHECKPOINT_TMP_PATH,
            CHECKPOINT_PATH,
            &checkpoint.encode(),
        )
        .await
        {
            self.fail_disk("checkpoint", err);
            return self.refuse(s.round, self.commit);
        }
        if self.log.term_at(s.last_index) != Some(s.last_term) {
            self.log.reset(s.last_index, s.last_term);
        }
        if !self.compact(s.last_index, s.last_term).await {
            return self.refuse(s.round, self.commit);
        }
        tracing::info!(target: "kv", host = %self.host, index = s.last_index, "checkpoint installed from leader");
        self.state = checkpoint.state.clone();
        self.commit = s.last_index;
        self.applied = s.last_index;
        self.digest = checkpoint.digest;
        self.checkpoint = Rc::new(checkpoint);
        self.publish();
        done
    }

    /// Appends one entry of the current term to the leader's log, durably
    /// (unless the fsync bug is planted). `None` if the disk failed.
    pub(super) async fn append_local(&mut self, command: Command) -> Option<u64> {
        let index = self.log.last_index() + 1;
        let entry = Entry {
            term: self.meta.term,
            command,
        };
        let mut bytes = Vec::new();
        encode_record(index, &entry, &mut bytes);
        let offset = self.wal.size_bytes();
        if let Err(err) = self.wal.append(&bytes, self.sync_writes()).await {
            self.fail_disk("wal append", err);
            return None;
        }
        self.log.push(entry, offset);
        Some(index)
    }

    pub(super) async fn propose(&mut self, command: Command, reply: oneshot::Sender<Reply>) {
        if !self.is_leader() || self.broken.is_some() {
            let _ = reply.send(Reply::Redirect(self.leader));
            return;
        }
        if self.pending_writes.len() >= MAX_PENDING_WRITES {
            let _ = reply.send(Reply::Unavailable("too many pending writes".into()));
            return;
        }
        let Some(index) = self.append_local(command).await else {
            // The record may or may not have reached the disk.
            let _ = reply.send(Reply::Unknown("disk error".into()));
            return;
        };
        self.pending_writes.insert(index, (self.meta.term, reply));
        self.advance_commit();
        self.apply_committed().await;
        self.broadcast();
    }

    /// Sends every idle peer what it is missing (or a heartbeat).
    pub(super) fn broadcast(&mut self) {
        self.start_lease_round();
        if let Role::Leader(leader) = &mut self.role {
            leader.last_broadcast = Instant::now();
        }
        for peer in 0..self.config.replicas {
            if peer != self.me {
                self.send_to(peer);
            }
        }
    }

    pub(super) fn send_to(&mut self, peer: usize) {
        let Role::Leader(leader) = &mut self.role else {
            return;
        };
        if leader.inflight[peer] {
            return;
        }
        let next = leader.next[peer];
        let term = self.meta.term;
        let request = if next <= self.log.base_index() {
            Request::Snapshot(SnapshotRequest {
                term,
                leader: self.me,
                last_index: self.checkpoint.last_index,
                last_term: self.checkpoint.last_term,
                round: self.round,
                digest: self.checkpoint.digest,
                state: self.checkpoint.state.clone(),
            })
        } else {
            let prev_index = next - 1;
            Request::Append(AppendRequest {
                term,
                leader: self.me,
                prev_index,
                prev_term: self.log.term_at(prev_index).expect("prev within the log"),
                leader_commit: self.commit,
                round: self.round,
                entries: self.log.slice(next, MAX_BATCH_ENTRIES),
            })
        };
        let link = self.peers[peer].as_ref().expect("a peer has a link");
        if link
            .try_send(Outbound {
                request,
                sent: Sent::Append { term },
            })
            .is_ok()
        {
            leader.inflight[peer] = true;
            leader.told_commit[peer] = self.commit;
        }
    }

    /// The commit index last sent to `peer` in this term.
    fn told_commit(&self, peer: usize) -> u64 {
        match &self.role {
            Role::Leader(leader) => leader.told_commit[peer],
            _ => 0,
        }
    }

    pub(super) async fn on_peer_reply(&mut self, peer: usize, sent: Sent, reply: Option<Reply>) {
        let reply_term = match &reply {
            Some(Reply::Vote { term, .. }) | Some(Reply::Appended { term, .. }) => Some(*term),
            _ => None,
        };
        if let Some(term) = reply_term.filter(|&t| t > self.meta.term) {
            self.follow_term(term).await;
            return;
        }
        match (sent, reply) {
            (Sent::Vote { term }, Some(Reply::Vote { granted: true, .. })) => {
                if term != self.meta.term {
                    return;
                }
                let won = match &mut self.role {
                    Role::Candidate { votes } => {
                        votes.insert(peer);
                        votes.len() >= self.config.majority()
                    }
                    _ => false,
                };
                if won {
                    self.become_leader().await;
                }
            }
            (Sent::Append { term }, reply) => {
                if term != self.meta.term {
                    return;
                }
                let Role::Leader(leader) = &mut self.role else {
                    return;
                };
                leader.inflight[peer] = false;
                let Some(Reply::Appended {
                    success,
                    match_index,
                    round,
                    ..
                }) = reply
                else {
                    return;
                };
                leader.quorum.heartbeat(&peer, Instant::now());
                leader.acked_round[peer] = leader.acked_round[peer].max(round);
                if success {
                    leader.matched[peer] = leader.matched[peer].max(match_index);
                    leader.next[peer] = leader.matched[peer] + 1;
                } else {
                    let backed_off = leader.next[peer].saturating_sub(1);
                    leader.next[peer] = (match_index + 1).min(backed_off).max(1);
                }
                let behind = leader.next[peer] <= self.log.last_index();
                let committed = self.commit;
                self.advance_commit();
                self.apply_committed().await;
                self.serve_reads();
                // Reads served on the lease send nothing, so followers
                // would learn of a commit only at the next heartbeat: in
                // lease mode, tell them at once.
                let lease = self.lease_reads();
                if lease && self.commit > committed {
                    self.broadcast();
                } else if behind || (lease && self.told_commit(peer) < self.commit) {
                    self.send_to(peer);
                }
            }
            _ => {}
        }
    }

    /// Commits the highest entry of this term that a commit quorum holds.
    pub(super) fn advance_commit(&mut self) {
        let Role::Leader(leader) = &self.role else {
            return;
        };
        let mut n = self.log.last_index();
        while n > self.commit && self.log.term_at(n) == Some(self.meta.term) {
            let holders = 1
                + (0..self.config.replicas)
                    .filter(|&p| p != self.me && leader.matched[p] >= n)
                    .count();
            if holders >= self.config.commit_quorum() {
                self.commit = n;
                break;
            }
            n -= 1;
        }
    }
}
