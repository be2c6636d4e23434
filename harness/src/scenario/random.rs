//! `[faults.random]`: a random ("swarm") fault plan — which kinds a seed
//! may draw, how often, for how long, and the ranges their parameters are
//! drawn from.

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
}

impl RandomFaultKind {
    pub const ALL: [RandomFaultKind; 15] = [
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
}

fn default_true() -> bool {
    true
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
        }
    }
}
