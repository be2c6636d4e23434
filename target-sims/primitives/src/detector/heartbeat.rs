//! The fixed-timeout heartbeat detector: suspect a peer silent for longer
//! than `timeout`. Simple and predictable; its one number must sit above
//! the worst heartbeat delay, which makes it slow to detect.

use std::time::Duration;

use tokio::time::Instant;

use super::SuspicionModel;
use crate::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// Silence after which a peer is suspected. Default 4 s: Akka cluster's
    /// heartbeat interval (1 s) plus its acceptable heartbeat pause (3 s).
    /// Bound: 1 ms ..= 1 h.
    pub timeout: Duration,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            timeout: Duration::from_secs(4),
        }
    }
}

impl SuspicionModel for HeartbeatConfig {
    /// The last heartbeat.
    type History = Instant;

    const KIND: &'static str = "heartbeat_timeout";

    fn validate(&self) -> Result<(), ConfigError> {
        Check {
            primitive: "detector",
        }
        .duration("timeout", self.timeout, MIN_DURATION, MAX_DURATION)
    }

    fn first_heartbeat(&self, at: Instant) -> Instant {
        at
    }

    fn heartbeat(&self, last: &mut Instant, at: Instant) {
        // Heartbeats may be processed out of order; silence runs from the
        // latest.
        *last = (*last).max(at);
    }

    fn suspects(&self, last: &Instant, now: Instant) -> bool {
        now.saturating_duration_since(*last) > self.timeout
    }
}
