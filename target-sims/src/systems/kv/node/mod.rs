//! One replica: a Raft node serving a key-value state machine.
//!
//! Model: the node is one task that owns all its state and handles one
//! event at a time — a request from a client or peer, a peer's reply, or a
//! timer tick — doing its disk I/O inline, as a single-threaded server
//! whose fsync blocks it would. Network I/O runs in helper tasks: one per
//! inbound connection, and one link per peer that sends requests one at a
//! time and posts the replies back as events.
//!
//! The Raft rules it keeps:
//!
//! - **Terms fence everything.** A message from an older term is refused; a
//!   newer term turns the node into a follower of that term. The term and
//!   vote are fsync'd before any answer that depends on them.
//! - **Elections.** A follower or candidate whose failure detector suspects
//!   the leader (no heartbeat for a timeout drawn per term from the seeded
//!   host RNG) stands for election; a vote goes to at most one candidate
//!   per term, whose log is at least as up to date.
//! - **Writes** are appended to the leader's WAL and fsync'd, replicated,
//!   and answered only once a majority (the leader included) has fsync'd
//!   them and they are applied. A leader that steps down answers its
//!   pending writes `unknown`: a later leader may still commit them.
//! - **Reads** (read index): the leader answers once it has committed an
//!   entry of its own term and a majority has answered a heartbeat round
//!   sent after the read arrived — so it still led when the read was
//!   served. No clock is trusted for this — unless `reads = "lease"`
//!   (`lease.rs`): then the leader answers locally while its lease,
//!   measured on its wall clock, holds.
//! - **Checkpoints** every `checkpoint_every` applied entries bound the log;
//!   a follower behind the leader's checkpoint is sent the checkpoint.
//! - **Disk errors** on the write path leave the node unsure of what its
//!   disk holds: it answers what is pending `unknown`, steps down and
//!   reloads its state from disk before taking part again.
//!
//! This file holds the node's state and its event loop; each rule has its
//! own file: `election.rs` (terms, roles, votes), `replication.rs` (the
//! log, both sides), `reads.rs` (read index), `lease.rs` (leader leases), `snapshot.rs` (snapshot-isolation
//! transactions), `state.rs` (applying committed entries), `disk.rs` (the vote file, checkpoints, compaction,
//! reloading after a disk error) and `net.rs` (connections and peer links).

mod disk;
mod election;
mod lease;
mod net;
mod reads;
mod replication;
mod snapshot;
mod state;

use super::checkpoint::{Checkpoint, Meta};
use super::log::Log;
use super::protocol::{encode_state, Command, Reply, Request, Tokens};
use super::recovery::load;
use super::settings::{Bug, KvConfig, TxnIsolation};
use super::wal::Wal;
use crate::primitives::detector::{HeartbeatConfig, HeartbeatDetector, PeerStatus};
use harness::clock::WallClock;
use harness::disk::Disk;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use turmoil::net::TcpListener;

/// Every replica listens here, for clients and peers alike.
pub const PORT: u16 = 7100;

/// Events (requests, peer replies) waiting for the node.
pub const EVENT_QUEUE: usize = 1024;

/// Requests waiting on one peer link.
pub const PEER_QUEUE: usize = 4;

/// Writes a leader holds open, waiting for commit.
pub const MAX_PENDING_WRITES: usize = 1024;

/// Reads a leader holds open, waiting for their quorum round.
pub const MAX_PENDING_READS: usize = 1024;

/// Entries per append request.
pub const MAX_BATCH_ENTRIES: usize = 64;

/// Inbound connections a replica keeps open.
pub const MAX_CONNECTIONS: usize = 256;

/// How often the node looks at its timers.
pub const TICK: Duration = Duration::from_millis(10);

/// The detector's key for "the leader" (followers track one peer).
const LEADER: usize = usize::MAX;

enum Event {
    Request {
        request: Request,
        reply: oneshot::Sender<Reply>,
    },
    PeerReply {
        peer: usize,
        sent: Sent,
        reply: Option<Reply>,
    },
}

/// What a peer request was, to match its reply.
#[derive(Clone, Copy, Debug)]
enum Sent {
    Vote { term: u64 },
    Append { term: u64 },
}

struct Outbound {
    request: Request,
    sent: Sent,
}

enum Role {
    Follower,
    Candidate {
        votes: BTreeSet<usize>,
    },
    /// Boxed: a leader's bookkeeping is far larger than the other roles'.
    Leader(Box<Leader>),
}

struct Leader {
    next: Vec<u64>,
    matched: Vec<u64>,
    inflight: Vec<bool>,
    /// The latest heartbeat round each peer answered in this term.
    acked_round: Vec<u64>,
    /// The commit index each peer was last sent.
    told_commit: Vec<u64>,
    /// The index of this term's first entry (its noop): reads wait until it
    /// commits.
    term_start: u64,
    last_broadcast: Instant,
    /// Peers heard from recently; without a majority the leader steps down.
    quorum: HeartbeatDetector<usize>,
    /// In lease mode, when each recent round was sent.
    sent_rounds: lease::SentRounds,
    /// Whether a read was served on the lease in this term (logged once).
    lease_used: bool,
}

struct PendingRead {
    key: String,
    round: u64,
    since: Instant,
    reply: oneshot::Sender<Reply>,
}

/// The software of replica `me`.
pub async fn serve(
    config: Arc<KvConfig>,
    me: usize,
    disk: Disk,
    clock: WallClock,
    rng: ChaCha8Rng,
) -> turmoil::Result {
    let host = KvConfig::host(me);
    let loaded = load(&disk, &host, !config.bug(Bug::SkipChecksum)).await;
    let (events, inbox) = mpsc::channel(EVENT_QUEUE);
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    tokio::task::spawn_local(net::accept(listener, events.clone()));
    let mut peers = Vec::new();
    for peer in 0..config.replicas {
        if peer == me {
            peers.push(None);
            continue;
        }
        let (tx, rx) = mpsc::channel(PEER_QUEUE);
        tokio::task::spawn_local(net::peer_link(
            peer,
            rx,
            events.clone(),
            config.rpc_timeout(),
        ));
        peers.push(Some(tx));
    }
    let local = Local {
        me,
        host,
        disk,
        clock,
        rng,
    };
    let mut node = Node::new(config, local, peers, loaded);
    node.publish();
    node.run(inbox).await;
    Ok(())
}

/// What belongs to the replica's own host.
struct Local {
    me: usize,
    host: String,
    disk: Disk,
    clock: WallClock,
    rng: ChaCha8Rng,
}

struct Node {
    me: usize,
    host: String,
    config: Arc<KvConfig>,
    disk: Disk,
    /// Read only to stamp trace events: no decision depends on it.
    clock: WallClock,
    rng: ChaCha8Rng,
    peers: Vec<Option<mpsc::Sender<Outbound>>>,
    meta: Meta,
    log: Log,
    wal: Wal,
    /// The checkpoint at the log's base, sent to followers behind it.
    checkpoint: Rc<Checkpoint>,
    commit: u64,
    applied: u64,
    /// Digest of every entry applied so far, chained (`state.rs`).
    digest: u64,
    state: BTreeMap<String, String>,
    role: Role,
    leader: Option<usize>,
    /// Suspects the leader after this term's election timeout.
    election: HeartbeatDetector<usize>,
    /// When a leader was last heard from (or the node booted), for the
    /// promise leases rest on.
    heard_leader: Instant,
    round: u64,
    pending_writes: BTreeMap<u64, (u64, oneshot::Sender<Reply>)>,
    pending_reads: VecDeque<PendingRead>,
    /// The disk failed under us: reload from it before doing anything.
    broken: Option<String>,
    /// Applied index at which the last checkpoint attempt failed.
    checkpoint_failed_at: Option<u64>,
}

impl Node {
    fn new(
        config: Arc<KvConfig>,
        local: Local,
        peers: Vec<Option<mpsc::Sender<Outbound>>>,
        loaded: super::recovery::Loaded,
    ) -> Node {
        let Local {
            me,
            host,
            disk,
            clock,
            rng,
        } = local;
        let election = HeartbeatDetector::new(
            format!("{host}/election"),
            HeartbeatConfig {
                timeout: config.election_timeout_max,
            },
        )
        .expect("election timeout checked by the settings");
        let placeholder_wal = Wal::new(disk.clone(), 0);
        let mut node = Node {
            me,
            host,
            config,
            disk,
            clock,
            rng,
            peers,
            meta: Meta::default(),
            log: Log::default(),
            wal: placeholder_wal,
            checkpoint: Rc::default(),
            commit: 0,
            applied: 0,
            digest: 0,
            state: BTreeMap::new(),
            role: Role::Follower,
            leader: None,
            election,
            heard_leader: Instant::now(),
            round: 0,
            pending_writes: BTreeMap::new(),
            pending_reads: VecDeque::new(),
            broken: None,
            checkpoint_failed_at: None,
        };
        node.install(loaded);
        node
    }

    /// Takes on freshly loaded durable state, as a follower.
    fn install(&mut self, loaded: super::recovery::Loaded) {
        self.meta = loaded.meta;
        self.log = loaded.log;
        self.wal = loaded.wal;
        self.commit = loaded.checkpoint.last_index;
        self.applied = loaded.checkpoint.last_index;
        self.digest = loaded.checkpoint.digest;
        self.state = loaded.checkpoint.state.clone();
        self.checkpoint = Rc::new(loaded.checkpoint);
        self.role = Role::Follower;
        self.leader = None;
        self.broken = None;
        self.reset_election_timer();
    }

    async fn run(&mut self, mut inbox: mpsc::Receiver<Event>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.report_role();
        loop {
            tokio::select! {
                biased;
                event = inbox.recv() => match event {
                    Some(event) => self.handle(event).await,
                    None => return,
                },
                _ = tick.tick() => self.on_tick().await,
            }
            if self.broken.is_some() {
                self.repair().await;
            }
            self.report_role();
        }
    }

    /// Tells the harness which role this replica holds, for faults aimed
    /// at a role (`role:leader`); reporting an unchanged role is a no-op.
    fn report_role(&self) {
        let role = match self.role {
            Role::Follower => "follower",
            Role::Candidate { .. } => "candidate",
            Role::Leader(_) => "leader",
        };
        harness::role::set(&self.host, role);
    }

    fn publish(&self) {
        // The applied index and history digest come first, so replicas that
        // hold the same values but applied different histories disagree.
        let head = Tokens::new("kv").num(self.applied).num(self.digest);
        let text = encode_state(head, &self.state).finish();
        harness::sim::publish_state(&self.host, text);
    }

    fn majority(&self) -> usize {
        self.config.majority()
    }

    fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    fn sync_writes(&self) -> bool {
        !self.config.bug(Bug::AckBeforeFsync)
    }

    async fn handle(&mut self, event: Event) {
        match event {
            Event::Request { request, reply } => {
                let answer = match request {
                    Request::Get { key } => {
                        self.read(key, reply);
                        return;
                    }
                    Request::Client(Command::Txn(txn))
                        if self.config.txn_isolation == TxnIsolation::Snapshot =>
                    {
                        self.propose_on_snapshot(txn, reply).await;
                        return;
                    }
                    Request::Client(command) => {
                        self.propose(command, reply).await;
                        return;
                    }
                    Request::Vote(v) => self.on_vote(v).await,
                    Request::Append(a) => self.on_append(a).await,
                    Request::Snapshot(s) => self.on_snapshot(s).await,
                };
                let _ = reply.send(answer);
            }
            Event::PeerReply { peer, sent, reply } => self.on_peer_reply(peer, sent, reply).await,
        }
    }

    async fn on_tick(&mut self) {
        let now = Instant::now();
        if let Role::Leader(leader) = &mut self.role {
            leader.quorum.poll(now);
            let reachable = 1
                + (0..self.config.replicas)
                    .filter(|&p| p != self.me)
                    .filter(|p| leader.quorum.status(p, now) == Some(PeerStatus::Available))
                    .count();
            let due = now.duration_since(leader.last_broadcast) >= self.config.heartbeat_interval;
            if reachable < self.majority() {
                tracing::info!(target: "kv", host = %self.host, term = self.meta.term, "stepped down: no quorum");
                self.step_down();
                return;
            }
            if due {
                self.broadcast();
            }
            let timeout = self.config.attempt_timeout;
            while let Some(read) = self.pending_reads.front() {
                if now.duration_since(read.since) < timeout {
                    break;
                }
                let read = self.pending_reads.pop_front().expect("front exists");
                let _ = read
                    .reply
                    .send(Reply::Unavailable("read not confirmed".into()));
            }
        } else if !self.meta.untrusted && self.election.is_suspected(&LEADER, now) {
            self.start_election().await;
        }
    }
}
