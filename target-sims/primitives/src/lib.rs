//! Resilience primitives that run on simulated time: retry with backoff
//! and a budget, timeouts and deadlines, circuit breaker, bulkhead, rate
//! limiter, adaptive throttling, load shedding, fallback, hedged requests,
//! failure detectors and an autoscaled worker pool.
//!
//! **Why another set.** Every primitive here reads time only through
//! `tokio::time` and draws randomness (jitter, hedging) only from a
//! [`ChaCha8Rng`] the caller seeds and hands in. Inside a deterministic
//! simulator such as turmoil — which drives tokio's clock — a service built
//! from them is a pure function of its seed, so a failure found under
//! faults replays exactly. Most resilience crates read
//! `std::time::Instant` or a thread-local RNG and cannot be tested that
//! way. Outside a simulator the same code runs on tokio's real clock: there
//! is no simulation mode to switch off.
//!
//! **Runtime model.** They are built for a current-thread runtime (one
//! turmoil host, or a `LocalSet` in production): state lives in
//! `Rc`/`RefCell`, handles are cheap `Clone`s sharing that state, and no
//! future needs to be `Send`. Nothing spawns a background timer; time-driven
//! transitions (an open breaker going half-open, a window sliding) happen
//! lazily when the primitive is next used.
//!
//! **Dependencies.** tokio (`time`, `sync`), `rand`/`rand_chacha` (0.9,
//! re-exported here as [`rand`] and [`rand_chacha`] so the RNG type cannot
//! drift) and `tracing`. No simulator, no harness.
//!
//! Run `cargo run -p chaos-primitives --example flaky_backend` to watch a
//! retry, a breaker and a timeout handle a backend that a simulated network
//! partition cuts off.
//!
//! | module | guarantees |
//! | --- | --- |
//! | [`retry`] | at most `max_attempts`, within a deadline, backoff delays in `[base, cap]`, retries only while the [`budget`] allows |
//! | [`timeout`] | an attempt or a whole request is dropped at its bound |
//! | [`breaker`] | opens once the window's failure or slow-call rate crosses its threshold; at most `half_open_calls` trials |
//! | [`bulkhead`] | at most `max_concurrent` calls, bounded queue, bounded wait |
//! | [`rate_limit`] | at most `rate · window + burst` admissions in any window |
//! | [`throttle`] | SRE-book adaptive client throttling |
//! | [`shed`] | a server refuses at once beyond its in-flight, queue and queueing-delay limits |
//! | [`fallback`] | primary → backup → last good answer → default, marked [`Degraded`] |
//! | [`hedge`] | first success of at most `1 + max_hedges` staggered attempts; losers cancelled |
//! | [`detector`] | heartbeat-timeout and phi-accrual failure detectors, and their measurement |
//! | [`autoscale`] | pool size within `[min, max]`, resizes at least `cooldown` apart |
//!
//! Each primitive is constructed from a config struct with a documented
//! `Default` (each field's doc comment says where its default comes from)
//! and bounds on every field; a configuration outside them is rejected with
//! a [`ConfigError`] naming the field, the value and what is allowed.
//!
//! Each instance has a name and emits `tracing` events with target
//! `primitive::<module>` and a `name` field:
//!
//! - `INFO`, state changes: `breaker state changed` (`from`, `state`,
//!   `reason`, rates, `open_ms`), `throttling started`/`stopped`,
//!   `shedding started`/`stopped`, `peer suspected`/`recovered`,
//!   `scaler resized` (`from`, `to`, `reason`).
//! - `DEBUG`, per-call decisions: `retry scheduled` (`attempts`,
//!   `delay_ms`), `retry gave up` (`reason`), `retry budget exhausted`,
//!   `attempt timed out`, `call rejected` (breaker), `bulkhead full`,
//!   `rate limited`, `request throttled`, `request shed`, `fallback used`
//!   (`source`), `fallback exhausted`, `hedge sent` (`attempt`, `after_ms`),
//!   `hedge denied by budget`, `pool queue full`.
//!
//! They compose by nesting. A typical client call: a retry (with a shared
//! budget) around a breaker around a per-attempt timeout, all inside one
//! deadline:
//!
//! ```
//! use std::time::Duration;
//! use chaos_primitives::rand::SeedableRng;
//! use chaos_primitives::*;
//!
//! #[derive(Debug, Clone, PartialEq)]
//! enum CallError { Unavailable, TimedOut, BreakerOpen }
//!
//! # let runtime = tokio::runtime::Builder::new_current_thread()
//! #     .enable_time().start_paused(true).build().unwrap();
//! # runtime.block_on(async {
//! let budget = RetryBudget::new("backend", RetryBudgetConfig::default())?;
//! let retry = Retry::new("backend", RetryConfig::default(), ChaCha8Rng::seed_from_u64(7))?
//!     .with_budget(budget)
//!     // An open breaker will not close within this request: do not retry.
//!     .with_classifier(|e: &CallError| *e != CallError::BreakerOpen);
//! let breaker = CircuitBreaker::new("backend", BreakerConfig::default())?;
//! let attempt_timeout = Timeout::new("backend", Duration::from_millis(200))?;
//!
//! let deadline = Deadline::after(Duration::from_secs(2));
//! let outcome = retry
//!     .run_until(deadline, |attempt| {
//!         let (breaker, attempt_timeout) = (&breaker, &attempt_timeout);
//!         async move {
//!             let call = attempt_timeout.run_within(deadline, async move {
//!                 if attempt == 0 { Err(CallError::Unavailable) } else { Ok("value") }
//!             });
//!             // The timeout sits inside the breaker, so it counts as a failure.
//!             let guarded = breaker.call(async { call.await.unwrap_or(Err(CallError::TimedOut)) });
//!             guarded.await.map_err(|e| match e {
//!                 BreakerError::Inner(e) => e,
//!                 BreakerError::Rejected(_) => CallError::BreakerOpen,
//!             })
//!         }
//!     })
//!     .await;
//! assert_eq!(outcome.result, Ok("value"));
//! assert_eq!(outcome.attempts, 2);
//! # Ok::<(), ConfigError>(())
//! # }).unwrap();
//! ```

mod config;
mod window;

pub use rand;
pub use rand_chacha;
pub use rand_chacha::ChaCha8Rng;

pub mod autoscale;
pub mod backoff;
pub mod breaker;
pub mod budget;
pub mod bulkhead;
pub mod detector;
pub mod fallback;
pub mod hedge;
pub mod rate_limit;
pub mod retry;
pub mod shed;
pub mod throttle;
pub mod timeout;

#[cfg(test)]
mod testutil;

pub use autoscale::{Autoscaler, PoolConfig, PoolFull, PoolMetrics, ScaledPool, ScalerConfig};
pub use backoff::{Backoff, BackoffSequence, Jitter};
pub use breaker::{
    BreakerConfig, BreakerError, BreakerMetrics, BreakerState, CircuitBreaker, Outcome, Permit,
    Rejected, SlidingWindow,
};
pub use budget::{RetryBudget, RetryBudgetConfig};
pub use bulkhead::{Bulkhead, BulkheadConfig, BulkheadFull, BulkheadSlot, FullReason};
pub use config::ConfigError;
pub use detector::{
    Detector, HeartbeatConfig, HeartbeatDetector, PeerStatus, PhiAccrualDetector, PhiConfig,
    PhiDistribution, SuspicionModel, Transition,
};
pub use fallback::{Degraded, Fallback, FallbackConfig, FallbackFailed, Source};
pub use hedge::{Hedge, HedgeConfig, Hedged};
pub use rate_limit::{RateLimitConfig, RateLimited, RateLimiter};
pub use retry::{Retried, Retry, RetryConfig, RetryError};
pub use shed::{LoadShedder, QueueDelay, Shed, ShedConfig, ShedReason, ShedSlot};
pub use throttle::{AdaptiveThrottle, ThrottleConfig, ThrottleError, ThrottleTicket, Throttled};
pub use timeout::{Deadline, TimedOut, Timeout};
