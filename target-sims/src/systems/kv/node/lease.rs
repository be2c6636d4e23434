//! Leader leases (`reads = "lease"`), as etcd, TiKV and CockroachDB have
//! them: the leader answers reads from its own state, without a quorum
//! round, while its lease holds.
//!
//! Model: in lease mode every heartbeat broadcast starts a new round, and
//! the leader remembers when it sent each recent round, on its wall clock
//! ([`harness::clock::WallClock`]) and on its monotonic timer. Once a
//! majority (the leader included) has answered round `r`, no other leader
//! can be elected before `election_timeout_min` has passed since `r` was
//! sent, because each of those replicas refuses every vote for that long
//! after hearing from its leader (and after it boots, having forgotten
//! when it last did): any new leader needs a vote from one of them. So
//! the leader may serve reads until `election_timeout_min` after it sent
//! `r`, measured on its own clock.
//!
//! The wall clock can run fast or slow by up to `max_clock_drift`, so the
//! lease is shortened by that share; and the leader trusts the lease only
//! while its wall clock has advanced since `r` by what its monotonic timer
//! says, within that drift. A clock that jumped or drifted further is not
//! trusted, and the read takes the quorum round instead. The planted bug
//! `lease-ignores-drift` does neither: a clock jumped back or running slow
//! stretches the lease past the election of the next leader, and the old
//! one answers stale reads.

use super::{Node, Role};
use crate::systems::kv::settings::{Bug, ReadPath};
use std::collections::VecDeque;
use tokio::time::Instant;

/// Rounds whose send time a leader remembers; a lease rests on one
/// answered within the last election timeout, far fewer heartbeats.
pub const MAX_LEASE_ROUNDS: usize = 64;

/// When the leader sent a heartbeat round.
#[derive(Clone, Copy, Debug)]
pub(super) struct RoundSent {
    round: u64,
    wall_ns: i64,
    at: Instant,
}

/// The rounds a leader sent in lease mode, oldest first.
#[derive(Default)]
pub(super) struct SentRounds(VecDeque<RoundSent>);

impl Node {
    pub(super) fn lease_reads(&self) -> bool {
        self.config.reads == ReadPath::Lease
    }

    /// Before a broadcast in lease mode: a new round, remembered.
    pub(super) fn start_lease_round(&mut self) {
        if !self.lease_reads() {
            return;
        }
        self.round += 1;
        let sent = RoundSent {
            round: self.round,
            wall_ns: self.clock.now_ns(),
            at: Instant::now(),
        };
        if let Role::Leader(leader) = &mut self.role {
            let rounds = &mut leader.sent_rounds.0;
            if rounds.len() == MAX_LEASE_ROUNDS {
                rounds.pop_front();
            }
            rounds.push_back(sent);
        }
    }

    /// Whether this leader's lease holds now.
    pub(super) fn lease_holds(&self) -> bool {
        let Role::Leader(leader) = &self.role else {
            return false;
        };
        if !self.lease_reads() || self.commit < leader.term_start {
            return false;
        }
        // The latest round a majority, the leader included, answered.
        let mut acked: Vec<u64> = (0..self.config.replicas)
            .map(|p| {
                if p == self.me {
                    u64::MAX
                } else {
                    leader.acked_round[p]
                }
            })
            .collect();
        acked.sort_unstable_by(|a, b| b.cmp(a));
        let quorum_round = acked[self.majority() - 1];
        let Some(sent) = leader
            .sent_rounds
            .0
            .iter()
            .find(|s| s.round == quorum_round)
        else {
            return false;
        };
        let lease_ns = self.config.election_timeout_min.as_nanos() as f64;
        let wall_ns = (self.clock.now_ns() - sent.wall_ns) as f64;
        if self.config.bug(Bug::LeaseIgnoresDrift) {
            return wall_ns < lease_ns;
        }
        let drift = self.config.max_clock_drift;
        let true_ns = Instant::now().duration_since(sent.at).as_nanos() as f64;
        let clock_sane = wall_ns >= true_ns * (1.0 - drift) && wall_ns <= true_ns * (1.0 + drift);
        clock_sane && wall_ns < lease_ns * (1.0 - drift)
    }

    /// In lease mode a replica that heard from its leader (or booted)
    /// less than `election_timeout_min` ago, or leads itself, votes for
    /// nobody: the promise a lease rests on.
    pub(super) fn keeps_lease_promise(&self) -> bool {
        if !self.lease_reads() {
            return false;
        }
        self.is_leader()
            || Instant::now().duration_since(self.heard_leader) < self.config.election_timeout_min
    }
}
