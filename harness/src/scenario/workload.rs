//! `[workload]`: the logical clients the harness runs and what they do.

use crate::duration::serde_text;
use crate::history::OpKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Cap on logical clients: they are tasks, not hosts, but each costs memory
/// and history.
pub const MAX_CLIENTS: u32 = 10_000;
/// Cap on client hosts: every host is polled every tick (see DESIGN.md).
pub const MAX_CLIENT_HOSTS: u32 = 16;
/// Bounds on `rate`, operations per second per client. Below the floor a
/// client would think for weeks between operations; above the ceiling the
/// think time is under the finest tick.
pub const MIN_RATE: f64 = 1e-6;
pub const MAX_RATE: f64 = 100_000.0;
/// Cap on the operations one run may issue, so a typo in `rate` cannot
/// produce a history that exhausts memory.
pub const DEFAULT_MAX_OPS: u64 = 200_000;

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
    /// The transactions a `txn` weight in the mix generates (defaults if
    /// left out); see [`super::TxnWorkloadSpec`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txn: Option<super::TxnWorkloadSpec>,
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
            txn: None,
        }
    }
}

impl WorkloadSpec {
    /// The transaction shape in use: the one configured, else the
    /// defaults.
    pub fn txn_shape(&self) -> super::TxnWorkloadSpec {
        self.txn.clone().unwrap_or_default()
    }

    pub fn client_host_names(&self) -> Vec<String> {
        (0..self.client_hosts)
            .map(|i| format!("client-{i}"))
            .collect()
    }
}
