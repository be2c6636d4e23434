//! `[faults]`: hand-written fault events (`[[faults.events]]`), each a
//! kind, a start, an optional duration and its parameters, and the caps on
//! those parameters. The random plan is in `random.rs`.
//!
//! Where an event names a host it may also name a role, `role:NAME`: the
//! host holding that role when the event fires (see [`crate::role`]).
//! Crash, bounce and pause take the groups `servers` (all of them: a
//! whole-cluster power loss, for a crash) and `majority` (a strict majority
//! drawn per seed), hit together or, with `spread`, one after another at
//! random instants within it.

use super::random::RandomFaultsSpec;
use crate::duration::{serde_text, SignedDuration};
use crate::fault::DiskOp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[faults]`: hand-written events, a random plan, or both.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<FaultEventSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random: Option<RandomFaultsSpec>,
}

/// A list of host or group names (`servers`, `clients`, `client-0`, a
/// server's name, or a group the target defines).
pub type HostSet = Vec<String>;

/// One hand-written fault. `at` is when it starts; with `duration` it is
/// undone (healed, restarted, resumed) that much later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FaultEventSpec {
    /// Cut every link between different sides (each side a host set).
    Partition {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        sides: Vec<HostSet>,
    },
    /// Cut one host off from every other host.
    Isolate {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
    },
    /// Cut one server off from the other servers; clients still reach it
    /// (a deposed leader that still serves its clients).
    IsolatePeers {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
    },
    /// Split the servers into a random majority and minority (chosen per
    /// seed); clients stay with the majority. With `host`, that server (or
    /// role) is in the minority.
    MajorityMinority {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// Like `majority-minority`, but only the servers are split: clients
    /// reach both sides.
    SplitPeers {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// Each server reaches only its two neighbours in a ring (a random
    /// order per seed, or `order`); clients reach every server. Needs 4
    /// servers.
    Ring {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        /// Every server once, in ring order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order: Option<Vec<String>>,
    },
    /// Jepsen's bridge: two halves of the servers that cannot talk to each
    /// other, and one server (chosen per seed) that talks to both.
    Bridge {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
    },
    /// Drop messages from `from` to `to` but not back.
    PartitionOneway {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        from: HostSet,
        to: HostSet,
    },
    /// Repair every partition (not pauses, latency or loss).
    Heal {
        #[serde(with = "serde_text")]
        at: Duration,
    },
    /// Slow links: `latency` plus up to `jitter`, on links between the two
    /// host sets of `between` (every link if omitted).
    Latency {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        between: Option<[HostSet; 2]>,
        #[serde(with = "serde_text")]
        latency: Duration,
        #[serde(with = "serde_text", default)]
        jitter: Duration,
    },
    /// Message loss on links (turmoil's `fail_rate`; see the README for its
    /// exact semantics).
    Loss {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        between: Option<[HostSet; 2]>,
        rate: f64,
    },
    /// Power loss: the host stops; unsynced disk data is lost. `host` may
    /// be a group (`servers`, `majority`) or a role.
    Crash {
        #[serde(with = "serde_text")]
        at: Duration,
        /// Restart after this long (each host, after its own crash).
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
        /// For a group: the hosts go down at random instants within this
        /// window from `at` (drawn per seed), not all at `at`.
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        spread: Option<Duration>,
    },
    /// Start a crashed host (or every crashed server, `servers`) again.
    Restart {
        #[serde(with = "serde_text")]
        at: Duration,
        host: String,
    },
    /// Process restart: kill the host's software and start it again at
    /// once, keeping its disk. `host` may be a group or a role.
    Bounce {
        #[serde(with = "serde_text")]
        at: Duration,
        host: String,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        spread: Option<Duration>,
    },
    /// The host stops exchanging messages (they are held, as for a stopped
    /// process), then resumes after `duration` or at a `resume` event.
    /// `host` may be a group or a role.
    Pause {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        spread: Option<Duration>,
    },
    /// Each server of `host` (default: all) in turn, in a random order per
    /// seed: crashed for `down` and restarted (bounced, without `down`),
    /// the next one `gap` after the previous one is back.
    RollingRestart {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(default = "default_rolling_host")]
        host: String,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        down: Option<Duration>,
        #[serde(with = "serde_text", default = "default_rolling_gap")]
        gap: Duration,
    },
    Resume {
        #[serde(with = "serde_text")]
        at: Duration,
        host: String,
    },
    /// I/O errors (EIO) on the host's disk calls of the given kinds, each
    /// call failing with `probability`.
    DiskError {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
        #[serde(default = "DiskOp::all")]
        ops: Vec<DiskOp>,
        #[serde(default = "default_probability")]
        probability: f64,
    },
    /// ENOSPC: a disk call that would take the host's used bytes beyond
    /// `capacity_bytes` fails with `StorageFull`.
    DiskFull {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
        #[serde(default)]
        capacity_bytes: u64,
    },
    /// Silent corruption: a read returns its data with one bit flipped,
    /// with `probability` per read call.
    DiskCorrupt {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
        #[serde(default = "default_probability")]
        probability: f64,
    },
    /// Slow I/O: every disk call takes `latency` longer.
    DiskSlow {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
        #[serde(with = "serde_text")]
        latency: Duration,
    },
    /// The host's wall clock jumps by `offset`; with `duration` it jumps
    /// back at the end.
    ClockJump {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
        offset: SignedDuration,
    },
    /// The host's wall clock runs at `(1 + rate)` times real speed; at the
    /// end the offset it gained is removed (the clock is stepped back).
    ClockDrift {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
        rate: f64,
    },
}

/// The pattern of every fault event that has a `duration`, binding it to
/// `$d`: written once, so that reading a duration
/// ([`FaultEventSpec::duration`]) and setting one
/// ([`FaultEventSpec::duration_mut`]) cannot disagree on which kinds have
/// one.
macro_rules! timed_fault {
    ($d:ident) => {
        FaultEventSpec::Partition { duration: $d, .. }
            | FaultEventSpec::Isolate { duration: $d, .. }
            | FaultEventSpec::IsolatePeers { duration: $d, .. }
            | FaultEventSpec::SplitPeers { duration: $d, .. }
            | FaultEventSpec::Ring { duration: $d, .. }
            | FaultEventSpec::MajorityMinority { duration: $d, .. }
            | FaultEventSpec::Bridge { duration: $d, .. }
            | FaultEventSpec::PartitionOneway { duration: $d, .. }
            | FaultEventSpec::Latency { duration: $d, .. }
            | FaultEventSpec::Loss { duration: $d, .. }
            | FaultEventSpec::Crash { duration: $d, .. }
            | FaultEventSpec::Pause { duration: $d, .. }
            | FaultEventSpec::DiskError { duration: $d, .. }
            | FaultEventSpec::DiskFull { duration: $d, .. }
            | FaultEventSpec::DiskCorrupt { duration: $d, .. }
            | FaultEventSpec::DiskSlow { duration: $d, .. }
            | FaultEventSpec::ClockJump { duration: $d, .. }
            | FaultEventSpec::ClockDrift { duration: $d, .. }
    };
}

/// The pattern of every fault event, binding its start to `$at`.
macro_rules! any_fault {
    ($at:ident) => {
        FaultEventSpec::Partition { at: $at, .. }
            | FaultEventSpec::Isolate { at: $at, .. }
            | FaultEventSpec::IsolatePeers { at: $at, .. }
            | FaultEventSpec::SplitPeers { at: $at, .. }
            | FaultEventSpec::Ring { at: $at, .. }
            | FaultEventSpec::RollingRestart { at: $at, .. }
            | FaultEventSpec::MajorityMinority { at: $at, .. }
            | FaultEventSpec::Bridge { at: $at, .. }
            | FaultEventSpec::PartitionOneway { at: $at, .. }
            | FaultEventSpec::Heal { at: $at }
            | FaultEventSpec::Latency { at: $at, .. }
            | FaultEventSpec::Loss { at: $at, .. }
            | FaultEventSpec::Crash { at: $at, .. }
            | FaultEventSpec::Restart { at: $at, .. }
            | FaultEventSpec::Bounce { at: $at, .. }
            | FaultEventSpec::Pause { at: $at, .. }
            | FaultEventSpec::Resume { at: $at, .. }
            | FaultEventSpec::DiskError { at: $at, .. }
            | FaultEventSpec::DiskFull { at: $at, .. }
            | FaultEventSpec::DiskCorrupt { at: $at, .. }
            | FaultEventSpec::DiskSlow { at: $at, .. }
            | FaultEventSpec::ClockJump { at: $at, .. }
            | FaultEventSpec::ClockDrift { at: $at, .. }
    };
}

impl FaultEventSpec {
    /// The event's start, to move it (the explorer shifts faults).
    pub fn at_mut(&mut self) -> &mut Duration {
        match self {
            any_fault!(at) => at,
        }
    }

    /// The one host (or role, or group) a single-host fault names, to aim
    /// it elsewhere. `restart` and `resume` have none here: they follow
    /// the fault they end.
    pub fn host_mut(&mut self) -> Option<&mut String> {
        match self {
            FaultEventSpec::Isolate { host, .. }
            | FaultEventSpec::IsolatePeers { host, .. }
            | FaultEventSpec::Crash { host, .. }
            | FaultEventSpec::Bounce { host, .. }
            | FaultEventSpec::Pause { host, .. }
            | FaultEventSpec::DiskError { host, .. }
            | FaultEventSpec::DiskFull { host, .. }
            | FaultEventSpec::DiskCorrupt { host, .. }
            | FaultEventSpec::DiskSlow { host, .. }
            | FaultEventSpec::ClockJump { host, .. }
            | FaultEventSpec::ClockDrift { host, .. } => Some(host),
            _ => None,
        }
    }

    pub fn at(&self) -> Duration {
        match self {
            any_fault!(at) => *at,
        }
    }

    /// The event's duration, for the kinds that have one, to change it
    /// (the shrinker shortens faults this way).
    pub fn duration_mut(&mut self) -> Option<&mut Option<Duration>> {
        match self {
            timed_fault!(duration) => Some(duration),
            _ => None,
        }
    }

    pub fn duration(&self) -> Option<Duration> {
        match self {
            timed_fault!(duration) => *duration,
            FaultEventSpec::Heal { .. }
            | FaultEventSpec::RollingRestart { .. }
            | FaultEventSpec::Restart { .. }
            | FaultEventSpec::Bounce { .. }
            | FaultEventSpec::Resume { .. } => None,
        }
    }
}

fn default_probability() -> f64 {
    1.0
}
fn default_rolling_host() -> String {
    "servers".into()
}
fn default_rolling_gap() -> Duration {
    Duration::from_secs(1)
}

/// Cap on a group fault's `spread`: beyond it the hosts are not going
/// down together, and separate events say so better.
pub const MAX_SPREAD: Duration = Duration::from_secs(10);

/// Cap on a `disk-slow` latency: beyond this, use a `disk-error`.
pub const MAX_DISK_LATENCY: Duration = Duration::from_secs(60);
/// Cap on a clock jump, either way.
pub const MAX_CLOCK_OFFSET: Duration = Duration::from_secs(365 * 24 * 3600);
/// Bounds on a clock drift `rate`: -1 stops the clock (below, it would run
/// backwards, which is a jump's job); 10 runs it 11 times as fast.
pub const MIN_CLOCK_DRIFT_RATE: f64 = -1.0;
pub const MAX_CLOCK_DRIFT_RATE: f64 = 10.0;
