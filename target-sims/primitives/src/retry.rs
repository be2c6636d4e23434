//! Retry with backoff, an overall deadline and an optional retry budget.
//!
//! Model: [`Retry::run`] calls the operation at most `max_attempts` times,
//! never starts or continues an attempt past its overall deadline, sleeps a
//! [`Backoff`] delay between attempts, retries only errors the classifier
//! calls retryable, and — with a [`RetryBudget`] — retries only while the
//! budget has a token. It reports how many attempts it made, which is what a
//! caller needs to measure retry amplification.
//!
//! The deadline bounds attempts as well as sleeps: an attempt still running
//! when it passes is dropped. A retry that could only start after the
//! deadline is not scheduled at all.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use super::backoff::Backoff;
use super::budget::RetryBudget;
use super::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};
use super::timeout::Deadline;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Attempts in total, the first included. Default 3: resilience4j's
    /// `maxAttempts` and the AWS SDKs' standard retry mode. Bound: 1 ..= 100.
    pub max_attempts: u32,
    /// Overall time for all attempts and the sleeps between them. Default
    /// 30 s: Polly's default timeout. Bound: 1 ms ..= 1 h.
    pub max_total: Duration,
    /// Delays between attempts; see [`Backoff::default`].
    pub backoff: Backoff,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            max_total: Duration::from_secs(30),
            backoff: Backoff::default(),
        }
    }
}

impl RetryConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check { primitive: "retry" };
        check.count("max_attempts", self.max_attempts, 1, 100)?;
        check.duration("max_total", self.max_total, MIN_DURATION, MAX_DURATION)?;
        self.backoff.validate()
    }
}

/// Why a retried operation finally failed. Each variant carries the last
/// attempt's error, where there was one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryError<E> {
    /// The classifier said this error is not worth retrying.
    Permanent(E),
    /// Every allowed attempt failed.
    Exhausted(E),
    /// The retry budget had no token for another attempt.
    BudgetExhausted(E),
    /// The overall deadline passed; `None` if it cut short the only attempt.
    DeadlineExceeded(Option<E>),
}

impl<E> RetryError<E> {
    pub fn last_error(&self) -> Option<&E> {
        match self {
            RetryError::Permanent(e)
            | RetryError::Exhausted(e)
            | RetryError::BudgetExhausted(e) => Some(e),
            RetryError::DeadlineExceeded(e) => e.as_ref(),
        }
    }

    pub fn into_last_error(self) -> Option<E> {
        match self {
            RetryError::Permanent(e)
            | RetryError::Exhausted(e)
            | RetryError::BudgetExhausted(e) => Some(e),
            RetryError::DeadlineExceeded(e) => e,
        }
    }

    /// A short stable label for traces and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            RetryError::Permanent(_) => "permanent",
            RetryError::Exhausted(_) => "attempts_exhausted",
            RetryError::BudgetExhausted(_) => "budget_exhausted",
            RetryError::DeadlineExceeded(_) => "deadline_exceeded",
        }
    }
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.last_error() {
            Some(e) => write!(f, "gave up ({}): {e}", self.reason()),
            None => write!(f, "gave up ({})", self.reason()),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for RetryError<E> {}

/// The result of a retried operation and how many attempts it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retried<T, E> {
    pub result: Result<T, RetryError<E>>,
    /// Attempts started, including one cut short by the deadline.
    pub attempts: u32,
}

impl<T, E> Retried<T, E> {
    pub fn into_result(self) -> Result<T, RetryError<E>> {
        self.result
    }
}

/// A retry policy for operations failing with `E`. Clones share the jitter
/// RNG, so one seeded stream serves every client of a host.
pub struct Retry<E> {
    name: Rc<str>,
    config: RetryConfig,
    rng: Rc<RefCell<ChaCha8Rng>>,
    budget: Option<RetryBudget>,
    is_retryable: Rc<dyn Fn(&E) -> bool>,
}

impl<E> Clone for Retry<E> {
    fn clone(&self) -> Self {
        Retry {
            name: self.name.clone(),
            config: self.config.clone(),
            rng: self.rng.clone(),
            budget: self.budget.clone(),
            is_retryable: self.is_retryable.clone(),
        }
    }
}

impl<E> fmt::Debug for Retry<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("budget", &self.budget.as_ref().map(RetryBudget::name))
            .finish_non_exhaustive()
    }
}

impl<E> Retry<E> {
    /// A policy that treats every error as retryable and has no budget.
    /// Jitter draws from `rng`, which the caller seeds.
    pub fn new(
        name: impl Into<String>,
        config: RetryConfig,
        rng: ChaCha8Rng,
    ) -> Result<Self, ConfigError> {
        let name: String = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        Ok(Retry {
            name: name.into(),
            config,
            rng: Rc::new(RefCell::new(rng)),
            budget: None,
            is_retryable: Rc::new(|_| true),
        })
    }

    /// Retries only errors for which `is_retryable` returns true.
    pub fn with_classifier(mut self, is_retryable: impl Fn(&E) -> bool + 'static) -> Self {
        self.is_retryable = Rc::new(is_retryable);
        self
    }

    /// Spends a token of `budget` on every retry and credits it on every
    /// success.
    pub fn with_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// Runs `op(attempt)` (attempt 0 is the first try) until it succeeds or
    /// the policy gives up, within `max_total` from now.
    pub async fn run<T, F, Fut>(&self, op: F) -> Retried<T, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run_until(Deadline::after(self.config.max_total), op)
            .await
    }

    /// Like [`run`](Self::run) but also bounded by a caller's `deadline`,
    /// so one request's deadline covers its retries too.
    pub async fn run_until<T, F, Fut>(&self, deadline: Deadline, mut op: F) -> Retried<T, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let deadline = deadline.child(self.config.max_total);
        let mut backoff = self.config.backoff.sequence();
        let mut attempts = 0u32;
        loop {
            let attempt = attempts;
            attempts += 1;
            assert!(attempts <= self.config.max_attempts);
            let error = match deadline.run(op(attempt)).await {
                Ok(Ok(value)) => {
                    if let Some(budget) = &self.budget {
                        budget.deposit_success();
                    }
                    return Retried {
                        result: Ok(value),
                        attempts,
                    };
                }
                Ok(Err(error)) => error,
                Err(_) => return self.give_up(RetryError::DeadlineExceeded(None), attempts),
            };
            if !(self.is_retryable)(&error) {
                return self.give_up(RetryError::Permanent(error), attempts);
            }
            if attempts >= self.config.max_attempts {
                return self.give_up(RetryError::Exhausted(error), attempts);
            }
            let delay = backoff.next_delay(&mut *self.rng.borrow_mut());
            if delay >= deadline.remaining() {
                return self.give_up(RetryError::DeadlineExceeded(Some(error)), attempts);
            }
            if let Some(budget) = &self.budget {
                if !budget.try_withdraw() {
                    return self.give_up(RetryError::BudgetExhausted(error), attempts);
                }
            }
            tracing::debug!(
                target: "primitive::retry",
                name = %self.name,
                attempts,
                delay_ms = delay.as_millis() as u64,
                "retry scheduled"
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn give_up<T>(&self, error: RetryError<E>, attempts: u32) -> Retried<T, E> {
        tracing::debug!(
            target: "primitive::retry",
            name = %self.name,
            attempts,
            reason = error.reason(),
            "retry gave up"
        );
        Retried {
            result: Err(error),
            attempts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::Jitter;
    use crate::budget::{outage_retry_bound, RetryBudgetConfig};
    use crate::testutil::{capture_events, run_paused};
    use proptest::prelude::*;
    use rand::SeedableRng;
    use std::cell::Cell;
    use tokio::time::Instant;

    fn fixed(ms: u64, max_attempts: u32) -> RetryConfig {
        RetryConfig {
            max_attempts,
            max_total: Duration::from_secs(60),
            backoff: Backoff::Fixed {
                delay: Duration::from_millis(ms),
            },
        }
    }

    fn retry<E>(config: RetryConfig) -> Retry<E> {
        Retry::new("test", config, ChaCha8Rng::seed_from_u64(7)).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn succeeds_after_transient_failures_and_counts_attempts() {
        let (_guard, events) = capture_events();
        let start = Instant::now();
        let out = retry(fixed(100, 5))
            .run(|attempt| async move {
                if attempt < 2 {
                    Err("busy")
                } else {
                    Ok(attempt)
                }
            })
            .await;
        assert_eq!(out.result, Ok(2));
        assert_eq!(out.attempts, 3);
        assert_eq!(start.elapsed(), Duration::from_millis(200));
        let scheduled = events.named("retry scheduled");
        assert_eq!(scheduled.len(), 2);
        assert_eq!(scheduled[0].field("delay_ms"), Some("100"));
        assert_eq!(scheduled[0].field("name"), Some("test"));
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_max_attempts() {
        let out = retry::<&str>(fixed(10, 3))
            .run(|_| async { Err::<(), _>("down") })
            .await;
        assert_eq!(out.result, Err(RetryError::Exhausted("down")));
        assert_eq!(out.attempts, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_are_not_retried() {
        let out = retry(fixed(10, 3))
            .with_classifier(|e: &u16| *e >= 500)
            .run(|_| async { Err::<(), u16>(404) })
            .await;
        assert_eq!(out.result, Err(RetryError::Permanent(404)));
        assert_eq!(out.attempts, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_cuts_a_hung_attempt_and_skips_late_retries() {
        let config = RetryConfig {
            max_total: Duration::from_millis(250),
            ..fixed(100, 10)
        };
        let start = Instant::now();
        let hung = retry::<()>(config.clone())
            .run(|_| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok::<(), ()>(())
            })
            .await;
        assert_eq!(hung.result, Err(RetryError::DeadlineExceeded(None)));
        assert_eq!(start.elapsed(), Duration::from_millis(250));

        // Attempts at 0, 100, 200 ms; the retry at 300 ms would be late.
        let start = Instant::now();
        let failing = retry(config).run(|_| async { Err::<(), _>("x") }).await;
        assert_eq!(failing.result, Err(RetryError::DeadlineExceeded(Some("x"))));
        assert_eq!(failing.attempts, 3);
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn caller_deadline_bounds_the_retries() {
        let deadline = Deadline::after(Duration::from_millis(150));
        let out = retry(fixed(100, 10))
            .run_until(deadline, |_| async { Err::<(), _>("x") })
            .await;
        assert_eq!(out.attempts, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn empty_budget_stops_retries() {
        let budget = RetryBudget::new(
            "svc",
            RetryBudgetConfig {
                max_tokens: 1,
                token_ratio: 0.5,
                min_retries_per_sec: 0.0,
            },
        )
        .unwrap();
        let retry = retry(fixed(10, 5)).with_budget(budget.clone());
        let first = retry.run(|_| async { Err::<(), _>("x") }).await;
        assert_eq!(first.attempts, 2, "one banked token, one retry");
        assert_eq!(first.result, Err(RetryError::BudgetExhausted("x")));
        let ok = retry.run(|_| async { Ok::<_, &str>(()) }).await;
        assert_eq!(ok.attempts, 1);
        let ok = retry.run(|_| async { Ok::<_, &str>(()) }).await;
        assert_eq!(ok.attempts, 1);
        // Two successes at 0.5 earned one retry.
        let again = retry.run(|_| async { Err::<(), _>("x") }).await;
        assert_eq!(again.attempts, 2);
    }

    #[test]
    fn invalid_config_names_the_field() {
        let err = Retry::<()>::new(
            "gw",
            RetryConfig {
                max_attempts: 0,
                ..Default::default()
            },
            ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap_err();
        assert_eq!(err.field, "max_attempts");
        assert_eq!(err.name.as_deref(), Some("gw"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Attempts never exceed the limit, whatever fails when.
        #[test]
        fn attempts_never_exceed_the_limit(
            max_attempts in 1u32..8,
            failures in prop::collection::vec(any::<bool>(), 8),
            seed in any::<u64>(),
        ) {
            let config = RetryConfig {
                max_attempts,
                max_total: Duration::from_secs(3600),
                backoff: Backoff::Exponential {
                    base: Duration::from_millis(10),
                    cap: Duration::from_secs(1),
                    multiplier: 2.0,
                    jitter: Jitter::Decorrelated,
                },
            };
            let calls = Cell::new(0u32);
            let out = run_paused(async {
                Retry::new("p", config, ChaCha8Rng::seed_from_u64(seed))
                    .unwrap()
                    .run(|attempt| {
                        calls.set(calls.get() + 1);
                        let fail = failures[attempt as usize];
                        async move { if fail { Err(attempt) } else { Ok(attempt) } }
                    })
                    .await
            });
            prop_assert!(out.attempts <= max_attempts);
            prop_assert_eq!(out.attempts, calls.get());
            let first_success = failures.iter().position(|f| !f).map(|i| i as u32);
            match first_success {
                Some(i) if i < max_attempts => prop_assert_eq!(out.result, Ok(i)),
                _ => prop_assert_eq!(out.attempts, max_attempts),
            }
        }

        /// In a total outage with a shared budget, retries over the whole run
        /// fall to the budget's floor: at most banked tokens plus floor rate
        /// times duration, however many requests arrive.
        #[test]
        fn outage_retries_fall_to_the_budget_floor(
            requests in 20usize..200,
            gap_ms in 1u64..50,
            floor in 1.0f64..20.0,
            max_tokens in 1u32..20,
        ) {
            let budget_config = RetryBudgetConfig { max_tokens, token_ratio: 0.2, min_retries_per_sec: floor };
            let (attempts, elapsed) = run_paused(async {
                let budget = RetryBudget::new("svc", budget_config.clone()).unwrap();
                let retry: Retry<()> = retry(fixed(5, 10)).with_budget(budget);
                let start = Instant::now();
                let total = Rc::new(Cell::new(0u32));
                let mut tasks = Vec::new();
                for _ in 0..requests {
                    let retry = retry.clone();
                    let total = total.clone();
                    tasks.push(tokio::task::spawn_local(async move {
                        let out = retry.run(|_| async { Err::<(), ()>(()) }).await;
                        total.set(total.get() + out.attempts);
                    }));
                    tokio::time::sleep(Duration::from_millis(gap_ms)).await;
                }
                for task in tasks {
                    task.await.unwrap();
                }
                (total.get(), start.elapsed())
            });
            let retries = f64::from(attempts) - requests as f64;
            prop_assert!(retries >= 0.0);
            prop_assert!(
                retries <= outage_retry_bound(&budget_config, elapsed),
                "{} retries for {} requests over {:?}", retries, requests, elapsed
            );
        }
    }
}
