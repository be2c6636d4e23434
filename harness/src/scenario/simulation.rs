//! `[simulation]` and `[network]`: how simulated time runs and what the
//! healthy network every link starts with looks like.

use crate::duration::serde_text;
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
        let total = self.duration.saturating_add(self.drain);
        u64::try_from(total.as_nanos() / self.tick.as_nanos().max(1))
            .unwrap_or(u64::MAX)
            .saturating_add(1)
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
