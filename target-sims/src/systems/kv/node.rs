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
//!   served. No clock is trusted for this.
//! - **Checkpoints** every `checkpoint_every` applied entries bound the log;
//!   a follower behind the leader's checkpoint is sent the checkpoint.
//! - **Disk errors** on the write path leave the node unsure of what its
//!   disk holds: it answers what is pending `unknown`, steps down and
//!   reloads its state from disk before taking part again.

use super::checkpoint::{replace_file, Checkpoint, Meta};
use super::checkpoint::{CHECKPOINT_PATH, CHECKPOINT_TMP_PATH, META_PATH, META_TMP_PATH};
use super::log::Log;
use super::protocol::{
    encode_state, AppendRequest, Command, Entry, FrameConn, Reply, Request, SnapshotRequest,
    Tokens, VoteRequest,
};
use super::recovery::{load, RECOVERY_RETRY};
use super::settings::{Bug, KvConfig};
use super::wal::{encode_record, Wal};
use crate::primitives::detector::{HeartbeatConfig, HeartbeatDetector, PeerStatus};
use harness::clock::WallClock;
use harness::disk::Disk;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use turmoil::net::{TcpListener, TcpStream};

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
    Candidate { votes: BTreeSet<usize> },
    Leader(Leader),
}

struct Leader {
    next: Vec<u64>,
    matched: Vec<u64>,
    inflight: Vec<bool>,
    /// The latest heartbeat round each peer answered in this term.
    acked_round: Vec<u64>,
    /// The index of this term's first entry (its noop): reads wait until it
    /// commits.
    term_start: u64,
    last_broadcast: Instant,
    /// Peers heard from recently; without a majority the leader steps down.
    quorum: HeartbeatDetector<usize>,
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
    tokio::task::spawn_local(accept(listener, events.clone()));
    let mut peers = Vec::new();
    for peer in 0..config.replicas {
        if peer == me {
            peers.push(None);
            continue;
        }
        let (tx, rx) = mpsc::channel(PEER_QUEUE);
        tokio::task::spawn_local(peer_link(peer, rx, events.clone(), config.rpc_timeout()));
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

async fn accept(listener: TcpListener, events: mpsc::Sender<Event>) {
    let open = Rc::new(Cell::new(0usize));
    while let Ok((stream, _)) = listener.accept().await {
        if open.get() >= MAX_CONNECTIONS {
            continue;
        }
        open.set(open.get() + 1);
        let (events, open) = (events.clone(), open.clone());
        tokio::task::spawn_local(async move {
            handle_connection(stream, events).await;
            open.set(open.get() - 1);
        });
    }
}

async fn handle_connection(stream: TcpStream, events: mpsc::Sender<Event>) {
    let mut conn = FrameConn::new(stream);
    while let Ok(Some(text)) = conn.recv().await {
        let reply = match Request::decode(&text) {
            Err(why) => Reply::Unavailable(format!("bad request: {why}")),
            Ok(request) => {
                let (tx, rx) = oneshot::channel();
                if events
                    .send(Event::Request { request, reply: tx })
                    .await
                    .is_err()
                {
                    return;
                }
                rx.await
                    .unwrap_or_else(|_| Reply::Unknown("request dropped".into()))
            }
        };
        if conn.send(&reply.encode()).await.is_err() {
            return;
        }
    }
}

async fn call(conn: &mut Option<FrameConn>, host: &str, text: &str) -> io::Result<Option<String>> {
    if conn.is_none() {
        *conn = Some(FrameConn::new(TcpStream::connect((host, PORT)).await?));
    }
    let c = conn.as_mut().expect("connected above");
    c.send(text).await?;
    c.recv().await
}

/// Sends one peer its requests, one at a time, each bounded by `timeout`.
async fn peer_link(
    peer: usize,
    mut outbox: mpsc::Receiver<Outbound>,
    events: mpsc::Sender<Event>,
    timeout: Duration,
) {
    let host = KvConfig::host(peer);
    let mut conn = None;
    while let Some(out) = outbox.recv().await {
        let text = out.request.encode();
        let reply = match tokio::time::timeout(timeout, call(&mut conn, &host, &text)).await {
            Ok(Ok(Some(text))) => Reply::decode(&text).ok(),
            _ => None,
        };
        if reply.is_none() {
            // A late answer must not be taken for the next request's.
            conn = None;
        }
        let event = Event::PeerReply {
            peer,
            sent: out.sent,
            reply,
        };
        if events.send(event).await.is_err() {
            return;
        }
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
    }
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
    state: BTreeMap<String, String>,
    role: Role,
    leader: Option<usize>,
    /// Suspects the leader after this term's election timeout.
    election: HeartbeatDetector<usize>,
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
            state: BTreeMap::new(),
            role: Role::Follower,
            leader: None,
            election,
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
        }
    }

    fn publish(&self) {
        let text = encode_state(Tokens::new("kv"), &self.state).finish();
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

    // ---- events ----

    async fn handle(&mut self, event: Event) {
        match event {
            Event::Request { request, reply } => {
                let answer = match request {
                    Request::Get { key } => {
                        self.read(key, reply);
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

    // ---- terms and roles ----

    fn reset_election_timer(&mut self) {
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

    async fn persist_meta(&mut self) -> bool {
        let bytes = self.meta.encode();
        match replace_file(&self.disk, META_TMP_PATH, META_PATH, &bytes).await {
            Ok(()) => true,
            Err(err) => {
                self.fail_disk("vote file", err);
                false
            }
        }
    }

    /// Moves to `term` as a follower (persisting it); false if the disk
    /// failed.
    async fn follow_term(&mut self, term: u64) -> bool {
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
    fn step_down(&mut self) {
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

    fn fail_disk(&mut self, what: &str, err: io::Error) {
        tracing::warn!(target: "kv", host = %self.host, what, why = %err, "disk error; reloading from disk");
        self.step_down();
        self.broken = Some(format!("{what}: {err}"));
    }

    async fn repair(&mut self) {
        tokio::time::sleep(RECOVERY_RETRY).await;
        let loaded = load(&self.disk, &self.host, !self.config.bug(Bug::SkipChecksum)).await;
        self.install(loaded);
        self.publish();
    }

    async fn start_election(&mut self) {
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

    async fn become_leader(&mut self) {
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
        self.role = Role::Leader(Leader {
            next: vec![next; n],
            matched: vec![0; n],
            inflight: vec![false; n],
            acked_round: vec![0; n],
            term_start: next,
            last_broadcast: now,
            quorum,
        });
        self.leader = Some(self.me);
        tracing::info!(target: "kv", host = %self.host, term = self.meta.term, wall_ms = self.clock.now_ms(), "became leader");
        if self.append_local(Command::Noop).await.is_some() {
            self.advance_commit();
            self.apply_committed().await;
            self.broadcast();
        }
    }

    // ---- votes ----

    async fn on_vote(&mut self, v: VoteRequest) -> Reply {
        if self.broken.is_some() {
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

    // ---- replication, follower side ----

    fn refuse(&self, round: u64, hint: u64) -> Reply {
        Reply::Appended {
            term: self.meta.term,
            success: false,
            match_index: hint,
            round,
        }
    }

    /// The term checks common to append and snapshot requests; `false`
    /// means refuse.
    async fn accept_leader(&mut self, term: u64, leader: usize) -> bool {
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
        true
    }

    async fn on_append(&mut self, a: AppendRequest) -> Reply {
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

    async fn on_snapshot(&mut self, s: SnapshotRequest) -> Reply {
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
        self.checkpoint = Rc::new(checkpoint);
        self.publish();
        done
    }

    // ---- replication, leader side ----

    /// Appends one entry of the current term to the leader's log, durably
    /// (unless the fsync bug is planted). `None` if the disk failed.
    async fn append_local(&mut self, command: Command) -> Option<u64> {
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

    async fn propose(&mut self, command: Command, reply: oneshot::Sender<Reply>) {
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

    fn read(&mut self, key: String, reply: oneshot::Sender<Reply>) {
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

    fn serve_reads(&mut self) {
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

    /// Sends every idle peer what it is missing (or a heartbeat).
    fn broadcast(&mut self) {
        if let Role::Leader(leader) = &mut self.role {
            leader.last_broadcast = Instant::now();
        }
        for peer in 0..self.config.replicas {
            if peer != self.me {
                self.send_to(peer);
            }
        }
    }

    fn send_to(&mut self, peer: usize) {
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
        }
    }

    async fn on_peer_reply(&mut self, peer: usize, sent: Sent, reply: Option<Reply>) {
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
                self.advance_commit();
                self.apply_committed().await;
                self.serve_reads();
                if behind {
                    self.send_to(peer);
                }
            }
            _ => {}
        }
    }

    /// Commits the highest entry of this term that a commit quorum holds.
    fn advance_commit(&mut self) {
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

    // ---- the state machine ----

    async fn apply_committed(&mut self) {
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

    async fn maybe_checkpoint(&mut self) {
        if self.applied < self.log.base_index() + self.config.checkpoint_every {
            return;
        }
        if let Some(failed) = self.checkpoint_failed_at {
            if self.applied < failed + self.config.checkpoint_every / 2 {
                return;
            }
        }
        let checkpoint = Checkpoint {
            last_index: self.applied,
            last_term: self
                .log
                .term_at(self.applied)
                .expect("applied is in the log"),
            state: self.state.clone(),
        };
        if let Err(err) = replace_file(
            &self.disk,
            CHECKPOINT_TMP_PATH,
            CHECKPOINT_PATH,
            &checkpoint.encode(),
        )
        .await
        {
            tracing::warn!(target: "kv", host = %self.host, why = %err, "checkpoint failed");
            self.checkpoint_failed_at = Some(self.applied);
            return;
        }
        self.checkpoint_failed_at = None;
        tracing::info!(
            target: "kv",
            host = %self.host,
            index = checkpoint.last_index,
            term = checkpoint.last_term,
            wall_ms = self.clock.now_ms(),
            "checkpoint written"
        );
        let (index, term) = (checkpoint.last_index, checkpoint.last_term);
        self.checkpoint = Rc::new(checkpoint);
        self.compact(index, term).await;
    }

    /// Drops the log up to `index` (now in the checkpoint) and rewrites the
    /// WAL with what is left. False if the disk failed.
    async fn compact(&mut self, index: u64, term: u64) -> bool {
        let mut bytes = Vec::new();
        let mut offsets = Vec::new();
        for (i, entry) in self.log.after(index) {
            offsets.push(bytes.len() as u64);
            encode_record(i, entry, &mut bytes);
        }
        if let Err(err) = self.wal.rewrite(&bytes).await {
            self.fail_disk("wal rewrite", err);
            return false;
        }
        self.log.rebase(index, term, offsets);
        true
    }
}
