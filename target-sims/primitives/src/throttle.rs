//! Client-side adaptive throttling, as in Google's SRE book ("Handling
//! Overload").
//!
//! Model: the client counts, over a sliding `window`, the requests its
//! application attempted (`requests`, including those it rejected itself)
//! and the requests the backend accepted (`accepts`). Each new request is
//! rejected locally, without being sent, with probability
//! `max(0, (requests − k · accepts) / (requests + 1))`. While the backend
//! accepts at least `1/k` of what is sent the probability is zero; when it
//! rejects everything, the client sends only a trickle, so a struggling
//! backend sheds load it never has to see. The draw uses a seeded RNG.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::ops::AddAssign;
use std::rc::Rc;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use super::config::{Check, ConfigError, MAX_DURATION};
use super::window::TimeWindow;

#[derive(Debug, Clone, PartialEq)]
pub struct ThrottleConfig {
    /// How many requests may be sent per accepted one before throttling.
    /// Default 2: the SRE book's value. Bound: 1 ..= 10 (below 1 the client
    /// would throttle a healthy backend).
    pub k: f64,
    /// History the counts cover. Default 2 min: the SRE book's. Bound:
    /// 1 s ..= 1 h.
    pub window: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            k: 2.0,
            window: Duration::from_secs(120),
        }
    }
}

impl ThrottleConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check {
            primitive: "throttle",
        };
        check.float("k", self.k, 1.0, 10.0)?;
        check.duration("window", self.window, Duration::from_secs(1), MAX_DURATION)
    }
}

/// The SRE book's client request rejection probability.
pub fn rejection_probability(requests: u64, accepts: u64, k: f64) -> f64 {
    let excess = requests as f64 - k * accepts as f64;
    (excess / (requests as f64 + 1.0)).max(0.0)
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    requests: u64,
    accepts: u64,
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.requests += other.requests;
        self.accepts += other.accepts;
    }
}

/// The request was rejected locally, without being sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttled {
    pub probability: f64,
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "throttled locally (rejection probability {:.3})",
            self.probability
        )
    }
}

impl std::error::Error for Throttled {}

#[derive(Debug, Clone, PartialEq)]
pub enum ThrottleError<E> {
    Throttled(Throttled),
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for ThrottleError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThrottleError::Throttled(t) => t.fmt(f),
            ThrottleError::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ThrottleError<E> {}

#[derive(Debug)]
struct State {
    counts: TimeWindow<Counts>,
    rng: ChaCha8Rng,
    throttling: bool,
}

#[derive(Debug)]
struct Inner {
    name: String,
    config: ThrottleConfig,
    state: RefCell<State>,
}

/// An adaptive throttle; clones share history and RNG.
#[derive(Debug, Clone)]
pub struct AdaptiveThrottle {
    inner: Rc<Inner>,
}

impl AdaptiveThrottle {
    pub fn new(
        name: impl Into<String>,
        config: ThrottleConfig,
        rng: ChaCha8Rng,
    ) -> Result<Self, ConfigError> {
        let name = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        Ok(AdaptiveThrottle {
            inner: Rc::new(Inner {
                state: RefCell::new(State {
                    counts: TimeWindow::new(config.window, Instant::now()),
                    rng,
                    throttling: false,
                }),
                name,
                config,
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The probability the next request would be rejected.
    pub fn probability(&self) -> f64 {
        let mut state = self.inner.state.borrow_mut();
        let counts = state.counts.total(Instant::now());
        rejection_probability(counts.requests, counts.accepts, self.inner.config.k)
    }

    /// Counts one request and decides whether to send it. Report the
    /// backend's answer on the ticket; an unreported ticket counts as not
    /// accepted.
    pub fn try_admit(&self) -> Result<ThrottleTicket, Throttled> {
        let inner = &*self.inner;
        let now = Instant::now();
        let mut state = inner.state.borrow_mut();
        let counts = state.counts.total(now);
        let probability = rejection_probability(counts.requests, counts.accepts, inner.config.k);
        debug_assert!((0.0..1.0).contains(&probability));
        state.counts.add(
            now,
            Counts {
                requests: 1,
                accepts: 0,
            },
        );
        let throttling = probability > 0.0;
        if throttling != state.throttling {
            state.throttling = throttling;
            tracing::info!(
                target: "primitive::throttle",
                name = %inner.name,
                requests = counts.requests,
                accepts = counts.accepts,
                probability,
                "{}",
                if throttling { "throttling started" } else { "throttling stopped" }
            );
        }
        // Draw only while throttling, so a healthy client's RNG stream (and
        // with it every later draw) does not depend on its request count.
        if throttling && state.rng.random::<f64>() < probability {
            tracing::debug!(
                target: "primitive::throttle",
                name = %inner.name,
                probability,
                "request throttled"
            );
            return Err(Throttled { probability });
        }
        Ok(ThrottleTicket {
            throttle: self.inner.clone(),
        })
    }

    /// Sends `future` unless throttled; an `Ok` counts as accepted.
    pub async fn call<T, E, F>(&self, future: F) -> Result<T, ThrottleError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.call_classified(future, Result::is_ok).await
    }

    /// Sends `future` unless throttled; `is_accepted` says whether the
    /// backend took the request (an application error is usually still an
    /// accept: only overload rejections should count against it).
    pub async fn call_classified<T, E, F>(
        &self,
        future: F,
        is_accepted: impl FnOnce(&Result<T, E>) -> bool,
    ) -> Result<T, ThrottleError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        let ticket = self.try_admit().map_err(ThrottleError::Throttled)?;
        let result = future.await;
        if is_accepted(&result) {
            ticket.accepted();
        }
        result.map_err(ThrottleError::Inner)
    }
}

/// A request that was sent; call [`accepted`](Self::accepted) if the
/// backend took it.
#[derive(Debug)]
#[must_use = "report whether the backend accepted the request"]
pub struct ThrottleTicket {
    throttle: Rc<Inner>,
}

impl ThrottleTicket {
    pub fn accepted(self) {
        let mut state = self.throttle.state.borrow_mut();
        state.counts.add(
            Instant::now(),
            Counts {
                requests: 0,
                accepts: 1,
            },
        );
    }

    /// Explicitly not accepted (same as dropping the ticket).
    pub fn rejected(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::capture_events;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn throttle(seed: u64) -> AdaptiveThrottle {
        AdaptiveThrottle::new(
            "backend",
            ThrottleConfig {
                k: 2.0,
                window: Duration::from_secs(10),
            },
            ChaCha8Rng::seed_from_u64(seed),
        )
        .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn healthy_backend_is_never_throttled() {
        let throttle = throttle(1);
        for _ in 0..1000 {
            assert_eq!(throttle.call(async { Ok::<_, ()>(()) }).await, Ok(()));
            tokio::time::advance(Duration::from_millis(7)).await;
        }
        assert_eq!(throttle.probability(), 0.0);
    }

    #[tokio::test(start_paused = true)]
    async fn outage_cuts_sent_requests_to_a_trickle_then_recovers() {
        let (_guard, events) = capture_events();
        let throttle = throttle(7);
        let sent = Rc::new(std::cell::Cell::new(0u32));
        // 1,000 requests within one window to a backend rejecting all.
        for _ in 0..1000 {
            let sent = sent.clone();
            let _ = throttle
                .call(async move {
                    sent.set(sent.get() + 1);
                    Err::<(), _>("overloaded")
                })
                .await;
            tokio::time::advance(Duration::from_millis(5)).await;
        }
        // With no accepts, request n is sent with probability 1/(n+1): about
        // ln(1000) ≈ 7.5 of them in expectation.
        assert!(sent.get() <= 25, "sent {} of 1000", sent.get());
        assert!(throttle.probability() > 0.99);
        assert_eq!(events.named("throttling started").len(), 1);

        // Once the window forgets the outage, requests flow again.
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(throttle.probability(), 0.0);
        assert!(throttle.call(async { Ok::<_, ()>(()) }).await.is_ok());
        assert_eq!(events.named("throttling stopped").len(), 1);
    }

    #[test]
    fn invalid_config_is_rejected() {
        let err = AdaptiveThrottle::new(
            "b",
            ThrottleConfig {
                k: 0.5,
                ..Default::default()
            },
            ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap_err();
        assert_eq!(err.field, "k");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The probability is in [0, 1), and zero exactly while the backend
        /// accepts at least 1/k of the requests.
        #[test]
        fn probability_is_bounded_and_zero_when_healthy(
            requests in 0u64..100_000,
            accept_fraction in 0.0f64..=1.0,
            k in 1.0f64..10.0,
        ) {
            let accepts = (requests as f64 * accept_fraction) as u64;
            let p = rejection_probability(requests, accepts, k);
            prop_assert!((0.0..1.0).contains(&p));
            prop_assert_eq!(p == 0.0, requests as f64 <= k * accepts as f64);
        }
    }
}
