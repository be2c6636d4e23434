//! A retry budget: a cap on retries relative to successes.
//!
//! Model: a retry may be sent only if it can take a token. Tokens come from
//! two buckets. The *earned* bucket gains `token_ratio` of a token per
//! success, up to `max_tokens`; the *floor* bucket refills continuously at
//! `min_retries_per_sec`, holding at most one second's worth. So over any
//! interval of `t` seconds, retries ≤ `token_ratio` · successes +
//! `min_retries_per_sec` · (t + 1) + whatever was banked at its start
//! (≤ `max_tokens`). In a total outage there are no successes, the earned
//! bucket drains, and retries fall to the floor rate — however many requests
//! arrive, retries cannot multiply the load on a service that is down.
//!
//! This is the shape of gRPC's retry throttling (tokens per success) with
//! Finagle's `RetryBudget` floor (`minRetriesPerSec`), which keeps a quiet
//! client able to retry at all.
//!
//! A `RetryBudget` is a cheap `Clone` handle: share one between every client
//! that calls the same service, since the budget protects the service.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;

use super::config::{Check, ConfigError};

#[derive(Debug, Clone, PartialEq)]
pub struct RetryBudgetConfig {
    /// Cap on banked earned tokens; the budget starts full, like gRPC's.
    /// Default 100 (chosen here: a burst of 100 retries after a healthy
    /// period). Bound: 1 ..= 1,000,000.
    pub max_tokens: u32,
    /// Tokens earned per success. Default 0.2: Finagle's `percentCanRetry`
    /// (20% extra load from retries). Bound: (0, 1].
    pub token_ratio: f64,
    /// Retries per second allowed regardless of successes. Default 10:
    /// Finagle's `minRetriesPerSec`. Bound: 0 ..= 100,000 (0 = no floor).
    pub min_retries_per_sec: f64,
}

impl Default for RetryBudgetConfig {
    fn default() -> Self {
        RetryBudgetConfig {
            max_tokens: 100,
            token_ratio: 0.2,
            min_retries_per_sec: 10.0,
        }
    }
}

impl RetryBudgetConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check {
            primitive: "retry_budget",
        };
        check.count("max_tokens", self.max_tokens, 1, 1_000_000)?;
        check.float_above("token_ratio", self.token_ratio, 0.0, 1.0)?;
        check.float(
            "min_retries_per_sec",
            self.min_retries_per_sec,
            0.0,
            100_000.0,
        )
    }
}

#[derive(Debug)]
struct Buckets {
    earned: f64,
    floor: f64,
    floor_refilled_at: Instant,
    withdrawn: u64,
    denied: u64,
}

#[derive(Debug)]
struct Inner {
    name: String,
    config: RetryBudgetConfig,
    buckets: RefCell<Buckets>,
}

/// A shared token budget for retries (and hedges).
#[derive(Debug, Clone)]
pub struct RetryBudget {
    inner: Rc<Inner>,
}

impl RetryBudget {
    pub fn new(name: impl Into<String>, config: RetryBudgetConfig) -> Result<Self, ConfigError> {
        let name = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        let floor_capacity = floor_capacity(&config);
        Ok(RetryBudget {
            inner: Rc::new(Inner {
                buckets: RefCell::new(Buckets {
                    earned: f64::from(config.max_tokens),
                    floor: floor_capacity,
                    floor_refilled_at: Instant::now(),
                    withdrawn: 0,
                    denied: 0,
                }),
                name,
                config,
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn config(&self) -> &RetryBudgetConfig {
        &self.inner.config
    }

    /// Takes a token for one retry, if there is one.
    pub fn try_withdraw(&self) -> bool {
        let config = &self.inner.config;
        let mut b = self.inner.buckets.borrow_mut();
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(b.floor_refilled_at);
        b.floor = (b.floor + elapsed.as_secs_f64() * config.min_retries_per_sec)
            .min(floor_capacity(config));
        b.floor_refilled_at = now;
        // Earned tokens first: the floor is what remains when they are gone.
        let granted = if b.earned >= 1.0 {
            b.earned -= 1.0;
            true
        } else if b.floor >= 1.0 {
            b.floor -= 1.0;
            true
        } else {
            false
        };
        if granted {
            b.withdrawn += 1;
        } else {
            b.denied += 1;
            tracing::debug!(
                target: "primitive::budget",
                name = %self.inner.name,
                earned_tokens = b.earned,
                floor_tokens = b.floor,
                "retry budget exhausted"
            );
        }
        debug_assert!(b.earned >= 0.0 && b.earned <= f64::from(config.max_tokens));
        debug_assert!(b.floor >= 0.0 && b.floor <= floor_capacity(config));
        granted
    }

    /// Credits one success.
    pub fn deposit_success(&self) {
        let config = &self.inner.config;
        let mut b = self.inner.buckets.borrow_mut();
        b.earned = (b.earned + config.token_ratio).min(f64::from(config.max_tokens));
    }

    /// Whole tokens available now (earned plus floor).
    pub fn available(&self) -> f64 {
        let b = self.inner.buckets.borrow();
        let config = &self.inner.config;
        let elapsed = Instant::now().saturating_duration_since(b.floor_refilled_at);
        let floor = (b.floor + elapsed.as_secs_f64() * config.min_retries_per_sec)
            .min(floor_capacity(config));
        b.earned + floor
    }

    /// `(withdrawn, denied)` since creation.
    pub fn counts(&self) -> (u64, u64) {
        let b = self.inner.buckets.borrow();
        (b.withdrawn, b.denied)
    }
}

/// One second's worth of floor tokens, but at least one token so a
/// fractional floor rate (say 0.5/s) still ever allows a retry.
fn floor_capacity(config: &RetryBudgetConfig) -> f64 {
    if config.min_retries_per_sec == 0.0 {
        0.0
    } else {
        config.min_retries_per_sec.max(1.0)
    }
}

/// The most retries a budget can allow over `interval` with no successes:
/// everything banked plus the floor rate (`+ 1 s` for the full floor bucket).
pub fn outage_retry_bound(config: &RetryBudgetConfig, interval: Duration) -> f64 {
    f64::from(config.max_tokens)
        + floor_capacity(config)
        + config.min_retries_per_sec * interval.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::run_paused;
    use proptest::prelude::*;

    #[tokio::test(start_paused = true)]
    async fn successes_earn_retries() {
        let budget = RetryBudget::new(
            "svc",
            RetryBudgetConfig {
                max_tokens: 2,
                token_ratio: 0.5,
                min_retries_per_sec: 0.0,
            },
        )
        .unwrap();
        assert!(budget.try_withdraw());
        assert!(budget.try_withdraw());
        assert!(!budget.try_withdraw());
        budget.deposit_success();
        assert!(!budget.try_withdraw(), "half a token is not a retry");
        budget.deposit_success();
        assert!(budget.try_withdraw());
        assert_eq!(budget.counts(), (3, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn floor_refills_with_time_only() {
        let budget = RetryBudget::new(
            "svc",
            RetryBudgetConfig {
                max_tokens: 1,
                token_ratio: 0.1,
                min_retries_per_sec: 2.0,
            },
        )
        .unwrap();
        // 1 earned + 2 floor.
        assert_eq!((0..10).filter(|_| budget.try_withdraw()).count(), 3);
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(budget.try_withdraw());
        assert!(!budget.try_withdraw());
        // Floor never banks more than one second's worth.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!((0..10).filter(|_| budget.try_withdraw()).count(), 2);
    }

    #[test]
    fn invalid_config_is_rejected() {
        let err = RetryBudget::new(
            "svc",
            RetryBudgetConfig {
                token_ratio: 0.0,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field, "token_ratio");
        assert!(RetryBudgetConfig {
            min_retries_per_sec: -1.0,
            ..Default::default()
        }
        .validate()
        .is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// With no successes, retries granted over any run never exceed the
        /// banked tokens plus the floor rate times the elapsed time.
        #[test]
        fn outage_retries_bounded_by_floor(
            max_tokens in 1u32..200,
            floor in 0.0f64..50.0,
            gaps_ms in prop::collection::vec(0u64..200, 1..400),
        ) {
            let config = RetryBudgetConfig { max_tokens, token_ratio: 0.2, min_retries_per_sec: floor };
            let (granted, elapsed) = run_paused(async {
                let budget = RetryBudget::new("svc", config.clone()).unwrap();
                let start = Instant::now();
                let mut granted = 0u64;
                for gap in &gaps_ms {
                    tokio::time::advance(Duration::from_millis(*gap)).await;
                    granted += u64::from(budget.try_withdraw());
                }
                (granted, start.elapsed())
            });
            prop_assert!(granted as f64 <= outage_retry_bound(&config, elapsed) + 1e-9);
        }
    }
}
