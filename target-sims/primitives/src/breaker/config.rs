//! What a circuit breaker can be configured with, its defaults (each
//! field says where its default comes from) and their bounds.

use std::time::Duration;

use crate::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};

/// Which calls the failure rate is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlidingWindow {
    /// The last `calls` calls.
    Count { calls: u32 },
    /// The calls of the last `window` of time (in ten buckets: see the
    /// `window` module).
    Time { window: Duration },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Default: the last 100 calls (resilience4j's default count-based
    /// window). Bounds: 1 ..= 10,000 calls, or 1 ms ..= 1 h.
    pub window: SlidingWindow,
    /// Calls the window must hold before the breaker may trip. Default 100
    /// (resilience4j's `minimumNumberOfCalls`). Bound: 1 ..= 10,000, and no
    /// more than a count window's size.
    pub minimum_calls: u32,
    /// Failure fraction at or above which it trips. Default 0.5
    /// (resilience4j's 50%). Bound: (0, 1].
    pub failure_rate_threshold: f64,
    /// Slow-call fraction at or above which it trips. Default 1.0
    /// (resilience4j's 100%). Bound: (0, 1].
    pub slow_call_rate_threshold: f64,
    /// A call taking longer than this is slow. Default 60 s (resilience4j's
    /// `slowCallDurationThreshold`). Bound: 1 ms ..= 1 h.
    pub slow_call_duration: Duration,
    /// How long it stays open after the first trip. Default 60 s
    /// (resilience4j's `waitDurationInOpenState`). Bound: 1 ms ..= 1 h.
    pub open_duration: Duration,
    /// Growth of the open duration per consecutive trip (1.0 = constant,
    /// resilience4j's default). Bound: 1 ..= 10.
    pub open_multiplier: f64,
    /// Cap on the grown open duration. Default 10 min (chosen here: long
    /// enough to stop hammering a dead service, short enough to notice its
    /// return within a simulated run). Bound: `open_duration` ..= 1 h.
    pub max_open_duration: Duration,
    /// Trial calls admitted in half-open. Default 10 (resilience4j's
    /// `permittedNumberOfCallsInHalfOpenState`). Bound: 1 ..= 1,000.
    pub half_open_calls: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            window: SlidingWindow::Count { calls: 100 },
            minimum_calls: 100,
            failure_rate_threshold: 0.5,
            slow_call_rate_threshold: 1.0,
            slow_call_duration: Duration::from_secs(60),
            open_duration: Duration::from_secs(60),
            open_multiplier: 1.0,
            max_open_duration: Duration::from_secs(600),
            half_open_calls: 10,
        }
    }
}

impl BreakerConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check {
            primitive: "breaker",
        };
        match self.window {
            SlidingWindow::Count { calls } => {
                check.count("window.calls", calls, 1, 10_000)?;
                check.relation(
                    self.minimum_calls <= calls,
                    "minimum_calls",
                    self.minimum_calls,
                    format!("at most window.calls ({calls}), or it can never trip"),
                )?;
            }
            SlidingWindow::Time { window } => {
                check.duration("window.window", window, MIN_DURATION, MAX_DURATION)?;
            }
        }
        check.count("minimum_calls", self.minimum_calls, 1, 10_000)?;
        check.float_above(
            "failure_rate_threshold",
            self.failure_rate_threshold,
            0.0,
            1.0,
        )?;
        check.float_above(
            "slow_call_rate_threshold",
            self.slow_call_rate_threshold,
            0.0,
            1.0,
        )?;
        check.duration(
            "slow_call_duration",
            self.slow_call_duration,
            MIN_DURATION,
            MAX_DURATION,
        )?;
        check.duration(
            "open_duration",
            self.open_duration,
            MIN_DURATION,
            MAX_DURATION,
        )?;
        check.float("open_multiplier", self.open_multiplier, 1.0, 10.0)?;
        check.duration(
            "max_open_duration",
            self.max_open_duration,
            self.open_duration,
            MAX_DURATION,
        )?;
        check.count("half_open_calls", self.half_open_calls, 1, 1_000)
    }
}
