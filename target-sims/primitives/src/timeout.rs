//! Timeouts: a bound on one attempt, and a deadline shared by many.
//!
//! Model: a [`Timeout`] bounds a single future — when it elapses the future
//! is dropped (cancelled) and the caller gets [`TimedOut`]. A [`Deadline`] is
//! a fixed instant shared by everything done for one request (all retry
//! attempts, hedges, fallbacks), so that retrying cannot stretch a request
//! past what its caller is still waiting for. Both read `tokio::time`, which
//! turmoil drives.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};

/// A future did not finish within its time bound and was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut {
    /// How long it was allowed.
    pub after: Duration,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {:?}", self.after)
    }
}

impl std::error::Error for TimedOut {}

/// A per-attempt time bound with a name for its trace events.
#[derive(Debug, Clone)]
pub struct Timeout {
    name: String,
    duration: Duration,
}

impl Timeout {
    /// Default attempt timeout: 1 s, the order of resilience4j's
    /// `TimeLimiter` default `timeoutDuration` (1 s). Bound: 1 ms ..= 1 h.
    pub const DEFAULT_DURATION: Duration = Duration::from_secs(1);

    pub fn new(name: impl Into<String>, duration: Duration) -> Result<Self, ConfigError> {
        let name = name.into();
        Check {
            primitive: "timeout",
        }
        .duration("duration", duration, MIN_DURATION, MAX_DURATION)
        .map_err(|e| e.named(&name))?;
        Ok(Timeout { name, duration })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Runs `future`, dropping it if it takes longer than the timeout.
    pub async fn run<F: Future>(&self, future: F) -> Result<F::Output, TimedOut> {
        match tokio::time::timeout(self.duration, future).await {
            Ok(output) => Ok(output),
            Err(_) => {
                tracing::debug!(
                    target: "primitive::timeout",
                    name = %self.name,
                    timeout_ms = self.duration.as_millis() as u64,
                    "attempt timed out"
                );
                Err(TimedOut {
                    after: self.duration,
                })
            }
        }
    }

    /// Runs `future` bounded by this timeout and by `deadline`, whichever
    /// comes first: the usual shape of one attempt inside a retried request.
    pub async fn run_within<F: Future>(
        &self,
        deadline: Deadline,
        future: F,
    ) -> Result<F::Output, TimedOut> {
        let bound = deadline.child(self.duration);
        let allowed = bound.remaining();
        bound.run(future).await.map_err(|_| {
            tracing::debug!(
                target: "primitive::timeout",
                name = %self.name,
                timeout_ms = allowed.as_millis() as u64,
                "attempt timed out"
            );
            TimedOut { after: allowed }
        })
    }
}

/// A fixed instant by which a request must be done.
///
/// `Copy`, so each attempt of a retried request can carry the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    /// The deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Deadline {
            at: Instant::now() + budget,
        }
    }

    pub fn at(instant: Instant) -> Self {
        Deadline { at: instant }
    }

    pub fn instant(&self) -> Instant {
        self.at
    }

    /// Time left; zero once expired.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn is_expired(&self) -> bool {
        Instant::now() >= self.at
    }

    /// A deadline `budget` from now, but never later than this one: a
    /// per-attempt bound inside an overall one.
    pub fn child(&self, budget: Duration) -> Deadline {
        Deadline {
            at: self.at.min(Instant::now() + budget),
        }
    }

    /// Runs `future`, dropping it if the deadline passes first.
    pub async fn run<F: Future>(&self, future: F) -> Result<F::Output, TimedOut> {
        let allowed = self.remaining();
        tokio::time::timeout_at(self.at, future)
            .await
            .map_err(|_| TimedOut { after: allowed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::capture_events;

    #[tokio::test(start_paused = true)]
    async fn timeout_drops_a_slow_future_and_traces_it() {
        let (_guard, events) = capture_events();
        let timeout = Timeout::new("db", Duration::from_millis(100)).unwrap();
        let start = Instant::now();
        let result = timeout
            .run(tokio::time::sleep(Duration::from_secs(5)))
            .await;
        assert_eq!(
            result,
            Err(TimedOut {
                after: Duration::from_millis(100)
            })
        );
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        let timed_out = events.named("attempt timed out");
        assert_eq!(timed_out.len(), 1);
        assert_eq!(timed_out[0].field("timeout_ms"), Some("100"));
        assert_eq!(timed_out[0].target, "primitive::timeout");
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_passes_a_fast_result_through() {
        let timeout = Timeout::new("db", Duration::from_millis(100)).unwrap();
        assert_eq!(timeout.run(async { 7 }).await, Ok(7));
    }

    #[tokio::test(start_paused = true)]
    async fn attempt_within_a_deadline_gets_the_smaller_bound() {
        let deadline = Deadline::after(Duration::from_millis(250));
        let timeout = Timeout::new("db", Duration::from_secs(1)).unwrap();
        let start = Instant::now();
        let result = timeout
            .run_within(deadline, tokio::time::sleep(Duration::from_secs(5)))
            .await;
        assert!(result.is_err());
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        assert!(deadline.is_expired());
        assert_eq!(deadline.remaining(), Duration::ZERO);
    }

    #[test]
    fn zero_and_huge_timeouts_are_rejected() {
        let err = Timeout::new("db", Duration::ZERO).unwrap_err();
        assert_eq!(err.field, "duration");
        assert_eq!(err.name.as_deref(), Some("db"));
        assert!(Timeout::new("db", Duration::from_secs(7200)).is_err());
    }
}
