//! The `[target]` settings of the `kv` system, as a scenario writes them,
//! and their checks.

use harness::duration::serde_text;
use harness::target::SettingsError;
use serde::Deserialize;
use std::time::Duration;

/// Replica counts a cluster may have: a majority must survive one (three)
/// or two (five) failures.
pub const ALLOWED_REPLICAS: [u32; 2] = [3, 5];
/// Longest any time setting may be: longer is a unit mistake.
pub const MAX_SETTING_DURATION: Duration = Duration::from_secs(600);
/// Bounds of `checkpoint_every`, in applied log entries.
pub const MIN_CHECKPOINT_EVERY: u64 = 2;
pub const MAX_CHECKPOINT_EVERY: u64 = 1_000_000;
/// Cap on client attempts per operation.
pub const MAX_ATTEMPTS_LIMIT: u32 = 50;

/// A planted bug: one realistic mistake, off unless a scenario names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bug {
    /// Writes are acknowledged (by the leader to clients and by followers
    /// to the leader) before the log is fsync'd; a power loss drops them.
    AckBeforeFsync,
    /// The commit quorum is computed as `replicas / 2` (itself included),
    /// one short of a majority: with three replicas the leader alone
    /// commits.
    AckBeforeMajority,
    /// Replay trusts WAL records without verifying their checksums.
    SkipChecksum,
    /// A node that believes it is the leader answers reads from its own
    /// state, without confirming with a quorum that it still leads.
    StaleRead,
    /// A vote request is granted without looking at the vote already cast
    /// in its term, so a replica can vote for two candidates of one term.
    DoubleVote,
    /// With `reads = "lease"`: the lease runs the full election timeout on
    /// the leader's wall clock, with no margin for drift and no check that
    /// the clock did not jump.
    LeaseIgnoresDrift,
    /// The client answers a read-only transaction with one linearizable
    /// read per key instead of one logged transaction: each read is right,
    /// the set of them is not one snapshot (read skew).
    TxnSplitReads,
    /// The client commits a multi-key transaction as one transaction per
    /// key, in turn, and reports the outcome of the last one it tried: a
    /// reader between the parts sees half of it, and a part that fails
    /// after others committed leaves them applied under a `fail`.
    TxnSplitCommit,
}

/// How a leader confirms it still leads before it answers a read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadPath {
    /// A quorum heartbeat round after the read arrived; no clock trusted.
    #[default]
    ReadIndex,
    /// Locally while its lease holds (see `node/lease.rs`), else as
    /// `read-index`.
    Lease,
}

/// How a transaction is isolated (see `txn.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxnIsolation {
    /// Each transaction is one log entry, run when applied: strict
    /// serializable.
    #[default]
    Serializable,
    /// Reads from the leader's state on arrival, writes checked first
    /// committer wins when applied: snapshot isolation (write skew allowed).
    Snapshot,
}

impl Bug {
    pub fn as_str(self) -> &'static str {
        match self {
            Bug::AckBeforeFsync => "ack-before-fsync",
            Bug::AckBeforeMajority => "ack-before-majority",
            Bug::SkipChecksum => "skip-checksum",
            Bug::StaleRead => "stale-read",
            Bug::DoubleVote => "double-vote",
            Bug::LeaseIgnoresDrift => "lease-ignores-drift",
            Bug::TxnSplitReads => "txn-split-reads",
            Bug::TxnSplitCommit => "txn-split-commit",
        }
    }
}

fn default_replicas() -> u32 {
    3
}
fn default_heartbeat_interval() -> Duration {
    Duration::from_millis(50)
}
fn default_election_timeout_min() -> Duration {
    Duration::from_millis(300)
}
fn default_election_timeout_max() -> Duration {
    Duration::from_millis(600)
}
fn default_checkpoint_every() -> u64 {
    64
}
fn default_attempt_timeout() -> Duration {
    Duration::from_millis(400)
}
fn default_max_attempts() -> u32 {
    8
}
fn default_backoff() -> Duration {
    Duration::from_millis(40)
}
fn default_max_clock_drift() -> f64 {
    0.1
}

/// Bounds of `max_clock_drift`: a lease needs some margin, and a clock
/// off by more than half is not a clock.
pub const MIN_CLOCK_DRIFT: f64 = 0.0;
pub const MAX_CLOCK_DRIFT: f64 = 0.5;

/// `[target]` of `system = "kv"`, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvSettings {
    /// Replicas `n1` … `nN` (3 or 5).
    #[serde(default = "default_replicas")]
    pub replicas: u32,
    /// How often a leader sends heartbeats (empty appends).
    #[serde(with = "serde_text", default = "default_heartbeat_interval")]
    pub heartbeat_interval: Duration,
    /// A follower that hears nothing from a leader for a random time in
    /// `[election_timeout_min, election_timeout_max]` (drawn per term)
    /// stands for election.
    #[serde(with = "serde_text", default = "default_election_timeout_min")]
    pub election_timeout_min: Duration,
    #[serde(with = "serde_text", default = "default_election_timeout_max")]
    pub election_timeout_max: Duration,
    /// A checkpoint is written every this many applied entries; it bounds
    /// the log.
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: u64,
    /// Client: time allowed for one request to one replica.
    #[serde(with = "serde_text", default = "default_attempt_timeout")]
    pub attempt_timeout: Duration,
    /// Client: requests per operation, redirects included.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Client: pause before trying another replica.
    #[serde(with = "serde_text", default = "default_backoff")]
    pub backoff: Duration,
    /// How the leader confirms a read: `read-index` (default) or `lease`.
    #[serde(default)]
    pub reads: ReadPath,
    /// With `reads = "lease"`: how fast or slow (a share, 0.1 = 10%) a
    /// replica's wall clock may run; the lease is shortened by as much,
    /// and a clock found outside it is not trusted.
    #[serde(default = "default_max_clock_drift")]
    pub max_clock_drift: f64,
    /// How transactions are isolated: `serializable` (default) or
    /// `snapshot`.
    #[serde(default)]
    pub txn_isolation: TxnIsolation,
    /// Planted bug, off by default.
    #[serde(default)]
    pub bug: Option<Bug>,
}

/// Checked settings: what the nodes and clients run with.
#[derive(Clone, Debug)]
pub struct KvConfig {
    pub replicas: usize,
    pub heartbeat_interval: Duration,
    pub election_timeout_min: Duration,
    pub election_timeout_max: Duration,
    pub checkpoint_every: u64,
    pub attempt_timeout: Duration,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub reads: ReadPath,
    pub max_clock_drift: f64,
    pub txn_isolation: TxnIsolation,
    pub bug: Option<Bug>,
}

impl KvConfig {
    pub fn bug(&self, bug: Bug) -> bool {
        self.bug == Some(bug)
    }

    /// Replicas that make a majority.
    pub fn majority(&self) -> usize {
        self.replicas / 2 + 1
    }

    /// Replicas (the leader included) that must hold an entry before it
    /// commits: a majority, unless the quorum bug is planted.
    pub fn commit_quorum(&self) -> usize {
        if self.bug(Bug::AckBeforeMajority) {
            self.replicas / 2
        } else {
            self.majority()
        }
    }

    /// A leader that has not heard from a majority for this long steps
    /// down, so clients of a minority side are redirected. Safety never
    /// depends on it: reads are confirmed by a quorum round regardless.
    pub fn step_down_after(&self) -> Duration {
        self.election_timeout_max * 2
    }

    /// Time a peer request may take before the link gives up on it.
    pub fn rpc_timeout(&self) -> Duration {
        self.heartbeat_interval * 2
    }

    /// The host name of replica `index` (0-based): `n1` …
    pub fn host(index: usize) -> String {
        format!("n{}", index + 1)
    }
}

fn check_duration(key: &str, value: Duration) -> Result<(), SettingsError> {
    if value.is_zero() || value > MAX_SETTING_DURATION {
        return Err(SettingsError::new(
            key,
            format!("expected more than 0s and at most {MAX_SETTING_DURATION:?}, found {value:?}"),
        ));
    }
    Ok(())
}

impl KvSettings {
    pub fn check(&self) -> Result<KvConfig, SettingsError> {
        if !ALLOWED_REPLICAS.contains(&self.replicas) {
            return Err(SettingsError::new(
                "replicas",
                format!("expected 3 or 5, found {}", self.replicas),
            ));
        }
        for (key, value) in [
            ("heartbeat_interval", self.heartbeat_interval),
            ("election_timeout_min", self.election_timeout_min),
            ("election_timeout_max", self.election_timeout_max),
            ("attempt_timeout", self.attempt_timeout),
            ("backoff", self.backoff),
        ] {
            check_duration(key, value)?;
        }
        if self.election_timeout_min < self.heartbeat_interval * 3 {
            return Err(SettingsError::new(
                "election_timeout_min",
                format!(
                    "must be at least three heartbeat intervals ({:?}), found {:?}",
                    self.heartbeat_interval * 3,
                    self.election_timeout_min
                ),
            ));
        }
        if self.election_timeout_max <= self.election_timeout_min {
            return Err(SettingsError::new(
                "election_timeout_max",
                "must be greater than election_timeout_min",
            ));
        }
        if !(MIN_CHECKPOINT_EVERY..=MAX_CHECKPOINT_EVERY).contains(&self.checkpoint_every) {
            return Err(SettingsError::new(
                "checkpoint_every",
                format!(
                    "expected {MIN_CHECKPOINT_EVERY} to {MAX_CHECKPOINT_EVERY}, found {}",
                    self.checkpoint_every
                ),
            ));
        }
        if self.max_attempts == 0 || self.max_attempts > MAX_ATTEMPTS_LIMIT {
            return Err(SettingsError::new(
                "max_attempts",
                format!(
                    "expected 1 to {MAX_ATTEMPTS_LIMIT}, found {}",
                    self.max_attempts
                ),
            ));
        }
        if !(MIN_CLOCK_DRIFT..=MAX_CLOCK_DRIFT).contains(&self.max_clock_drift) {
            return Err(SettingsError::new(
                "max_clock_drift",
                format!(
                    "expected a share from {MIN_CLOCK_DRIFT} to {MAX_CLOCK_DRIFT}, found {}",
                    self.max_clock_drift
                ),
            ));
        }
        if self.bug == Some(Bug::LeaseIgnoresDrift) && self.reads != ReadPath::Lease {
            return Err(SettingsError::new(
                "bug",
                "lease-ignores-drift is a bug of the lease read path: also set reads = \"lease\"",
            ));
        }
        Ok(KvConfig {
            replicas: self.replicas as usize,
            heartbeat_interval: self.heartbeat_interval,
            election_timeout_min: self.election_timeout_min,
            election_timeout_max: self.election_timeout_max,
            checkpoint_every: self.checkpoint_every,
            attempt_timeout: self.attempt_timeout,
            max_attempts: self.max_attempts,
            backoff: self.backoff,
            reads: self.reads,
            max_clock_drift: self.max_clock_drift,
            txn_isolation: self.txn_isolation,
            bug: self.bug,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::target::parse_settings;

    fn parse(text: &str) -> Result<KvConfig, SettingsError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        parse_settings::<KvSettings>(&table)?.check()
    }

    #[test]
    fn defaults_are_a_three_replica_cluster_without_bugs() {
        let config = parse("").unwrap();
        assert_eq!(config.replicas, 3);
        assert_eq!(config.majority(), 2);
        assert_eq!(config.commit_quorum(), 2);
        assert_eq!(config.bug, None);
    }

    #[test]
    fn the_quorum_bug_is_one_short_of_a_majority() {
        let config = parse("replicas = 5\nbug = \"ack-before-majority\"").unwrap();
        assert_eq!(config.majority(), 3);
        assert_eq!(config.commit_quorum(), 2);
    }

    #[test]
    fn bad_settings_name_their_key() {
        assert_eq!(parse("replicas = 4").unwrap_err().key, "replicas");
        assert_eq!(parse("bug = \"nope\"").unwrap_err().key, "bug");
        assert_eq!(parse("typo = 1").unwrap_err().key, "typo");
        assert_eq!(
            parse("election_timeout_min = \"100ms\"").unwrap_err().key,
            "election_timeout_min"
        );
        assert_eq!(
            parse("election_timeout_max = \"300ms\"").unwrap_err().key,
            "election_timeout_max"
        );
        assert_eq!(
            parse("checkpoint_every = 1").unwrap_err().key,
            "checkpoint_every"
        );
        assert_eq!(parse("max_attempts = 0").unwrap_err().key, "max_attempts");
        assert_eq!(parse("reads = \"clock\"").unwrap_err().key, "reads");
        assert_eq!(
            parse("reads = \"lease\"\nmax_clock_drift = 0.9")
                .unwrap_err()
                .key,
            "max_clock_drift"
        );
        assert_eq!(
            parse("bug = \"lease-ignores-drift\"").unwrap_err().key,
            "bug"
        );
        assert!(parse("reads = \"lease\"\nbug = \"lease-ignores-drift\"").is_ok());
        assert_eq!(
            parse("txn_isolation = \"read-committed\"").unwrap_err().key,
            "txn_isolation"
        );
        let snapshot = parse("txn_isolation = \"snapshot\"\nbug = \"txn-split-reads\"").unwrap();
        assert_eq!(snapshot.txn_isolation, TxnIsolation::Snapshot);
        assert!(snapshot.bug(Bug::TxnSplitReads));
    }
}
