//! Scenarios: what to run, against what, under which faults, checked how.
//!
//! A scenario is plain data, read from a TOML file (see [`parse`]) or built
//! in Rust (see [`ScenarioBuilder`]). It names a target system and its
//! settings, the simulated duration and tick, the workload, the fault plan
//! (hand-written events, a random "swarm" plan, or both) and the invariants
//! with their thresholds. [`validate`] checks it against the target's
//! topology; [`crate::plan::expand`] turns it and a seed into a concrete plan.

mod builder;
mod overrides;
pub mod parse;
mod validate;

pub use builder::ScenarioBuilder;
pub use overrides::apply_overrides;
pub use parse::{load_file, parse_str, path_to_string, ScenarioError};
pub use validate::{validate, Prepared, Topology};

use crate::duration::{serde_text, DurationRange, SignedDuration};
use crate::history::OpKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Seeds a suite run uses for a scenario when none are given.
pub const DEFAULT_SEEDS: u64 = 20;
/// Cap on logical clients: they are tasks, not hosts, but each costs memory
/// and history.
pub const MAX_CLIENTS: u32 = 10_000;
/// Cap on client hosts: every host is polled every tick (see DESIGN.md).
pub const MAX_CLIENT_HOSTS: u32 = 16;
/// Cap on the operations one run may issue, so a typo in `rate` cannot
/// produce a history that exhausts memory.
pub const DEFAULT_MAX_OPS: u64 = 200_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique within a suite; names the report folder.
    pub name: String,
    /// One line for `chaos list`.
    #[serde(default)]
    pub description: String,
    /// How many seeds a suite run uses by default.
    #[serde(default = "default_seeds")]
    pub seeds: u64,
    pub target: TargetSpec,
    #[serde(default)]
    pub simulation: SimulationSpec,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub workload: WorkloadSpec,
    #[serde(default)]
    pub faults: FaultsSpec,
    #[serde(default)]
    pub invariants: InvariantsSpec,
    /// `[[coverage]]`: what a suite run of this scenario must exercise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<crate::coverage::CoverageRequirement>,
}

fn default_seeds() -> u64 {
    DEFAULT_SEEDS
}

/// `[target]`: which system, and its settings (every other key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetSpec {
    pub system: String,
    #[serde(flatten)]
    pub settings: toml::Table,
}

/// `[simulation]`: how long and how finely simulated time runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    /// How long the workload issues operations.
    #[serde(with = "serde_text", default = "default_duration")]
    pub duration: Duration,
    /// Simulated time per step. Coarser ticks run long scenarios faster.
    #[serde(with = "serde_text", default = "default_tick")]
    pub tick: Duration,
    /// Time allowed after `duration` for operations in flight and final
    /// reads. A run still going after `duration + drain` is reported as hung.
    #[serde(with = "serde_text", default = "default_drain")]
    pub drain: Duration,
}

fn default_duration() -> Duration {
    Duration::from_secs(10)
}
fn default_tick() -> Duration {
    Duration::from_millis(1)
}
fn default_drain() -> Duration {
    Duration::from_secs(10)
}

impl Default for SimulationSpec {
    fn default() -> Self {
        SimulationSpec {
            duration: default_duration(),
            tick: default_tick(),
            drain: default_drain(),
        }
    }
}

impl SimulationSpec {
    /// The step budget: a run that needs more steps is hung.
    pub fn max_steps(&self) -> u64 {
        let total = self.duration + self.drain;
        (total.as_nanos() / self.tick.as_nanos().max(1)) as u64 + 1
    }
}

/// `[network]`: the healthy network every link starts with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// One-way message latency on every link.
    #[serde(with = "serde_text", default = "default_latency")]
    pub latency: Duration,
    /// Extra random latency on top, up to this much (turmoil samples it
    /// from an exponential distribution and caps it here).
    #[serde(with = "serde_text", default)]
    pub jitter: Duration,
    /// Messages a TCP socket buffers, and connections a listener queues
    /// before accepting them. turmoil panics when a listener's queue
    /// overflows (a real kernel would drop the SYN); the run then fails
    /// with that message, so raise this for scenarios with thousands of
    /// connections.
    #[serde(default = "default_tcp_capacity")]
    pub tcp_capacity: usize,
}

/// Default [`NetworkSpec::tcp_capacity`] (turmoil's own default is 64).
pub const DEFAULT_TCP_CAPACITY: usize = 1024;
/// Cap on [`NetworkSpec::tcp_capacity`].
pub const MAX_TCP_CAPACITY: usize = 1 << 20;

fn default_tcp_capacity() -> usize {
    DEFAULT_TCP_CAPACITY
}

fn default_latency() -> Duration {
    Duration::from_millis(1)
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: default_latency(),
            jitter: Duration::ZERO,
            tcp_capacity: DEFAULT_TCP_CAPACITY,
        }
    }
}

/// `[workload]`: the logical clients and what they do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Logical clients (tasks inside the client hosts, not hosts).
    #[serde(default = "default_clients")]
    pub clients: u32,
    /// Client hosts the logical clients are spread over, named `client-0`,
    /// `client-1`, …; more than one lets a partition cut off some clients.
    #[serde(default = "default_client_hosts")]
    pub client_hosts: u32,
    /// Operations per second per logical client (closed loop: a client waits
    /// for its operation, then thinks about `1/rate` ± 50%).
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// Relative weights of operation kinds.
    #[serde(default = "default_mix")]
    pub mix: BTreeMap<OpKind, u32>,
    /// Number of keys, named `k0`, `k1`, …
    #[serde(default = "default_keys")]
    pub keys: u32,
    /// The harness gives up on an operation after this long and records it
    /// as `info` (its outcome unknown).
    #[serde(with = "serde_text", default = "default_op_timeout")]
    pub timeout: Duration,
    /// After the workload (and after every fault is healed), one client
    /// reads every key, retrying until it succeeds or the drain time is up,
    /// so durability can be checked on the final state.
    #[serde(default)]
    pub final_read: bool,
    /// Hard cap on operations in one run.
    #[serde(default = "default_max_ops")]
    pub max_ops: u64,
}

fn default_clients() -> u32 {
    4
}
fn default_client_hosts() -> u32 {
    1
}
fn default_rate() -> f64 {
    20.0
}
fn default_mix() -> BTreeMap<OpKind, u32> {
    BTreeMap::from([(OpKind::Read, 1), (OpKind::Write, 1)])
}
fn default_keys() -> u32 {
    1
}
fn default_op_timeout() -> Duration {
    Duration::from_secs(1)
}
fn default_max_ops() -> u64 {
    DEFAULT_MAX_OPS
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            clients: default_clients(),
            client_hosts: default_client_hosts(),
            rate: default_rate(),
            mix: default_mix(),
            keys: default_keys(),
            timeout: default_op_timeout(),
            final_read: false,
            max_ops: default_max_ops(),
        }
    }
}

impl WorkloadSpec {
    pub fn client_host_names(&self) -> Vec<String> {
        (0..self.client_hosts)
            .map(|i| format!("client-{i}"))
            .collect()
    }
}

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
    /// Split the servers into a random majority and minority (chosen per
    /// seed); clients stay with the majority.
    MajorityMinority {
        #[serde(with = "serde_text")]
        at: Duration,
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
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
    /// Power loss: the host stops; unsynced disk data is lost.
    Crash {
        #[serde(with = "serde_text")]
        at: Duration,
        /// Restart after this long.
        #[serde(
            default,
            with = "crate::duration::serde_opt",
            skip_serializing_if = "Option::is_none"
        )]
        duration: Option<Duration>,
        host: String,
    },
    /// Start a crashed host again.
    Restart {
        #[serde(with = "serde_text")]
        at: Duration,
        host: String,
    },
    /// Process restart: kill the host's software and start it again at
    /// once, keeping its disk.
    Bounce {
        #[serde(with = "serde_text")]
        at: Duration,
        host: String,
    },
    /// The host stops exchanging messages (they are held, as for a stopped
    /// process), then resumes after `duration` or at a `resume` event.
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

impl FaultEventSpec {
    pub fn at(&self) -> Duration {
        match self {
            FaultEventSpec::Partition { at, .. }
            | FaultEventSpec::Isolate { at, .. }
            | FaultEventSpec::MajorityMinority { at, .. }
            | FaultEventSpec::Bridge { at, .. }
            | FaultEventSpec::PartitionOneway { at, .. }
            | FaultEventSpec::Heal { at }
            | FaultEventSpec::Latency { at, .. }
            | FaultEventSpec::Loss { at, .. }
            | FaultEventSpec::Crash { at, .. }
            | FaultEventSpec::Restart { at, .. }
            | FaultEventSpec::Bounce { at, .. }
            | FaultEventSpec::Pause { at, .. }
            | FaultEventSpec::Resume { at, .. }
            | FaultEventSpec::DiskError { at, .. }
            | FaultEventSpec::DiskFull { at, .. }
            | FaultEventSpec::DiskCorrupt { at, .. }
            | FaultEventSpec::DiskSlow { at, .. }
            | FaultEventSpec::ClockJump { at, .. }
            | FaultEventSpec::ClockDrift { at, .. } => *at,
        }
    }

    pub fn duration(&self) -> Option<Duration> {
        match self {
            FaultEventSpec::Partition { duration, .. }
            | FaultEventSpec::Isolate { duration, .. }
            | FaultEventSpec::MajorityMinority { duration, .. }
            | FaultEventSpec::Bridge { duration, .. }
            | FaultEventSpec::PartitionOneway { duration, .. }
            | FaultEventSpec::Latency { duration, .. }
            | FaultEventSpec::Loss { duration, .. }
            | FaultEventSpec::Crash { duration, .. }
            | FaultEventSpec::Pause { duration, .. }
            | FaultEventSpec::DiskError { duration, .. }
            | FaultEventSpec::DiskFull { duration, .. }
            | FaultEventSpec::DiskCorrupt { duration, .. }
            | FaultEventSpec::DiskSlow { duration, .. }
            | FaultEventSpec::ClockJump { duration, .. }
            | FaultEventSpec::ClockDrift { duration, .. } => *duration,
            FaultEventSpec::Heal { .. }
            | FaultEventSpec::Restart { .. }
            | FaultEventSpec::Bounce { .. }
            | FaultEventSpec::Resume { .. } => None,
        }
    }
}

fn default_probability() -> f64 {
    1.0
}

/// The kinds of disk call a `disk-error` fault can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskOp {
    /// `read` and `list`.
    Read,
    /// Everything that changes the disk: `write`, `append`, `truncate`,
    /// `rename`, `remove`, `create_dir_all`.
    Write,
    /// `sync` (fsync).
    Sync,
}

impl DiskOp {
    pub const ALL: [DiskOp; 3] = [DiskOp::Read, DiskOp::Write, DiskOp::Sync];

    pub fn all() -> Vec<DiskOp> {
        DiskOp::ALL.to_vec()
    }

    /// Whether `ops` is exactly [`DiskOp::all`] (the default, left out when
    /// a scenario is written back).
    pub fn is_all(ops: &Vec<DiskOp>) -> bool {
        *ops == DiskOp::all()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DiskOp::Read => "read",
            DiskOp::Write => "write",
            DiskOp::Sync => "sync",
        }
    }
}

/// Cap on a `disk-slow` latency: beyond this, use a `disk-error`.
pub const MAX_DISK_LATENCY: Duration = Duration::from_secs(60);
/// Cap on a clock jump, either way.
pub const MAX_CLOCK_OFFSET: Duration = Duration::from_secs(365 * 24 * 3600);
/// Bounds on a clock drift `rate`: -1 stops the clock (below, it would run
/// backwards, which is a jump's job); 10 runs it 11 times as fast.
pub const MIN_CLOCK_DRIFT_RATE: f64 = -1.0;
pub const MAX_CLOCK_DRIFT_RATE: f64 = 10.0;

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

/// `[invariants.*]`: what must hold. Each present table is checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvariantsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<AvailabilitySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linearizable: Option<LinearizableSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durability: Option<DurabilitySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convergence: Option<ConvergenceSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<JobsSpec>,
}

impl InvariantsSpec {
    pub fn is_empty(&self) -> bool {
        self.availability.is_none()
            && self.linearizable.is_none()
            && self.durability.is_none()
            && self.convergence.is_none()
            && self.jobs.is_none()
    }
}

/// `[invariants.durability]`: every acknowledged mutation is in the state
/// read after recovery. Needs `workload.final_read = true`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurabilitySpec {}

/// `[invariants.convergence]`: after the run, every replica published the
/// same state (see `harness::sim::publish_state`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvergenceSpec {}

/// Default bound of `[invariants.jobs] max_processing_delay`.
pub const DEFAULT_MAX_PROCESSING_DELAY: Duration = Duration::from_secs(5);

/// `[invariants.jobs]`: a job queue processes every acknowledged job,
/// applies each job's effect exactly once, and does so promptly once the
/// faults are over. Needs `workload.final_read = true`: the final read of
/// each key returns that queue's effect ledger (see [`crate::check::jobs`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSpec {
    /// Longest a job may wait from its acknowledged enqueue (or from the
    /// end of the last fault that overlapped its wait) to its effect.
    #[serde(with = "serde_text", default = "default_max_processing_delay")]
    pub max_processing_delay: Duration,
}

fn default_max_processing_delay() -> Duration {
    DEFAULT_MAX_PROCESSING_DELAY
}

impl Default for JobsSpec {
    fn default() -> Self {
        JobsSpec {
            max_processing_delay: DEFAULT_MAX_PROCESSING_DELAY,
        }
    }
}

/// `[invariants.availability]`: request success ratios, recovery, latency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilitySpec {
    /// Minimum fraction of operations that end `ok`, over the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ok_ratio: Option<f64>,
    /// … over operations invoked while a fault was active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ok_ratio_during_faults: Option<f64>,
    /// … over operations invoked after the last heal plus `heal_grace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ok_ratio_after_heal: Option<f64>,
    /// Operations invoked within this long after the last heal are not
    /// counted in `min_ok_ratio_after_heal` (failover takes a moment).
    #[serde(with = "serde_text", default)]
    pub heal_grace: Duration,
    /// Time from the last heal to the start of the first window of
    /// `recovery_window` whose ok ratio is back at `min_ok_ratio_after_heal`
    /// (or 1.0 if that is unset) must not exceed this.
    #[serde(
        default,
        with = "crate::duration::serde_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_recovery_time: Option<Duration>,
    #[serde(with = "serde_text", default = "default_recovery_window")]
    pub recovery_window: Duration,
    /// Degraded answers (from a fallback) count as ok when true.
    #[serde(default)]
    pub degraded_counts_as_ok: bool,
    /// Latency bounds on completed operations (any kind).
    #[serde(
        default,
        with = "crate::duration::serde_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_p99_latency: Option<Duration>,
    /// Attempts per logical request, when the target reports attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retry_amplification: Option<f64>,
}

fn default_recovery_window() -> Duration {
    Duration::from_secs(1)
}

impl Default for AvailabilitySpec {
    fn default() -> Self {
        AvailabilitySpec {
            min_ok_ratio: None,
            min_ok_ratio_during_faults: None,
            min_ok_ratio_after_heal: None,
            heal_grace: Duration::ZERO,
            max_recovery_time: None,
            recovery_window: default_recovery_window(),
            degraded_counts_as_ok: false,
            max_p99_latency: None,
            max_retry_amplification: None,
        }
    }
}

/// `[invariants.linearizable]`: the history must be linearizable against
/// a sequential model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearizableSpec {
    /// `register`, `kv`, `counter`, …
    pub model: String,
    /// Most search states memoised per key before the verdict is
    /// `unknown`; the checker's default (4,000,000) if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_states: Option<u64>,
    /// Most bytes one key's search may hold before the verdict is
    /// `unknown`; the checker's default (512 MiB) if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_bytes: Option<u64>,
}
