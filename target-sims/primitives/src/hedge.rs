//! Hedged requests ("The Tail at Scale", Dean and Barroso, 2013).
//!
//! Model: [`Hedge::run`] starts attempt 0; if no attempt has succeeded
//! `delay` after the latest one started, it starts another (the closure gets
//! the attempt index, so it can pick another replica), up to `max_hedges`
//! extra attempts. The first success wins and every other attempt is dropped
//! — cancelled, in Rust's sense. An attempt that fails starts the next one
//! at once, as gRPC's hedging policy does. If all attempts fail, the last
//! error is returned. With a [`RetryBudget`], each hedge spends a token, so
//! hedging too stops multiplying load when the service is down.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use super::budget::RetryBudget;
use super::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HedgeConfig {
    /// Wait before each hedge. Default 10 ms: the hedging delay in the
    /// Tail at Scale paper's BigTable measurement. Set it near the
    /// service's p95 latency. Bound: 1 ms ..= 1 h.
    pub delay: Duration,
    /// Extra attempts beyond the first. Default 1, as in the paper. Bound:
    /// 0 ..= 4 (gRPC caps hedged attempts at 5 in all).
    pub max_hedges: u32,
}

impl Default for HedgeConfig {
    fn default() -> Self {
        HedgeConfig {
            delay: Duration::from_millis(10),
            max_hedges: 1,
        }
    }
}

impl HedgeConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check { primitive: "hedge" };
        check.duration("delay", self.delay, MIN_DURATION, MAX_DURATION)?;
        check.count("max_hedges", self.max_hedges, 0, 4)
    }
}

/// A hedged call's result and how many attempts it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hedged<T, E> {
    pub result: Result<T, E>,
    /// Attempts started, the first included.
    pub attempts: u32,
    /// Index of the attempt whose answer was taken, on success.
    pub winner: Option<u32>,
}

/// A hedging policy; clones share the budget.
#[derive(Clone)]
pub struct Hedge {
    name: Rc<str>,
    config: HedgeConfig,
    budget: Option<RetryBudget>,
}

impl fmt::Debug for Hedge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hedge")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("budget", &self.budget.as_ref().map(RetryBudget::name))
            .finish()
    }
}

impl Hedge {
    pub fn new(name: impl Into<String>, config: HedgeConfig) -> Result<Self, ConfigError> {
        let name: String = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        Ok(Hedge {
            name: name.into(),
            config,
            budget: None,
        })
    }

    /// Each hedge must take a token from `budget`; successes credit it.
    pub fn with_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `op(0)`, hedging with `op(1)`, `op(2)`, … as configured.
    pub async fn run<T, E, F, Fut>(&self, mut op: F) -> Hedged<T, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = Instant::now();
        let max_attempts = 1 + self.config.max_hedges;
        let mut in_flight: Vec<(u32, Pin<Box<Fut>>)> = vec![(0, Box::pin(op(0)))];
        let mut attempts = 1u32;
        let mut hedging_allowed = self.config.max_hedges > 0;
        let mut last_error: Option<E> = None;
        let timer = tokio::time::sleep(self.config.delay);
        tokio::pin!(timer);

        let outcome = poll_fn(|cx| loop {
            let mut failed_now = false;
            let mut i = 0;
            while i < in_flight.len() {
                let attempt = in_flight[i].0;
                match in_flight[i].1.as_mut().poll(cx) {
                    Poll::Ready(Ok(value)) => return Poll::Ready(Ok((value, attempt))),
                    Poll::Ready(Err(error)) => {
                        in_flight.swap_remove(i);
                        last_error = Some(error);
                        failed_now = true;
                    }
                    Poll::Pending => i += 1,
                }
            }
            let launch = hedging_allowed
                && attempts < max_attempts
                && (failed_now || timer.as_mut().poll(cx).is_ready());
            if launch {
                if self.budget.as_ref().is_some_and(|b| !b.try_withdraw()) {
                    hedging_allowed = false;
                    tracing::debug!(
                        target: "primitive::hedge",
                        name = %self.name,
                        attempt = attempts,
                        "hedge denied by budget"
                    );
                } else {
                    tracing::debug!(
                        target: "primitive::hedge",
                        name = %self.name,
                        attempt = attempts,
                        after_ms = started.elapsed().as_millis() as u64,
                        trigger = if failed_now { "error" } else { "delay" },
                        "hedge sent"
                    );
                    in_flight.push((attempts, Box::pin(op(attempts))));
                    attempts += 1;
                    timer.as_mut().reset(Instant::now() + self.config.delay);
                }
                // Poll the new attempt and re-arm the timer's waker.
                continue;
            }
            if in_flight.is_empty() {
                return Poll::Ready(Err(()));
            }
            return Poll::Pending;
        })
        .await;
        // Dropping `in_flight` here cancels the attempts that lost.
        drop(in_flight);
        assert!(attempts <= max_attempts);
        match outcome {
            Ok((value, winner)) => {
                if let Some(budget) = &self.budget {
                    budget.deposit_success();
                }
                Hedged {
                    result: Ok(value),
                    attempts,
                    winner: Some(winner),
                }
            }
            Err(()) => Hedged {
                result: Err(last_error.expect("every attempt ended in an error")),
                attempts,
                winner: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::RetryBudgetConfig;
    use crate::testutil::{capture_events, run_paused};
    use proptest::prelude::*;
    use std::cell::Cell;

    fn hedge(delay_ms: u64, max_hedges: u32) -> Hedge {
        Hedge::new(
            "read",
            HedgeConfig {
                delay: Duration::from_millis(delay_ms),
                max_hedges,
            },
        )
        .unwrap()
    }

    /// An attempt that answers `value` after `ms`.
    async fn replica(ms: u64, value: Result<u32, &'static str>) -> Result<u32, &'static str> {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        value
    }

    #[tokio::test(start_paused = true)]
    async fn slow_primary_is_beaten_by_the_hedge() {
        let (_guard, events) = capture_events();
        let start = Instant::now();
        let out = hedge(10, 1)
            .run(|i| replica(if i == 0 { 500 } else { 20 }, Ok(i)))
            .await;
        assert_eq!(out.result, Ok(1));
        assert_eq!(out.winner, Some(1));
        assert_eq!(out.attempts, 2);
        assert_eq!(start.elapsed(), Duration::from_millis(30));
        let sent = events.named("hedge sent");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].field("after_ms"), Some("10"));
    }

    #[tokio::test(start_paused = true)]
    async fn fast_primary_sends_no_hedge() {
        let out = hedge(10, 3).run(|i| replica(5, Ok(i))).await;
        assert_eq!((out.result, out.attempts), (Ok(0), 1));
    }

    #[tokio::test(start_paused = true)]
    async fn losers_are_cancelled() {
        struct Live<'a>(&'a Cell<u32>);
        impl Drop for Live<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() - 1);
            }
        }
        let live = Cell::new(0u32);
        let out = hedge(10, 2)
            .run(|i| {
                live.set(live.get() + 1);
                let guard = Live(&live);
                async move {
                    let _guard = guard;
                    replica(if i == 2 { 1 } else { 1_000 }, Ok(i)).await
                }
            })
            .await;
        assert_eq!(out.winner, Some(2));
        assert_eq!(
            live.get(),
            0,
            "every attempt was dropped by the time run returned"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_triggers_the_next_attempt_at_once() {
        let start = Instant::now();
        let out = hedge(100, 2)
            .run(|i| replica(5, if i < 2 { Err("refused") } else { Ok(i) }))
            .await;
        assert_eq!(out.result, Ok(2));
        assert_eq!(start.elapsed(), Duration::from_millis(15));
        let all_fail = hedge(100, 2).run(|_| replica(5, Err("refused"))).await;
        assert_eq!((all_fail.result, all_fail.attempts), (Err("refused"), 3));
    }

    #[tokio::test(start_paused = true)]
    async fn budget_stops_hedging() {
        let budget = RetryBudget::new(
            "svc",
            RetryBudgetConfig {
                max_tokens: 1,
                token_ratio: 0.1,
                min_retries_per_sec: 0.0,
            },
        )
        .unwrap();
        let h = hedge(10, 4).with_budget(budget);
        let first = h.run(|i| replica(100, Ok(i))).await;
        assert_eq!(first.attempts, 2, "one token, one hedge");
        let second = h.run(|i| replica(100, Ok(i))).await;
        assert_eq!(second.attempts, 1);
    }

    #[test]
    fn invalid_config_is_rejected() {
        let err = Hedge::new(
            "h",
            HedgeConfig {
                max_hedges: 9,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field, "max_hedges");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Attempts never exceed 1 + max_hedges; the answer comes from an
        /// attempt that succeeded, and an error only if every started
        /// attempt failed.
        #[test]
        fn bounded_attempts_and_first_success_wins(
            delay_ms in 1u64..50,
            max_hedges in 0u32..5,
            replicas in prop::collection::vec((1u64..200, any::<bool>()), 5),
        ) {
            let started = Rc::new(Cell::new(0u32));
            let s = started.clone();
            let out = run_paused(async {
                hedge(delay_ms, max_hedges)
                    .run(|i| {
                        s.set(s.get() + 1);
                        let (ms, ok) = replicas[i as usize];
                        replica(ms, if ok { Ok(i) } else { Err("no") })
                    })
                    .await
            });
            prop_assert!(out.attempts <= 1 + max_hedges);
            prop_assert_eq!(out.attempts, started.get());
            let tried = &replicas[..out.attempts as usize];
            match out.result {
                Ok(i) => {
                    prop_assert!(tried[i as usize].1);
                    prop_assert_eq!(out.winner, Some(i));
                }
                Err(_) => prop_assert!(tried.iter().all(|(_, ok)| !ok)),
            }
        }
    }
}
