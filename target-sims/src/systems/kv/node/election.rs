//! Terms, roles and votes: the election timer drawn per term from the
//! host's seeded RNG, following a newer term, stepping down, standing for
//! election, becoming leader, and granting at most one vote per term to a
//! candidate whose log is at least as up to date.

use super::{Leader, Node, Outbound, Role, Sent, LEADER};
use crate::primitives::detector::{HeartbeatConfig, HeartbeatDetector};
use crate::systems::kv::protocol::{Command, Reply, Request, VoteRequest};
use crate::systems::kv::settings::{Bug, KvConfig};
use harness::serde_json::json;
use rand::Rng;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::Instant;

impl Node {
    pub(super) fn reset_election_timer(&mut self) {
        let (min, max) = (
            self.config.election_timeout_min,
            self.config.election_timeout_max,
        );
        let span = (max - min).as_millis() as u64;
        let timeout = min + Duration::from_millis(self.rng.random_range(0..=span));
        self.election = HeartbeatDetector::new(
            format!("{}/election", self.host),
            HeartbeatConfig { timeout },
        )
        .expect("election timeout checked by the settings");
        self.election.heartbeat(&LEADER, Instant::now());
    }

    /// Moves to `term` as a follower (persisting it); false if the disk
    /// failed.
    pub(super) async fn follow_term(&mut self, term: u64) -> bool {
        if term > self.meta.term {
            self.meta.term = term;
            self.meta.voted_for = None;
            if !self.persist_meta().await {
                return false;
            }
        }
        if !matches!(self.role, Role::Follower) {
            self.step_down();
        }
        true
    }

    /// Becomes a follower in the current term, giving up what a leader held.
    pub(super) fn step_down(&mut self) {
        if self.is_leader() {
            for (_, (_, reply)) in std::mem::take(&mut self.pending_writes) {
                let _ = reply.send(Reply::Unknown("leader stepped down".into()));
            }
            for read in std::mem::take(&mut self.pending_reads) {
                let _ = read
                    .reply
                    .send(Reply::Unavailable("leader stepped down".into()));
            }
        }
        let was = std::mem::replace(&mut self.role, Role::Follower);
        if !matches!(was, Role::Follower) {
            tracing::info!(target: "kv", host = %self.host, term = self.meta.term, "became follower");
        }
        self.leader = None;
        self.reset_election_timer();
    }

    pub(super) async fn start_election(&mut self) {
        self.meta.term += 1;
        self.meta.voted_for = Some(self.me);
        if !self.persist_meta().await {
            return;
        }
        self.role = Role::Candidate {
            votes: BTreeSet::from([self.me]),
        };
        self.leader = None;
        self.reset_election_timer();
        tracing::info!(target: "kv", host = %self.host, term = self.meta.term, "election started");
        let request = VoteRequest {
            term: self.meta.term,
            candidate: self.me,
            last_index: self.log.last_index(),
            last_term: self.log.last_term(),
        };
        for peer in 0..self.config.replicas {
            if let Some(link) = &self.peers[peer] {
                let _ = link.try_send(Outbound {
                    request: Request::Vote(request.clone()),
                    sent: Sent::Vote {
                        term: self.meta.term,
                    },
                });
            }
        }
    }

    pub(super) async fn become_leader(&mut self) {
        let n = self.config.replicas;
        let now = Instant::now();
        let mut quorum = HeartbeatDetector::new(
            format!("{}/quorum", self.host),
            HeartbeatConfig {
                timeout: self.config.step_down_after(),
            },
        )
        .expect("step-down timeout within bounds");
        for peer in (0..n).filter(|&p| p != self.me) {
            quorum.heartbeat(&peer, now);
        }
        let next = self.log.last_index() + 1;
        self.role = Role::Leader(Box::new(Leader {
            next: vec![next; n],
            matched: vec![0; n],
            inflight: vec![false; n],
            acked_round: vec![0; n],
            told_commit: vec![0; n],
            term_start: next,
            last_broadcast: now,
            quorum,
            sent_rounds: Default::default(),
            lease_used: false,
        }));
        self.leader = Some(self.me);
        tracing::info!(target: "kv", host = %self.host, term = self.meta.term, wall_ms = self.clock.now_ms(), "became leader");
        harness::assert_reachable!(
            "a leader was elected",
            &json!({ "host": self.host, "term": self.meta.term })
        );
        if self.append_local(Command::Noop).await.is_some() {
            self.advance_commit();
            self.apply_committed().await;
            self.broadcast();
        }
    }

    pub(super) async fn on_vote(&mut self, v: VoteRequest) -> Reply {
        // Refused without taking on the candidate's term: a leader's lease
        // may still hold.
        if self.broken.is_some() || self.keeps_lease_promise() {
            return Reply::Vote {
                term: self.meta.term,
                granted: false,
            };
        }
        if v.term > self.meta.term && !self.follow_term(v.term).await {
            return Reply::Vote {
                term: self.meta.term,
                granted: false,
            };
        }
        let up_to_date =
            (v.last_term, v.last_index) >= (self.log.last_term(), self.log.last_index());
        // The planted bug forgets to look at the vote already cast.
        let free = self.meta.voted_for.is_none_or(|c| c == v.candidate)
            || self.config.bug(Bug::DoubleVote);
        let mut granted = v.term == self.meta.term && up_to_date && free && !self.meta.untrusted;
        if granted {
            self.meta.voted_for = Some(v.candidate);
            granted = self.persist_meta().await;
        }
        if granted {
            self.reset_election_timer();
            tracing::info!(
                target: "kv",
                host = %self.host,
                term = v.term,
                candidate = %KvConfig::host(v.candidate),
                "vote granted"
            );
        }
        Reply::Vote {
            term: self.meta.term,
            granted,
        }
    }
}
