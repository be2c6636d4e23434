//! Per-host wall clocks for targets.
//!
//! Simulated time (tokio's clock, driven by turmoil) is one monotonic
//! timeline for every host; use it for timeouts and sleeps. A host's *wall
//! clock* is what its software would read from the system clock: the fixed
//! epoch plus simulated time, plus the offset the scenario's clock faults
//! give this host at this moment (see [`crate::host_faults`]):
//!
//! - `clock-jump`: the clock is off by `offset` (forwards or backwards)
//!   from the fault's start; at its end it jumps back by as much.
//! - `clock-drift`: from the fault's start the clock runs at `1 + rate`
//!   times simulated speed (rate in millionths, so the arithmetic is exact),
//!   so its offset grows by `rate` × elapsed time; at the end that offset is
//!   removed at once — the clock is stepped back (or forward) to true time,
//!   as NTP steps a clock it finds far off.
//!
//! Overlapping clock faults add up. Use the wall clock only for what a real
//! system uses it for: leases, TTLs, timestamps.

use crate::duration::SignedDuration;
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
        self.now_ns().div_euclid(1_000_000)
    }

    /// Nanoseconds since the Unix epoch, as this host's clock reads now.
    pub fn now_ns(&self) -> i64 {
        let epoch = crate::seed::fixed_epoch()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("fixed epoch is after 1970");
        let elapsed = turmoil::sim_elapsed().unwrap_or(Duration::ZERO);
        let true_ns = (epoch + elapsed).as_nanos() as i64;
        true_ns.saturating_add(self.offset_at(elapsed).as_nanos())
    }

    /// How far this host's clock is from true time now (zero without clock
    /// faults).
    pub fn offset(&self) -> SignedDuration {
        self.offset_at(turmoil::sim_elapsed().unwrap_or(Duration::ZERO))
    }

    fn offset_at(&self, elapsed: Duration) -> SignedDuration {
        crate::host_faults::with_host(&self.host, |h| h.clock_offset(elapsed))
            .unwrap_or(SignedDuration::ZERO)
    }
}
