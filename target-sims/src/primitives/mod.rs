//! Resilience primitives on simulated time.
//!
//! Every primitive here reads time only through `tokio::time` — which
//! turmoil drives — and draws randomness only from an RNG the caller seeds,
//! so a run is a pure function of its seed. They are built for a turmoil
//! host's current-thread runtime: state lives in `Rc`/`RefCell`, handles are
//! cheap `Clone`s sharing that state, and no future needs to be `Send`.
//!
//! Each primitive is constructed from a config struct with a documented
//! `Default` (each doc comment says where the default comes from) and
//! bounds on every field; a configuration outside them is rejected with a
//! [`ConfigError`] naming the field.
//!
//! Each instance has a name and emits `tracing` events with target
//! `primitive::<kind>` and a `name` field. State changes (breaker opened,
//! peer suspected, pool resized, shedding started) are at `INFO`; per-call
//! decisions (retry scheduled, request shed, rate limited, hedge sent,
//! fallback used, bulkhead full) are at `DEBUG`.

mod config;
mod window;

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
