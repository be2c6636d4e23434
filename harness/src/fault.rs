//! The fault vocabulary: what the nemesis can do, as plain data.
//!
//! A [`FaultAction`] is one thing done at one instant — start a partition,
//! crash a host, make a disk fail its `sync` calls, end fault #3. Plans are
//! lists of them, the simulator applies them, host disks and clocks read
//! the ones that concern them, coverage counts their kinds and reports
//! describe them. They depend on nothing but durations, so every floor of
//! the harness can share them; which actions a scenario and a seed lead to
//! is [`crate::plan`]'s business.

use crate::duration::{format_duration, serde_text, SignedDuration};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Identifies one fault from its start to its end.
pub type FaultId = u32;

/// What the nemesis does at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum FaultAction {
    /// Block every link between hosts on different sides (both ways).
    Partition {
        id: FaultId,
        sides: Vec<Vec<String>>,
    },
    /// Block messages from `from` to `to`.
    PartitionOneway {
        id: FaultId,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// Remove the blocks of one partition.
    EndPartition {
        id: FaultId,
    },
    /// Remove every partition.
    HealPartitions,
    Latency {
        id: FaultId,
        /// `None`: every link.
        between: Option<[Vec<String>; 2]>,
        #[serde(with = "serde_text")]
        latency: Duration,
        #[serde(with = "serde_text")]
        jitter: Duration,
    },
    EndLatency {
        id: FaultId,
    },
    Loss {
        id: FaultId,
        between: Option<[Vec<String>; 2]>,
        rate: f64,
    },
    EndLoss {
        id: FaultId,
    },
    Crash {
        id: FaultId,
        host: String,
    },
    Restart {
        host: String,
    },
    Bounce {
        id: FaultId,
        host: String,
    },
    Pause {
        id: FaultId,
        host: String,
    },
    Resume {
        host: String,
    },
    /// EIO on the hosts' disk calls of kinds `ops`, each failing with
    /// `probability`.
    DiskError {
        id: FaultId,
        hosts: Vec<String>,
        ops: Vec<DiskOp>,
        probability: f64,
    },
    /// ENOSPC once a call would take a host's used bytes past the capacity.
    DiskFull {
        id: FaultId,
        hosts: Vec<String>,
        capacity_bytes: u64,
    },
    /// One bit flipped in the data a read returns, with `probability`.
    DiskCorrupt {
        id: FaultId,
        hosts: Vec<String>,
        probability: f64,
    },
    /// Every disk call takes `latency` longer.
    DiskSlow {
        id: FaultId,
        hosts: Vec<String>,
        #[serde(with = "serde_text")]
        latency: Duration,
    },
    /// Ends one disk fault (any of the four kinds).
    EndDiskFault {
        id: FaultId,
    },
    /// The hosts' wall clocks jump by `offset`.
    ClockJump {
        id: FaultId,
        hosts: Vec<String>,
        offset: SignedDuration,
    },
    /// The hosts' wall clocks run at `1 + rate` times real speed.
    ClockDrift {
        id: FaultId,
        hosts: Vec<String>,
        rate: f64,
    },
    /// Ends one clock fault: the offset it caused is removed.
    EndClockFault {
        id: FaultId,
    },
    /// The end of a random storm: every partition, latency, loss, disk and
    /// clock fault removed, every paused host resumed, every crashed host
    /// restarted.
    HealAll,
}

impl FaultAction {
    /// A short label for timelines and reports.
    pub fn describe(&self) -> String {
        let set = |hosts: &[String]| hosts.join(",");
        match self {
            FaultAction::Partition { sides, .. } => format!(
                "partition {}",
                sides
                    .iter()
                    .map(|s| format!("[{}]", set(s)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
            FaultAction::PartitionOneway { from, to, .. } => {
                format!("partition-oneway [{}] -> [{}]", set(from), set(to))
            }
            FaultAction::EndPartition { id } => format!("end partition #{id}"),
            FaultAction::HealPartitions => "heal partitions".into(),
            FaultAction::Latency {
                between,
                latency,
                jitter,
                ..
            } => format!(
                "latency {}+{} on {}",
                format_duration(*latency),
                format_duration(*jitter),
                between_label(between)
            ),
            FaultAction::EndLatency { id } => format!("end latency #{id}"),
            FaultAction::Loss { between, rate, .. } => {
                format!("loss {rate:.2} on {}", between_label(between))
            }
            FaultAction::EndLoss { id } => format!("end loss #{id}"),
            FaultAction::Crash { host, .. } => format!("crash {host}"),
            FaultAction::Restart { host } => format!("restart {host}"),
            FaultAction::Bounce { host, .. } => format!("bounce {host}"),
            FaultAction::Pause { host, .. } => format!("pause {host}"),
            FaultAction::Resume { host } => format!("resume {host}"),
            FaultAction::DiskError {
                hosts,
                ops,
                probability,
                ..
            } => format!(
                "disk-error {} ({} p={probability:.2})",
                set(hosts),
                ops.iter()
                    .map(|op| op.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            FaultAction::DiskFull {
                hosts,
                capacity_bytes,
                ..
            } => format!("disk-full {} (capacity {capacity_bytes} bytes)", set(hosts)),
            FaultAction::DiskCorrupt {
                hosts, probability, ..
            } => format!("disk-corrupt {} (p={probability:.2})", set(hosts)),
            FaultAction::DiskSlow { hosts, latency, .. } => {
                format!("disk-slow {} (+{})", set(hosts), format_duration(*latency))
            }
            FaultAction::EndDiskFault { id } => format!("end disk fault #{id}"),
            FaultAction::ClockJump { hosts, offset, .. } => {
                format!("clock-jump {} ({offset})", set(hosts))
            }
            FaultAction::ClockDrift { hosts, rate, .. } => {
                format!("clock-drift {} (rate {rate:+.2})", set(hosts))
            }
            FaultAction::EndClockFault { id } => format!("end clock fault #{id}"),
            FaultAction::HealAll => "heal all".into(),
        }
    }

    /// Whether this action starts or ends a disk or clock fault (applied
    /// to [`crate::host_faults`] rather than to turmoil).
    pub fn is_host_fault(&self) -> bool {
        matches!(
            self,
            FaultAction::DiskError { .. }
                | FaultAction::DiskFull { .. }
                | FaultAction::DiskCorrupt { .. }
                | FaultAction::DiskSlow { .. }
                | FaultAction::EndDiskFault { .. }
                | FaultAction::ClockJump { .. }
                | FaultAction::ClockDrift { .. }
                | FaultAction::EndClockFault { .. }
        )
    }
}

fn between_label(between: &Option<[Vec<String>; 2]>) -> String {
    match between {
        None => "all links".into(),
        Some([a, b]) => format!("[{}] <-> [{}]", a.join(","), b.join(",")),
    }
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

/// Every name [`fault_kind`] can return.
pub const FAULT_KINDS: &[&str] = &[
    "partition",
    "partition-oneway",
    "latency",
    "loss",
    "crash",
    "bounce",
    "pause",
    "disk-error",
    "disk-full",
    "disk-corrupt",
    "disk-slow",
    "clock-jump",
    "clock-drift",
];

/// The kind of fault an action starts, if it starts one.
pub fn fault_kind(action: &FaultAction) -> Option<&'static str> {
    Some(match action {
        FaultAction::Partition { .. } => "partition",
        FaultAction::PartitionOneway { .. } => "partition-oneway",
        FaultAction::Latency { .. } => "latency",
        FaultAction::Loss { .. } => "loss",
        FaultAction::Crash { .. } => "crash",
        FaultAction::Bounce { .. } => "bounce",
        FaultAction::Pause { .. } => "pause",
        FaultAction::DiskError { .. } => "disk-error",
        FaultAction::DiskFull { .. } => "disk-full",
        FaultAction::DiskCorrupt { .. } => "disk-corrupt",
        FaultAction::DiskSlow { .. } => "disk-slow",
        FaultAction::ClockJump { .. } => "clock-jump",
        FaultAction::ClockDrift { .. } => "clock-drift",
        _ => return None,
    })
}
