//! A circuit breaker.
//!
//! Model: while **closed**, the breaker admits every call and records its
//! outcome in a sliding window (the last `n` calls, or the calls of the last
//! `window` of time). As soon as the window holds at least `minimum_calls`
//! and the failure rate or the slow-call rate reaches its threshold, it
//! **opens**: every call is rejected at once, without touching the
//! protected service, for `open_duration` (growing by `open_multiplier` on
//! each consecutive trip, up to `max_open_duration`). Then it is
//! **half-open**: it admits at most `half_open_calls` trial calls; when all
//! have finished it closes if their rates are under the thresholds and opens
//! again otherwise. It can also be forced open or closed by an operator.
//!
//! Details:
//! - The open → half-open move happens lazily, at the first call or state
//!   query after `open_duration` — no timer task runs.
//! - Outcomes belong to the state they were admitted in: a call admitted
//!   while closed that finishes after the breaker opened is not counted.
//! - A trial call dropped before reporting (cancelled) gives its slot back
//!   without an outcome. So a timeout must sit *inside* the breaker call, to
//!   count as the failure it is.
//! - A trial call that never finishes holds its slot forever: bound calls
//!   with a [`Timeout`](super::Timeout).

mod config;
mod counts;
mod state;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::ConfigError;
pub use config::{BreakerConfig, SlidingWindow};
use counts::Window;
use state::{Inner, Phase, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
    /// Rejecting everything until an operator resets it.
    ForcedOpen,
    /// Admitting everything and recording nothing until reset.
    ForcedClosed,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
            BreakerState::ForcedOpen => "forced_open",
            BreakerState::ForcedClosed => "forced_closed",
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A call the breaker refused to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    pub state: BreakerState,
    /// When it will admit trial calls again, if that is known.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "circuit breaker {}: call rejected", self.state)
    }
}

impl std::error::Error for Rejected {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakerError<E> {
    Rejected(Rejected),
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for BreakerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakerError::Rejected(r) => r.fmt(f),
            BreakerError::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for BreakerError<E> {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

/// A circuit breaker; clones share one state.
///
/// ```
/// use std::time::Duration;
/// use chaos_primitives::{BreakerConfig, BreakerError, BreakerState, CircuitBreaker, SlidingWindow};
///
/// # let runtime = tokio::runtime::Builder::new_current_thread()
/// #     .enable_time().start_paused(true).build().unwrap();
/// # runtime.block_on(async {
/// let breaker = CircuitBreaker::new("db", BreakerConfig {
///     window: SlidingWindow::Count { calls: 4 },
///     minimum_calls: 4,
///     open_duration: Duration::from_secs(5),
///     half_open_calls: 1,
///     ..BreakerConfig::default()
/// })?;
/// for _ in 0..4 {
///     let _ = breaker.call(async { Err::<(), _>("refused") }).await;
/// }
/// // Four failures in a window of four: open, and the next call is
/// // refused without running.
/// assert_eq!(breaker.state(), BreakerState::Open);
/// let refused = breaker.call(async { Ok::<_, &str>(()) }).await;
/// assert!(matches!(refused, Err(BreakerError::Rejected(_))));
///
/// // On tokio's clock (here paused; in a simulation, turmoil's) it turns
/// // half-open after `open_duration`, and one good trial closes it.
/// tokio::time::advance(Duration::from_secs(5)).await;
/// assert_eq!(breaker.state(), BreakerState::HalfOpen);
/// breaker.call(async { Ok::<_, &str>(()) }).await?;
/// assert_eq!(breaker.state(), BreakerState::Closed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    inner: Rc<Inner>,
}

/// A point-in-time view, for metrics and reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerMetrics {
    pub state: BreakerState,
    /// Calls counted in the closed-state window.
    pub calls_in_window: u64,
    pub failure_rate: f64,
    pub slow_call_rate: f64,
    pub consecutive_trips: u32,
    pub rejected_calls: u64,
}

impl CircuitBreaker {
    pub fn new(name: impl Into<String>, config: BreakerConfig) -> Result<Self, ConfigError> {
        let name = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        let state = State {
            phase: Phase::Closed,
            generation: 0,
            window: Window::new(config.window, Instant::now()),
            trips: 0,
            rejected: 0,
        };
        Ok(CircuitBreaker {
            inner: Rc::new(Inner {
                name,
                config,
                state: RefCell::new(state),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn config(&self) -> &BreakerConfig {
        &self.inner.config
    }

    /// The current state (moving open → half-open if its time has come).
    pub fn state(&self) -> BreakerState {
        let mut state = self.inner.state.borrow_mut();
        self.inner.advance(&mut state, Instant::now());
        state.phase.public()
    }

    pub fn metrics(&self) -> BreakerMetrics {
        let now = Instant::now();
        let mut state = self.inner.state.borrow_mut();
        self.inner.advance(&mut state, now);
        let totals = state.window.totals(now);
        BreakerMetrics {
            state: state.phase.public(),
            calls_in_window: totals.calls,
            failure_rate: totals.failure_rate(),
            slow_call_rate: totals.slow_rate(),
            consecutive_trips: state.trips,
            rejected_calls: state.rejected,
        }
    }

    /// Asks to make one call. The permit must be told the outcome; dropping
    /// it unreported gives a trial slot back and records nothing.
    pub fn try_acquire(&self) -> Result<Permit, Rejected> {
        let now = Instant::now();
        let config = &self.inner.config;
        let mut state = self.inner.state.borrow_mut();
        self.inner.advance(&mut state, now);
        let generation = state.generation;
        let rejection = match &mut state.phase {
            Phase::Closed | Phase::ForcedClosed => None,
            Phase::HalfOpen { admitted, .. } if *admitted < config.half_open_calls => {
                *admitted += 1;
                None
            }
            Phase::HalfOpen { .. } => Some(Rejected {
                state: BreakerState::HalfOpen,
                retry_after: None,
            }),
            Phase::Open { until } => Some(Rejected {
                state: BreakerState::Open,
                retry_after: Some(until.saturating_duration_since(now)),
            }),
            Phase::ForcedOpen => Some(Rejected {
                state: BreakerState::ForcedOpen,
                retry_after: None,
            }),
        };
        if let Some(rejected) = rejection {
            state.rejected += 1;
            tracing::debug!(
                target: "primitive::breaker",
                name = %self.inner.name,
                state = rejected.state.as_str(),
                "call rejected"
            );
            return Err(rejected);
        }
        let trial = matches!(state.phase, Phase::HalfOpen { .. });
        Ok(Permit {
            breaker: self.inner.clone(),
            generation,
            started: now,
            trial,
            reported: false,
        })
    }

    /// Runs `future` if the breaker admits it; an `Err` counts as a failure.
    pub async fn call<T, E, F>(&self, future: F) -> Result<T, BreakerError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.call_classified(future, Result::is_err).await
    }

    /// Runs `future` if admitted; `is_failure` decides what counts against
    /// the service (a "not found", say, is usually not its fault).
    pub async fn call_classified<T, E, F>(
        &self,
        future: F,
        is_failure: impl FnOnce(&Result<T, E>) -> bool,
    ) -> Result<T, BreakerError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        let permit = self.try_acquire().map_err(BreakerError::Rejected)?;
        let result = future.await;
        permit.record(if is_failure(&result) {
            Outcome::Failure
        } else {
            Outcome::Success
        });
        result.map_err(BreakerError::Inner)
    }

    /// Rejects every call until [`reset`](Self::reset).
    pub fn force_open(&self) {
        self.inner
            .transition(Phase::ForcedOpen, Instant::now(), "forced");
    }

    /// Admits every call, recording nothing, until [`reset`](Self::reset).
    pub fn force_closed(&self) {
        self.inner
            .transition(Phase::ForcedClosed, Instant::now(), "forced");
    }

    /// Back to closed with an empty window and no trip history.
    pub fn reset(&self) {
        self.inner
            .transition(Phase::Closed, Instant::now(), "reset");
        self.inner.state.borrow_mut().trips = 0;
    }
}

/// Permission for one call. Report its outcome with [`success`],
/// [`failure`] or [`record`]; dropping it unreported records nothing.
///
/// [`success`]: Permit::success
/// [`failure`]: Permit::failure
/// [`record`]: Permit::record
#[derive(Debug)]
#[must_use = "report the outcome, or the call is not counted"]
pub struct Permit {
    breaker: Rc<Inner>,
    generation: u64,
    started: Instant,
    trial: bool,
    reported: bool,
}

impl Permit {
    /// Whether this is one of the bounded half-open trial calls.
    pub fn is_trial(&self) -> bool {
        self.trial
    }

    pub fn record(mut self, outcome: Outcome) {
        self.reported = true;
        self.breaker.record(self.generation, outcome, self.started);
    }

    pub fn success(self) {
        self.record(Outcome::Success);
    }

    pub fn failure(self) {
        self.record(Outcome::Failure);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.reported {
            self.breaker.release(self.generation);
        }
    }
}
