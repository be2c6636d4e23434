//! `[faults.random]`: a random ("swarm") fault plan — which kinds a seed
//! may draw, how often, for how long, and the ranges their parameters are
//! drawn from; which roles its faults may aim at; the network jitter each
//! seed runs with.

use crate::duration::{serde_text, DurationRange, SignedDuration};
use crate::fault::DiskOp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The fault kinds a random plan can draw from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RandomFaultKind {
    /// Isolate one random server.
    Isolate,
    MajorityMinority,
    Bridge,
    /// A one-way partition between a random server and the rest.
    PartitionOneway,
    Latency,
    Loss,
    /// Crash a random server, restart it at the end of the fault.
    Crash,
    /// Process restart of a random server (instant; no duration).
    Bounce,
    Pause,
    /// I/O errors on a random server's disk (`disk_error_probability`).
    DiskError,
    /// A random server's disk fills up (`disk_capacity_bytes`).
    DiskFull,
    /// Corrupted reads on a random server (`disk_corrupt_probability`).
    DiskCorrupt,
    /// Slow I/O on a random server (`disk_latency`).
    DiskSlow,
    /// A random server's wall clock jumps by `clock_offset`, and back at
    /// the end of the fault.
    ClockJump,
    /// A random server's wall clock drifts at `clock_drift`.
    ClockDrift,
    // Kinds added later go last: the order is the order a swarm draws in.
    /// Cut a random server off from the other servers; clients still
    /// reach it.
    IsolatePeers,
    /// A random minority and majority of servers cut apart; clients reach
    /// both.
    SplitPeers,
    /// Each server reaches only its neighbours in a random ring.
    Ring,
    /// A random majority of the servers crash within `spread` of each
    /// other, each restarting after the fault's length.
    CrashMajority,
    /// Every server crashes within `spread`: a whole-cluster power loss.
    CrashAll,
    BounceMajority,
    BounceAll,
    PauseMajority,
    PauseAll,
    /// Every server in turn, in a random order: each crashed for the
    /// fault's length divided by the number of servers and restarted, the
    /// next one as long after.
    RollingRestart,
    /// A random minority and majority of servers cut apart, with the
    /// client hosts divided between the two sides: each client reaches
    /// only the servers of its own side, as when a zone is cut off with
    /// its clients (Jepsen's clients bound to nodes).
    SplitWithClients,
}

impl RandomFaultKind {
    pub const ALL: [RandomFaultKind; 26] = [
        RandomFaultKind::Isolate,
        RandomFaultKind::MajorityMinority,
        RandomFaultKind::Bridge,
        RandomFaultKind::PartitionOneway,
        RandomFaultKind::Latency,
        RandomFaultKind::Loss,
        RandomFaultKind::Crash,
        RandomFaultKind::Bounce,
        RandomFaultKind::Pause,
        RandomFaultKind::DiskError,
        RandomFaultKind::DiskFull,
        RandomFaultKind::DiskCorrupt,
        RandomFaultKind::DiskSlow,
        RandomFaultKind::ClockJump,
        RandomFaultKind::ClockDrift,
        RandomFaultKind::IsolatePeers,
        RandomFaultKind::SplitPeers,
        RandomFaultKind::Ring,
        RandomFaultKind::CrashMajority,
        RandomFaultKind::CrashAll,
        RandomFaultKind::BounceMajority,
        RandomFaultKind::BounceAll,
        RandomFaultKind::PauseMajority,
        RandomFaultKind::PauseAll,
        RandomFaultKind::RollingRestart,
        RandomFaultKind::SplitWithClients,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RandomFaultKind::Isolate => "isolate",
            RandomFaultKind::MajorityMinority => "majority-minority",
            RandomFaultKind::Bridge => "bridge",
            RandomFaultKind::PartitionOneway => "partition-oneway",
            RandomFaultKind::Latency => "latency",
            RandomFaultKind::Loss => "loss",
            RandomFaultKind::Crash => "crash",
            RandomFaultKind::Bounce => "bounce",
            RandomFaultKind::Pause => "pause",
            RandomFaultKind::DiskError => "disk-error",
            RandomFaultKind::DiskFull => "disk-full",
            RandomFaultKind::DiskCorrupt => "disk-corrupt",
            RandomFaultKind::DiskSlow => "disk-slow",
            RandomFaultKind::ClockJump => "clock-jump",
            RandomFaultKind::ClockDrift => "clock-drift",
            RandomFaultKind::IsolatePeers => "isolate-peers",
            RandomFaultKind::SplitPeers => "split-peers",
            RandomFaultKind::Ring => "ring",
            RandomFaultKind::CrashMajority => "crash-majority",
            RandomFaultKind::CrashAll => "crash-all",
            RandomFaultKind::BounceMajority => "bounce-majority",
            RandomFaultKind::BounceAll => "bounce-all",
            RandomFaultKind::PauseMajority => "pause-majority",
            RandomFaultKind::PauseAll => "pause-all",
            RandomFaultKind::RollingRestart => "rolling-restart",
            RandomFaultKind::SplitWithClients => "split-with-clients",
        }
    }

    /// Whether a fault of this kind hits one server, so it can be aimed at
    /// a role instead.
    pub fn can_aim_at_role(self) -> bool {
        use RandomFaultKind::*;
        matches!(
            self,
            Isolate
                | IsolatePeers
                | MajorityMinority
                | SplitPeers
                | SplitWithClients
                | PartitionOneway
                | Latency
                | Loss
                | Crash
                | Bounce
                | Pause
                | DiskError
                | DiskFull
                | DiskCorrupt
                | DiskSlow
                | ClockJump
                | ClockDrift
        )
    }

    /// The fewest servers a fault of this kind makes sense with.
    pub fn min_servers(self) -> usize {
        use RandomFaultKind::*;
        match self {
            MajorityMinority | Bridge | SplitPeers | SplitWithClients => 3,
            Ring => 4,
            CrashMajority | BounceMajority | PauseMajority => 2,
            _ => 1,
        }
    }
}

/// `[faults.random]`: a nemesis that draws faults from the seed. The disk
/// and clock parameters are left out when a scenario is written back at
/// their defaults, so reports of scenarios without them read as before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFaultsSpec {
    /// The fault kinds to draw from.
    pub kinds: Vec<RandomFaultKind>,
    /// Swarm testing: each seed switches every kind on or off at random
    /// (keeping at least one), so different seeds stress different mixes.
    #[serde(default = "default_true")]
    pub swarm: bool,
    /// With `swarm`: how many kinds each seed enables, drawn uniformly
    /// from `[low, high]`, instead of a coin flip per kind. Few kinds per
    /// seed concentrate its faults, as swarm testing's feature omission
    /// means to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm_kinds: Option<[usize; 2]>,
    /// No fault starts before this.
    #[serde(with = "serde_text", default = "default_random_start")]
    pub start: Duration,
    /// Time from one fault's start to the next's.
    #[serde(default = "default_random_interval")]
    pub interval: DurationRange,
    /// How long each fault lasts.
    #[serde(default = "default_random_fault_duration")]
    pub duration: DurationRange,
    /// Quiet window at the end of the workload: every fault is healed at
    /// `simulation.duration - recovery`, so liveness can be checked.
    #[serde(with = "serde_text", default = "default_recovery")]
    pub recovery: Duration,
    /// Added latency for `latency` faults.
    #[serde(default = "default_random_latency")]
    pub latency: DurationRange,
    /// Loss rate range for `loss` faults.
    #[serde(default = "default_loss_rate")]
    pub loss_rate: [f64; 2],
    /// Per-call error probability range for `disk-error` faults.
    #[serde(
        default = "default_disk_error_probability",
        skip_serializing_if = "is_default_disk_error_probability"
    )]
    pub disk_error_probability: [f64; 2],
    /// The disk calls `disk-error` faults fail.
    #[serde(default = "DiskOp::all", skip_serializing_if = "DiskOp::is_all")]
    pub disk_error_ops: Vec<DiskOp>,
    /// Capacity range for `disk-full` faults (bytes the host may use).
    #[serde(
        default = "default_disk_capacity_bytes",
        skip_serializing_if = "is_default_disk_capacity_bytes"
    )]
    pub disk_capacity_bytes: [u64; 2],
    /// Per-read corruption probability range for `disk-corrupt` faults.
    #[serde(
        default = "default_disk_corrupt_probability",
        skip_serializing_if = "is_default_disk_corrupt_probability"
    )]
    pub disk_corrupt_probability: [f64; 2],
    /// Added latency per disk call for `disk-slow` faults.
    #[serde(
        default = "default_disk_latency",
        skip_serializing_if = "is_default_disk_latency"
    )]
    pub disk_latency: DurationRange,
    /// Jump range for `clock-jump` faults.
    #[serde(
        default = "default_clock_offset",
        skip_serializing_if = "is_default_clock_offset"
    )]
    pub clock_offset: [SignedDuration; 2],
    /// Rate range for `clock-drift` faults.
    #[serde(
        default = "default_clock_drift",
        skip_serializing_if = "is_default_clock_drift"
    )]
    pub clock_drift: [f64; 2],
    /// Roles (as the target reports them) that faults hitting one server
    /// may aim at instead: `role:NAME`, the host holding it when the fault
    /// fires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// With `roles`: the share of one-server faults aimed at a role (each
    /// at one of `roles`, drawn per fault) rather than at a random server.
    #[serde(
        default = "default_role_weight",
        skip_serializing_if = "is_default_role_weight"
    )]
    pub role_weight: f64,
    /// Correlated faults (`crash-all`, …): the window within which their
    /// hosts go down, drawn per fault from this range (`0s`: all at once).
    #[serde(default = "default_spread", skip_serializing_if = "is_default_spread")]
    pub spread: DurationRange,
    /// The network's jitter, drawn per seed from this range, replacing
    /// `network.jitter`: with one fixed jitter every seed resolves message
    /// races the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<DurationRange>,
    /// The share of disk faults during which their host is also bounced
    /// (at a random instant within the fault), so that what the faulty
    /// disk holds is read back at recovery.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub restart_during_disk_faults: f64,
    /// The share of one-server faults followed by another fault (of any
    /// enabled kind) on the same server or role, starting while the first
    /// still lasts: real trouble piles up on one machine (a node whose
    /// clock jumps while it is cut off, a disk that corrupts reads while
    /// its process restarts), and independent draws almost never stack
    /// two faults on one host.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub compound: f64,
    /// Every server's wall clock runs at its own rate for the whole
    /// storm, each drawn per seed from this range (a `clock-drift` per
    /// server from the storm's start to its end), as no two machines'
    /// clocks agree: a fault that lands on a server then meets its clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew: Option<[f64; 2]>,
}

fn default_true() -> bool {
    true
}
fn default_role_weight() -> f64 {
    0.5
}
fn is_default_role_weight(value: &f64) -> bool {
    *value == default_role_weight()
}
fn default_spread() -> DurationRange {
    DurationRange::new(Duration::ZERO, Duration::from_millis(20))
}
fn is_default_spread(value: &DurationRange) -> bool {
    *value == default_spread()
}
fn is_zero_f64(value: &f64) -> bool {
    *value == 0.0
}
fn default_random_start() -> Duration {
    Duration::from_secs(1)
}
fn default_random_interval() -> DurationRange {
    DurationRange::new(Duration::from_secs(1), Duration::from_secs(4))
}
fn default_random_fault_duration() -> DurationRange {
    DurationRange::new(Duration::from_millis(500), Duration::from_secs(3))
}
fn default_recovery() -> Duration {
    Duration::from_secs(5)
}
fn default_random_latency() -> DurationRange {
    DurationRange::new(Duration::from_millis(50), Duration::from_millis(500))
}
fn default_loss_rate() -> [f64; 2] {
    [0.05, 0.3]
}
fn is_default_disk_error_probability(value: &[f64; 2]) -> bool {
    *value == default_disk_error_probability()
}
fn default_disk_error_probability() -> [f64; 2] {
    [0.2, 1.0]
}
fn is_default_disk_capacity_bytes(value: &[u64; 2]) -> bool {
    *value == default_disk_capacity_bytes()
}
fn default_disk_capacity_bytes() -> [u64; 2] {
    [0, 65_536]
}
fn is_default_disk_corrupt_probability(value: &[f64; 2]) -> bool {
    *value == default_disk_corrupt_probability()
}
fn default_disk_corrupt_probability() -> [f64; 2] {
    [0.1, 0.5]
}
fn is_default_disk_latency(value: &DurationRange) -> bool {
    *value == default_disk_latency()
}
fn default_disk_latency() -> DurationRange {
    DurationRange::new(Duration::from_millis(10), Duration::from_millis(200))
}
fn is_default_clock_offset(value: &[SignedDuration; 2]) -> bool {
    *value == default_clock_offset()
}
fn default_clock_offset() -> [SignedDuration; 2] {
    [
        SignedDuration::from_secs(-10),
        SignedDuration::from_secs(10),
    ]
}
fn is_default_clock_drift(value: &[f64; 2]) -> bool {
    *value == default_clock_drift()
}
fn default_clock_drift() -> [f64; 2] {
    [-0.5, 0.5]
}

impl RandomFaultsSpec {
    pub fn with_kinds(kinds: Vec<RandomFaultKind>) -> RandomFaultsSpec {
        RandomFaultsSpec {
            kinds,
            swarm: true,
            swarm_kinds: None,
            start: default_random_start(),
            interval: default_random_interval(),
            duration: default_random_fault_duration(),
            recovery: default_recovery(),
            latency: default_random_latency(),
            loss_rate: default_loss_rate(),
            disk_error_probability: default_disk_error_probability(),
            disk_error_ops: DiskOp::all(),
            disk_capacity_bytes: default_disk_capacity_bytes(),
            disk_corrupt_probability: default_disk_corrupt_probability(),
            disk_latency: default_disk_latency(),
            clock_offset: default_clock_offset(),
            clock_drift: default_clock_drift(),
            roles: Vec::new(),
            role_weight: default_role_weight(),
            spread: default_spread(),
            jitter: None,
            restart_during_disk_faults: 0.0,
            compound: 0.0,
            clock_skew: None,
        }
    }
}
