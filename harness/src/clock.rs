//! Per-host wall clocks for targets.
//!
//! Simulated time (tokio's clock, driven by turmoil) is one monotonic
//! timeline for every host; use it for timeouts and sleeps. A host's *wall
//! clock* is what its software would read from the system clock: the fixed
//! epoch plus simulated time, plus whatever offset the scenario's clock
//! faults have given this host (a jump forwards or backwards, or a drift
//! that accumulates within a window). Use it only for what a real system
//! uses the wall clock for: leases, TTLs, timestamps.

use std::time::Duration;

/// One host's wall clock. Read it inside the host's software.
#[derive(Clone, Debug)]
pub struct WallClock {
    host: String,
}

impl WallClock {
    pub(crate) fn new(host: &str) -> WallClock {
        WallClock {
            host: host.to_string(),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Milliseconds since the Unix epoch, as this host's clock reads now.
    /// Can go backwards when a clock fault jumps it back.
    pub fn now_ms(&self) -> i64 {
        let epoch = crate::seed::fixed_epoch()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("fixed epoch is after 1970");
        let elapsed = turmoil::sim_elapsed().unwrap_or(Duration::ZERO);
        (epoch + elapsed).as_millis() as i64
    }
}
