//! A rate limiter (GCRA, the generic cell rate algorithm).
//!
//! Model: over any interval of length `w`, at most `rate_per_sec · w +
//! burst` calls are admitted. Calls are spaced by an emission interval
//! `T = 1 / rate_per_sec`; the limiter keeps one instant, the theoretical
//! arrival time (TAT) of the next call, and admits a call at `now` if
//! `TAT − now ≤ (burst − 1) · T`. This is a token bucket of `burst` tokens
//! refilled at `rate_per_sec`, kept as one number instead of a counter and a
//! timestamp.
//!
//! [`RateLimiter::try_acquire`] never waits. [`RateLimiter::acquire`]
//! reserves the next slot and sleeps until it, if that is within `max_wait`.
//! A reservation is spent even if the waiting future is dropped — erring
//! towards admitting less, never more. A waiting caller resumes when the
//! runtime's timer fires at or after its slot: on turmoil's 1 ms tick, up to
//! a tick late, so two waiters may resume closer together than `T`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;

use super::config::{Check, ConfigError, MAX_DURATION};

#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitConfig {
    /// Sustained rate. Default 100/s (chosen here; resilience4j's default,
    /// 50 per 500 ns, is a placeholder rather than a rate). Bound:
    /// 0.001 ..= 1,000,000.
    pub rate_per_sec: f64,
    /// Calls admitted back to back after a quiet spell. Default 100: one
    /// second at the default rate, as Guava's bursty limiter stores one
    /// second of permits. Bound: 1 ..= 1,000,000.
    pub burst: u32,
    /// Longest [`acquire`](RateLimiter::acquire) waits for a slot. Default
    /// 5 s: resilience4j's `timeoutDuration`. Bound: 0 ..= 1 h.
    pub max_wait: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            rate_per_sec: 100.0,
            burst: 100,
            max_wait: Duration::from_secs(5),
        }
    }
}

impl RateLimitConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check {
            primitive: "rate_limit",
        };
        check.float("rate_per_sec", self.rate_per_sec, 0.001, 1_000_000.0)?;
        check.count("burst", self.burst, 1, 1_000_000)?;
        check.duration("max_wait", self.max_wait, Duration::ZERO, MAX_DURATION)
    }

    /// `1 / rate`, rounded up to a whole nanosecond so that rounding can
    /// only make the limiter stricter.
    fn emission_interval(&self) -> Duration {
        Duration::from_nanos((1e9 / self.rate_per_sec).ceil() as u64)
    }
}

/// The limiter refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    /// How long until a call would be admitted.
    pub retry_after: Duration,
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limited; retry after {:?}", self.retry_after)
    }
}

impl std::error::Error for RateLimited {}

#[derive(Debug)]
struct State {
    /// Theoretical arrival time of the next call; `None` before the first.
    tat: Option<Instant>,
    admitted: u64,
    limited: u64,
}

#[derive(Debug)]
struct Inner {
    name: String,
    config: RateLimitConfig,
    emission_interval: Duration,
    tolerance: Duration,
    state: RefCell<State>,
}

/// A rate limit; clones share it.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    inner: Rc<Inner>,
}

impl RateLimiter {
    pub fn new(name: impl Into<String>, config: RateLimitConfig) -> Result<Self, ConfigError> {
        let name = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        let emission_interval = config.emission_interval();
        let tolerance = emission_interval * (config.burst - 1);
        Ok(RateLimiter {
            inner: Rc::new(Inner {
                name,
                config,
                emission_interval,
                tolerance,
                state: RefCell::new(State {
                    tat: None,
                    admitted: 0,
                    limited: 0,
                }),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// `(admitted, limited)` since creation.
    pub fn counts(&self) -> (u64, u64) {
        let state = self.inner.state.borrow();
        (state.admitted, state.limited)
    }

    /// Admits a call now or refuses it; never waits.
    pub fn try_acquire(&self) -> Result<(), RateLimited> {
        self.reserve(Duration::ZERO).map(|wait| {
            debug_assert!(wait.is_zero());
        })
    }

    /// Waits for a slot if one comes within `max_wait`, else refuses at
    /// once.
    pub async fn acquire(&self) -> Result<(), RateLimited> {
        let wait = self.reserve(self.inner.config.max_wait)?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// Runs `future` once admitted by [`acquire`](Self::acquire).
    pub async fn run<F: Future>(&self, future: F) -> Result<F::Output, RateLimited> {
        self.acquire().await?;
        Ok(future.await)
    }

    fn reserve(&self, max_wait: Duration) -> Result<Duration, RateLimited> {
        let inner = &*self.inner;
        let now = Instant::now();
        let mut state = inner.state.borrow_mut();
        let tat = state.tat.map_or(now, |tat| tat.max(now));
        let wait = tat.duration_since(now).saturating_sub(inner.tolerance);
        if wait > max_wait {
            state.limited += 1;
            tracing::debug!(
                target: "primitive::rate_limit",
                name = %inner.name,
                retry_after_ms = wait.as_millis() as u64,
                "rate limited"
            );
            return Err(RateLimited { retry_after: wait });
        }
        state.tat = Some(tat + inner.emission_interval);
        state.admitted += 1;
        Ok(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::run_paused;
    use proptest::prelude::*;

    fn limiter(rate_per_sec: f64, burst: u32, max_wait_ms: u64) -> RateLimiter {
        RateLimiter::new(
            "api",
            RateLimitConfig {
                rate_per_sec,
                burst,
                max_wait: Duration::from_millis(max_wait_ms),
            },
        )
        .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate() {
        let limiter = limiter(10.0, 3, 0);
        for _ in 0..3 {
            limiter.try_acquire().unwrap();
        }
        let refused = limiter.try_acquire().unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_millis(100));
        tokio::time::advance(Duration::from_millis(100)).await;
        limiter.try_acquire().unwrap();
        assert!(limiter.try_acquire().is_err());
        // A long quiet spell refills the burst, not more.
        tokio::time::advance(Duration::from_secs(60)).await;
        let admitted = (0..10).filter(|_| limiter.try_acquire().is_ok()).count();
        assert_eq!(admitted, 3);
        assert_eq!(limiter.counts(), (7, 9));
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_for_its_slot_within_max_wait() {
        let limiter = limiter(10.0, 1, 250);
        let start = Instant::now();
        limiter.acquire().await.unwrap();
        limiter.acquire().await.unwrap();
        limiter.acquire().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(200));
        // Reserve the next two slots without waiting for them.
        limiter.reserve(Duration::from_secs(1)).unwrap();
        limiter.reserve(Duration::from_secs(1)).unwrap();
        // The following slot is 300 ms out: beyond max_wait.
        assert_eq!(
            limiter.acquire().await,
            Err(RateLimited {
                retry_after: Duration::from_millis(300)
            })
        );
    }

    #[test]
    fn invalid_config_is_rejected() {
        let err = RateLimiter::new(
            "api",
            RateLimitConfig {
                rate_per_sec: 0.0,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field, "rate_per_sec");
        assert_eq!(
            RateLimitConfig {
                burst: 0,
                ..Default::default()
            }
            .validate()
            .unwrap_err()
            .field,
            "burst"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Over every interval between two admissions, the admitted count is
        /// at most rate × interval + burst. A waiting caller is admitted at
        /// its reserved slot; it resumes when the runtime's timer next fires
        /// after it (up to one tick later), which is not the limiter's doing.
        #[test]
        fn admitted_never_exceed_rate_times_window_plus_burst(
            rate_per_sec in 0.5f64..500.0,
            burst in 1u32..20,
            max_wait_ms in 0u64..500,
            calls in prop::collection::vec((0u64..100, any::<bool>()), 1..250),
        ) {
            let admitted_at = run_paused(async {
                let limiter = limiter(rate_per_sec, burst, max_wait_ms);
                let mut admitted_at = Vec::new();
                for (gap_ms, waits) in calls {
                    tokio::time::advance(Duration::from_millis(gap_ms)).await;
                    let max_wait = if waits { Duration::from_millis(max_wait_ms) } else { Duration::ZERO };
                    if let Ok(wait) = limiter.reserve(max_wait) {
                        admitted_at.push(Instant::now() + wait);
                        tokio::time::sleep(wait).await;
                    }
                }
                admitted_at
            });
            for (i, first) in admitted_at.iter().enumerate() {
                for (j, last) in admitted_at.iter().enumerate().skip(i) {
                    let count = (j - i + 1) as f64;
                    let window = last.duration_since(*first).as_secs_f64();
                    prop_assert!(
                        count <= rate_per_sec * window + f64::from(burst) + 1e-9,
                        "{} calls in {}s at {}/s burst {}", count, window, rate_per_sec, burst
                    );
                }
            }
        }
    }
}
