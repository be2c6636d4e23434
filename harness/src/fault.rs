//! The fault vocabulary: what the nemesis can do, as plain data.
//!
//! A [`FaultAction`] is one thing done at one instant — start a partition,
//! crash a host, make a disk fail its `sync` calls, end fault #3. Plans are
//! lists of them, the simulator applies them, host disks and clocks read
//! the ones that concern them, coverage counts their kinds and reports
//! describe them. They depend on nothing but durations, so every floor of
//! the harness can share them; which actions a scenario and a seed lead to
//! is [`crate::plan`]'s business.
//!
//! A host name in an action is a server or client, or a *role target*
//! `role:NAME` (see [`crate::role`]): the nemesis resolves it when the
//! action fires, to the host holding that role then, and records what it
//! hit as a [`FaultHit`]. In a partition's sides (and in `from`/`to`,
//! `between`), the host a role resolves to is taken off every other side,
//! so `[["role:leader"], ["servers"]]` cuts the leader off from the other
//! servers, whoever leads.

use crate::duration::{serde_text, SignedDuration};
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
    /// Every link between two servers that are not neighbours in `order`
    /// (a ring) is blocked both ways; clients keep every link.
    Ring {
        id: FaultId,
        order: Vec<String>,
    },
    Crash {
        id: FaultId,
        host: String,
        /// Set when this crash is one host's share of a correlated fault.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<Correlation>,
    },
    Restart {
        host: String,
        /// For a role target: the crash whose host this restarts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        of: Option<FaultId>,
    },
    Bounce {
        id: FaultId,
        host: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<Correlation>,
    },
    Pause {
        id: FaultId,
        host: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<Correlation>,
    },
    Resume {
        host: String,
        /// For a role target: the pause whose host this resumes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        of: Option<FaultId>,
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
            FaultAction::Ring { order, .. } => format!("ring {}", order.join("-")),
            FaultAction::EndPartition { id } => format!("end partition #{id}"),
            FaultAction::HealPartitions => "heal partitions".into(),
            FaultAction::Latency {
                between,
                latency,
                jitter,
                ..
            } => {
                // Rounded for a reader (the plan keeps the exact values).
                let jitter = if jitter.is_zero() {
                    String::new()
                } else {
                    format!("+{}", crate::duration::human(*jitter))
                };
                format!(
                    "latency {}{jitter} on {}",
                    crate::duration::human(*latency),
                    between_label(between)
                )
            }
            FaultAction::EndLatency { id } => format!("end latency #{id}"),
            FaultAction::Loss { between, rate, .. } => {
                format!("loss {rate:.2} on {}", between_label(between))
            }
            FaultAction::EndLoss { id } => format!("end loss #{id}"),
            FaultAction::Crash { host, group, .. } => {
                format!("crash {host}{}", group_label(*group))
            }
            FaultAction::Restart { host, .. } => format!("restart {host}"),
            FaultAction::Bounce { host, group, .. } => {
                format!("bounce {host}{}", group_label(*group))
            }
            FaultAction::Pause { host, group, .. } => {
                format!("pause {host}{}", group_label(*group))
            }
            FaultAction::Resume { host, .. } => format!("resume {host}"),
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
                format!(
                    "disk-slow {} (+{})",
                    set(hosts),
                    crate::duration::human(*latency)
                )
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

fn group_label(group: Option<Correlation>) -> String {
    match group {
        None => String::new(),
        Some(group) => format!(" ({})", group.describe()),
    }
}

fn between_label(between: &Option<[Vec<String>; 2]>) -> String {
    match between {
        None => "all links".into(),
        Some([a, b]) => format!("[{}] <-> [{}]", a.join(","), b.join(",")),
    }
}

/// How a process fault that hits several servers together was chosen: each
/// host's crash, bounce or pause is its own action (with its own time, so
/// the hosts can go down within a few milliseconds of each other), marked
/// with the group it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Correlation {
    /// A strict majority of the servers, drawn per seed.
    Majority,
    /// Every server (a whole-cluster power loss, for crashes).
    All,
    /// Each server in turn, one after another (a rolling restart).
    Rolling,
}

impl Correlation {
    pub fn as_str(self) -> &'static str {
        match self {
            Correlation::Majority => "majority",
            Correlation::All => "all",
            Correlation::Rolling => "rolling",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Correlation::Majority => "with a majority",
            Correlation::All => "with every server",
            Correlation::Rolling => "rolling",
        }
    }
}

/// The prefix of a role target: `role:leader` names the host holding the
/// role `leader` when the fault fires.
pub const ROLE_PREFIX: &str = "role:";

/// The role a host name targets, if it is a role target.
pub fn role_of_target(host: &str) -> Option<&str> {
    host.strip_prefix(ROLE_PREFIX)
}

/// What a fault aimed at a role hit when it fired: the hosts its role
/// target resolved to (none when nobody held the role, and the fault then
/// did nothing). The trace says the same in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultHit {
    pub id: FaultId,
    pub time_ns: u64,
    /// The role target as the plan wrote it, e.g. `role:leader`.
    pub target: String,
    /// The host that held the role (empty: nobody did).
    pub hosts: Vec<String>,
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
    "ring",
    "latency",
    "loss",
    "crash",
    "bounce",
    "pause",
    "crash-majority",
    "crash-all",
    "bounce-majority",
    "bounce-all",
    "pause-majority",
    "pause-all",
    "rolling-restart",
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
        FaultAction::Ring { .. } => "ring",
        FaultAction::Latency { .. } => "latency",
        FaultAction::Loss { .. } => "loss",
        FaultAction::Crash { group, .. }
        | FaultAction::Bounce { group, .. }
        | FaultAction::Pause { group, .. } => process_kind(action, *group),
        FaultAction::DiskError { .. } => "disk-error",
        FaultAction::DiskFull { .. } => "disk-full",
        FaultAction::DiskCorrupt { .. } => "disk-corrupt",
        FaultAction::DiskSlow { .. } => "disk-slow",
        FaultAction::ClockJump { .. } => "clock-jump",
        FaultAction::ClockDrift { .. } => "clock-drift",
        _ => return None,
    })
}

/// The coverage kind of a crash, bounce or pause: its own name, or the
/// correlated fault it is part of.
fn process_kind(action: &FaultAction, group: Option<Correlation>) -> &'static str {
    use Correlation::*;
    match (action, group) {
        (_, Some(Rolling)) => "rolling-restart",
        (FaultAction::Crash { .. }, None) => "crash",
        (FaultAction::Crash { .. }, Some(Majority)) => "crash-majority",
        (FaultAction::Crash { .. }, Some(All)) => "crash-all",
        (FaultAction::Bounce { .. }, None) => "bounce",
        (FaultAction::Bounce { .. }, Some(Majority)) => "bounce-majority",
        (FaultAction::Bounce { .. }, Some(All)) => "bounce-all",
        (FaultAction::Pause { .. }, None) => "pause",
        (FaultAction::Pause { .. }, Some(Majority)) => "pause-majority",
        (_, Some(All)) => "pause-all",
        (_, Some(Majority)) => "pause-majority",
        (_, None) => "pause",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_an_action_can_have_is_listed() {
        let host = || "n1".to_string();
        let mut actions = vec![FaultAction::Ring {
            id: 1,
            order: vec![host()],
        }];
        for group in [
            None,
            Some(Correlation::Majority),
            Some(Correlation::All),
            Some(Correlation::Rolling),
        ] {
            actions.push(FaultAction::Crash {
                id: 1,
                host: host(),
                group,
            });
            actions.push(FaultAction::Bounce {
                id: 1,
                host: host(),
                group,
            });
            actions.push(FaultAction::Pause {
                id: 1,
                host: host(),
                group,
            });
        }
        for action in &actions {
            let kind = fault_kind(action).unwrap();
            assert!(FAULT_KINDS.contains(&kind), "{kind}");
        }
        assert_eq!(
            fault_kind(&FaultAction::Crash {
                id: 1,
                host: host(),
                group: Some(Correlation::All)
            }),
            Some("crash-all")
        );
    }

    #[test]
    fn role_targets_are_recognised_by_their_prefix() {
        assert_eq!(role_of_target("role:leader"), Some("leader"));
        assert_eq!(role_of_target("n1"), None);
    }

    #[test]
    fn an_old_plan_without_the_new_fields_still_reads() {
        let action: FaultAction =
            serde_json::from_str(r#"{"action":"restart","host":"n1"}"#).unwrap();
        assert_eq!(
            action,
            FaultAction::Restart {
                host: "n1".into(),
                of: None
            }
        );
        let crash = FaultAction::Crash {
            id: 3,
            host: "n2".into(),
            group: None,
        };
        assert_eq!(
            serde_json::to_string(&crash).unwrap(),
            r#"{"action":"crash","id":3,"host":"n2"}"#
        );
    }
}
