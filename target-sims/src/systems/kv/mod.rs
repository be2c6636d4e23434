//! A replicated, durable key-value store: Raft over turmoil TCP, with a
//! checksummed write-ahead log and checkpoints on each replica's disk.
//!
//! Model: `replicas` hosts `n1` … `nN` (3 or 5) each keep the whole store.
//! One leader, elected by term, orders every mutation (`put`, `append`,
//! `cas`) in a replicated log and acknowledges it once a majority has
//! fsync'd it; reads go through the leader and are confirmed by a quorum
//! heartbeat round, never by a clock. Each replica recovers from its latest
//! checkpoint plus its WAL, refuses records that fail their checksum, and
//! catches up from the leader. Values are strings: an absent key reads as
//! the empty string (`nil` in histories), integers are stored as their
//! text — the `kv` linearizability model's conventions.
//!
//! - [`settings`]: the `[target]` keys and the planted bugs.
//! - [`protocol`]: messages and their framing.
//! - [`wal`]: the log file's records and replay; [`checkpoint`]: snapshots
//!   and the vote file; [`recovery`]: starting from disk.
//! - [`log`]: the in-memory log; [`node`]: a replica's Raft.
//! - [`client`]: the harness's client.
//!
//! Each replica publishes its applied state for the convergence checker.

pub mod checkpoint;
pub mod client;
pub mod log;
pub mod node;
pub mod protocol;
pub mod recovery;
pub mod settings;
pub mod txn;
pub mod wal;

use harness::target::{
    parse_settings, Client, ClientEnv, HostEnv, PlantedBug, SettingsError, System, Target,
};
use settings::{KvConfig, KvSettings};
use std::sync::Arc;

/// The `kv` target.
pub struct KvTarget;

impl Target for KvTarget {
    fn name(&self) -> &'static str {
        "kv"
    }

    fn description(&self) -> &'static str {
        "replicated KV store: Raft over TCP, checksummed WAL + checkpoints on disk, quorum reads"
    }

    fn settings_template(&self) -> &'static str {
        "# Replicas n1..nN (3 or 5).\n\
         replicas = 3\n\
         # Leader heartbeats; a follower stands for election after a random\n\
         # timeout in [min, max], drawn per term.\n\
         heartbeat_interval = \"50ms\"\n\
         election_timeout_min = \"300ms\"\n\
         election_timeout_max = \"600ms\"\n\
         # A checkpoint every this many applied entries bounds the log.\n\
         checkpoint_every = 64\n\
         # Client: time per request to one replica, requests per operation,\n\
         # pause before trying another replica.\n\
         attempt_timeout = \"400ms\"\n\
         max_attempts = 8\n\
         backoff = \"40ms\"\n\
         # Reads: \"read-index\" (a quorum round per read) or \"lease\" (the\n\
         # leader answers locally while its lease holds, on its wall clock,\n\
         # shortened by max_clock_drift).\n\
         reads = \"read-index\"\n\
         max_clock_drift = 0.1\n\
         # Transactions (workload.mix.txn): \"serializable\" (one log entry\n\
         # each) or \"snapshot\" (snapshot isolation: write skew allowed).\n\
         txn_isolation = \"serializable\"\n\
         # Planted bug (off): ack-before-fsync, ack-before-majority,\n\
         # skip-checksum, stale-read, double-vote, lease-ignores-drift,\n\
         # txn-split-reads, txn-split-commit.\n\
         # bug = \"stale-read\"\n"
    }

    fn planted_bugs(&self) -> Vec<PlantedBug> {
        vec![
            PlantedBug {
                name: "ack-before-fsync",
                description: "writes are acknowledged before the WAL is fsync'd; a power loss of the cluster drops them",
                overrides: &["target.bug=ack-before-fsync"],
                caught_by: "durability",
            },
            PlantedBug {
                name: "ack-before-majority",
                description: "the commit quorum is replicas/2 (one short of a majority): an isolated leader acknowledges writes the new leader never sees",
                overrides: &["target.bug=ack-before-majority"],
                caught_by: "linearizable",
            },
            PlantedBug {
                name: "skip-checksum",
                description: "replay trusts WAL records without verifying their checksums, so a corrupted record is applied",
                overrides: &["target.bug=skip-checksum"],
                caught_by: "convergence",
            },
            PlantedBug {
                name: "stale-read",
                description: "a node that believes it leads answers reads locally without a quorum round; a deposed leader serves stale values",
                overrides: &["target.bug=stale-read"],
                caught_by: "linearizable",
            },
            PlantedBug {
                name: "lease-ignores-drift",
                description: "with reads = \"lease\", the leader trusts its wall clock for the whole election timeout: a clock jumped back or running slow keeps a deposed leader serving stale reads",
                overrides: &["target.reads=lease", "target.bug=lease-ignores-drift"],
                caught_by: "linearizable",
            },
            PlantedBug {
                name: "double-vote",
                description: "a vote request is granted without checking the vote already cast in its term, so two candidates can win one term",
                overrides: &["target.bug=double-vote"],
                caught_by: "linearizable",
            },
            PlantedBug {
                name: "txn-split-reads",
                description: "a read-only transaction is answered by one linearizable read per key instead of one logged transaction: a writer committing between the reads shows half its effects (read skew)",
                overrides: &["target.bug=txn-split-reads"],
                caught_by: "transactional",
            },
            PlantedBug {
                name: "txn-split-commit",
                description: "a multi-key transaction is committed as one transaction per key, in turn, reported by the last part tried: readers see half of it, and a part cut off by a fault leaves the others applied under a fail",
                overrides: &["target.bug=txn-split-commit"],
                caught_by: "transactional",
            },
            PlantedBug {
                name: "snapshot-write-skew",
                description: "transactions run under snapshot isolation (reads from the leader's snapshot, first committer wins) where serializability is promised: two transactions that read each other's keys and write disjoint ones both commit (write skew)",
                overrides: &["target.txn_isolation=snapshot"],
                caught_by: "transactional",
            },
        ]
    }

    fn configure(&self, settings: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        let settings: KvSettings = parse_settings(settings)?;
        Ok(Arc::new(KvSystem {
            config: Arc::new(settings.check()?),
        }))
    }
}

/// A configured cluster.
pub struct KvSystem {
    config: Arc<KvConfig>,
}

impl System for KvSystem {
    fn hosts(&self) -> Vec<String> {
        (0..self.config.replicas).map(KvConfig::host).collect()
    }

    fn roles(&self) -> Vec<String> {
        ["leader", "follower", "candidate"]
            .map(String::from)
            .to_vec()
    }

    fn install(&self, sim: &mut turmoil::Sim<'_>, env: &HostEnv) {
        for me in 0..self.config.replicas {
            let (config, env) = (self.config.clone(), env.clone());
            let host = KvConfig::host(me);
            sim.host(host.as_str(), move || {
                node::serve(
                    config.clone(),
                    me,
                    env.disk(&KvConfig::host(me)),
                    env.clock(&KvConfig::host(me)),
                    env.host_rng(&KvConfig::host(me)),
                )
            });
        }
    }

    fn client(&self, process: u64, env: &ClientEnv) -> Box<dyn Client> {
        Box::new(client::KvClient::new(
            self.config.clone(),
            env.client_rng(process),
        ))
    }

    fn op_kinds(&self) -> Vec<harness::history::OpKind> {
        use harness::history::OpKind;
        vec![
            OpKind::Read,
            OpKind::Write,
            OpKind::Append,
            OpKind::Cas,
            OpKind::Txn,
        ]
    }

    /// A follower whose leader went quiet stands for election; a leader
    /// that lost its quorum steps down.
    fn detection_signals(&self) -> Vec<harness::detection::DetectionSignal> {
        use harness::detection::DetectionSignal;
        vec![
            DetectionSignal::role("candidate"),
            DetectionSignal::event("kv: stepped down: no quorum"),
        ]
    }
}
