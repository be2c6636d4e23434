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

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::ops::AddAssign;
use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;

use super::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};
use super::window::TimeWindow;

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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    calls: u64,
    failures: u64,
    slow: u64,
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.calls += other.calls;
        self.failures += other.failures;
        self.slow += other.slow;
    }
}

impl Counts {
    fn one(outcome: Outcome, slow: bool) -> Counts {
        Counts {
            calls: 1,
            failures: u64::from(outcome == Outcome::Failure),
            slow: u64::from(slow),
        }
    }

    fn failure_rate(&self) -> f64 {
        ratio(self.failures, self.calls)
    }

    fn slow_rate(&self) -> f64 {
        ratio(self.slow, self.calls)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[derive(Debug)]
enum Window {
    Count {
        samples: VecDeque<Counts>,
        capacity: usize,
        totals: Counts,
    },
    Time(TimeWindow<Counts>),
}

impl Window {
    fn new(kind: SlidingWindow, now: Instant) -> Window {
        match kind {
            SlidingWindow::Count { calls } => Window::Count {
                samples: VecDeque::with_capacity(calls as usize),
                capacity: calls as usize,
                totals: Counts::default(),
            },
            SlidingWindow::Time { window } => Window::Time(TimeWindow::new(window, now)),
        }
    }

    fn add(&mut self, now: Instant, sample: Counts) {
        match self {
            Window::Count {
                samples,
                capacity,
                totals,
            } => {
                if samples.len() == *capacity {
                    let evicted = samples.pop_front().expect("a full window is non-empty");
                    totals.calls -= evicted.calls;
                    totals.failures -= evicted.failures;
                    totals.slow -= evicted.slow;
                }
                samples.push_back(sample);
                *totals += sample;
                debug_assert_eq!(totals.calls, samples.len() as u64);
            }
            Window::Time(window) => window.add(now, sample),
        }
    }

    fn totals(&mut self, now: Instant) -> Counts {
        match self {
            Window::Count { totals, .. } => *totals,
            Window::Time(window) => window.total(now),
        }
    }

    fn clear(&mut self) {
        match self {
            Window::Count {
                samples, totals, ..
            } => {
                samples.clear();
                *totals = Counts::default();
            }
            Window::Time(window) => window.clear(),
        }
    }
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        /// Trial calls admitted and not given back: in flight plus done.
        admitted: u32,
        done: Counts,
    },
    ForcedOpen,
    ForcedClosed,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Bumped on every transition; a permit from another generation reports
    /// into nothing.
    generation: u64,
    window: Window,
    /// Consecutive trips without an intervening close.
    trips: u32,
    rejected: u64,
}

#[derive(Debug)]
struct Inner {
    name: String,
    config: BreakerConfig,
    state: RefCell<State>,
}

/// A circuit breaker; clones share one state.
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

impl Phase {
    fn public(&self) -> BreakerState {
        match self {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
            Phase::ForcedOpen => BreakerState::ForcedOpen,
            Phase::ForcedClosed => BreakerState::ForcedClosed,
        }
    }
}

impl Inner {
    fn advance(&self, state: &mut State, now: Instant) {
        if let Phase::Open { until } = state.phase {
            if now >= until {
                self.transition_locked(
                    state,
                    Phase::HalfOpen {
                        admitted: 0,
                        done: Counts::default(),
                    },
                    now,
                    "open_duration_elapsed",
                );
            }
        }
    }

    fn transition(&self, to: Phase, now: Instant, reason: &'static str) {
        let mut state = self.state.borrow_mut();
        self.transition_locked(&mut state, to, now, reason);
    }

    fn transition_locked(&self, state: &mut State, to: Phase, now: Instant, reason: &'static str) {
        let from = state.phase.public();
        let totals = match &state.phase {
            Phase::HalfOpen { done, .. } => *done,
            _ => state.window.totals(now),
        };
        let open_ms = match to {
            Phase::Open { until } => until.saturating_duration_since(now).as_millis() as u64,
            _ => 0,
        };
        state.phase = to;
        state.generation += 1;
        state.window.clear();
        tracing::info!(
            target: "primitive::breaker",
            name = %self.name,
            from = from.as_str(),
            state = state.phase.public().as_str(),
            reason,
            calls = totals.calls,
            failure_rate = totals.failure_rate(),
            slow_call_rate = totals.slow_rate(),
            open_ms,
            "breaker state changed"
        );
    }

    fn trip(&self, state: &mut State, now: Instant, reason: &'static str) {
        let config = &self.config;
        state.trips = state.trips.saturating_add(1);
        let exponent = i32::try_from(state.trips - 1).unwrap_or(i32::MAX);
        let grown = config.open_duration.as_secs_f64() * config.open_multiplier.powi(exponent);
        let open_for = if grown.is_finite() && grown < config.max_open_duration.as_secs_f64() {
            Duration::from_secs_f64(grown).max(config.open_duration)
        } else {
            config.max_open_duration
        };
        debug_assert!(open_for >= config.open_duration && open_for <= config.max_open_duration);
        self.transition_locked(
            state,
            Phase::Open {
                until: now + open_for,
            },
            now,
            reason,
        );
    }

    fn exceeds(&self, counts: &Counts) -> Option<&'static str> {
        if counts.failure_rate() >= self.config.failure_rate_threshold {
            Some("failure_rate")
        } else if counts.slow_rate() >= self.config.slow_call_rate_threshold {
            Some("slow_call_rate")
        } else {
            None
        }
    }

    fn record(&self, generation: u64, outcome: Outcome, started: Instant) {
        let now = Instant::now();
        let slow = now.saturating_duration_since(started) > self.config.slow_call_duration;
        let sample = Counts::one(outcome, slow);
        let mut guard = self.state.borrow_mut();
        let state = &mut *guard;
        if generation != state.generation {
            return;
        }
        match &mut state.phase {
            Phase::Closed => {
                state.window.add(now, sample);
                let totals = state.window.totals(now);
                if totals.calls >= u64::from(self.config.minimum_calls) {
                    if let Some(reason) = self.exceeds(&totals) {
                        self.trip(state, now, reason);
                    }
                }
            }
            Phase::HalfOpen { admitted, done } => {
                *done += sample;
                assert!(done.calls <= u64::from(*admitted));
                assert!(*admitted <= self.config.half_open_calls);
                if done.calls == u64::from(self.config.half_open_calls) {
                    let done = *done;
                    match self.exceeds(&done) {
                        Some(reason) => self.trip(state, now, reason),
                        None => {
                            state.trips = 0;
                            self.transition_locked(state, Phase::Closed, now, "trial_calls_passed");
                        }
                    }
                }
            }
            Phase::ForcedClosed => {}
            Phase::Open { .. } | Phase::ForcedOpen => {
                unreachable!("no permit is issued in a rejecting state")
            }
        }
    }

    fn release(&self, generation: u64) {
        let mut state = self.state.borrow_mut();
        if generation != state.generation {
            return;
        }
        if let Phase::HalfOpen { admitted, done } = &mut state.phase {
            assert!(*admitted > 0 && u64::from(*admitted) > done.calls);
            *admitted -= 1;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::testutil::{capture_events, run_paused};
    use proptest::prelude::*;

    fn small(window: SlidingWindow, minimum_calls: u32) -> BreakerConfig {
        BreakerConfig {
            window,
            minimum_calls,
            failure_rate_threshold: 0.5,
            slow_call_rate_threshold: 1.0,
            slow_call_duration: Duration::from_secs(1),
            open_duration: Duration::from_secs(10),
            open_multiplier: 1.0,
            max_open_duration: Duration::from_secs(60),
            half_open_calls: 2,
        }
    }

    fn outcome(breaker: &CircuitBreaker, outcome: Outcome) -> Result<(), Rejected> {
        breaker.try_acquire().map(|permit| permit.record(outcome))
    }

    #[tokio::test(start_paused = true)]
    async fn trips_on_failure_rate_then_recovers_through_half_open() {
        let (_guard, events) = capture_events();
        let breaker =
            CircuitBreaker::new("db", small(SlidingWindow::Count { calls: 4 }, 4)).unwrap();
        for o in [Outcome::Success, Outcome::Failure, Outcome::Success] {
            outcome(&breaker, o).unwrap();
        }
        assert_eq!(breaker.state(), BreakerState::Closed, "below minimum_calls");
        outcome(&breaker, Outcome::Failure).unwrap();
        assert_eq!(breaker.state(), BreakerState::Open, "2 of 4 failed");
        let rejected = breaker.try_acquire().unwrap_err();
        assert_eq!(rejected.retry_after, Some(Duration::from_secs(10)));

        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        let a = breaker.try_acquire().unwrap();
        let b = breaker.try_acquire().unwrap();
        assert!(a.is_trial() && b.is_trial());
        assert!(breaker.try_acquire().is_err(), "only two trial calls");
        a.success();
        b.success();
        assert_eq!(breaker.state(), BreakerState::Closed);

        let changes: Vec<_> = events
            .named("breaker state changed")
            .iter()
            .map(|e| e.field("state").unwrap().to_owned())
            .collect();
        assert_eq!(changes, ["open", "half_open", "closed"]);
        assert_eq!(
            events.named("breaker state changed")[0].field("reason"),
            Some("failure_rate")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn failed_trial_reopens_for_longer_up_to_the_cap() {
        let config = BreakerConfig {
            open_multiplier: 2.0,
            max_open_duration: Duration::from_secs(30),
            half_open_calls: 1,
            ..small(SlidingWindow::Count { calls: 1 }, 1)
        };
        let breaker = CircuitBreaker::new("db", config).unwrap();
        outcome(&breaker, Outcome::Failure).unwrap();
        let mut open_for = Vec::new();
        for _ in 0..4 {
            let rejected = breaker.try_acquire().unwrap_err();
            let wait = rejected.retry_after.unwrap();
            open_for.push(wait.as_secs());
            tokio::time::advance(wait).await;
            outcome(&breaker, Outcome::Failure).unwrap();
        }
        assert_eq!(open_for, [10, 20, 30, 30]);
        breaker.reset();
        assert_eq!(breaker.metrics().consecutive_trips, 0);
        outcome(&breaker, Outcome::Failure).unwrap();
        assert_eq!(
            breaker.try_acquire().unwrap_err().retry_after,
            Some(Duration::from_secs(10))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slow_calls_trip_it() {
        let config = BreakerConfig {
            slow_call_rate_threshold: 0.5,
            ..small(SlidingWindow::Count { calls: 2 }, 2)
        };
        let breaker = CircuitBreaker::new("db", config).unwrap();
        for _ in 0..2 {
            let slow = breaker.call(async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                Ok::<_, ()>(())
            });
            assert_eq!(slow.await, Ok(()));
        }
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn outcomes_from_an_earlier_state_are_ignored() {
        let breaker =
            CircuitBreaker::new("db", small(SlidingWindow::Count { calls: 2 }, 2)).unwrap();
        let late = breaker.try_acquire().unwrap();
        outcome(&breaker, Outcome::Failure).unwrap();
        outcome(&breaker, Outcome::Failure).unwrap();
        assert_eq!(breaker.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        late.failure();
        assert_eq!(breaker.metrics().state, BreakerState::HalfOpen);
    }

    #[tokio::test(start_paused = true)]
    async fn forced_states_override_and_reset_clears() {
        let breaker =
            CircuitBreaker::new("db", small(SlidingWindow::Count { calls: 2 }, 2)).unwrap();
        breaker.force_open();
        assert_eq!(
            breaker.call(async { Ok::<_, ()>(()) }).await,
            Err(BreakerError::Rejected(Rejected {
                state: BreakerState::ForcedOpen,
                retry_after: None
            }))
        );
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(breaker.state(), BreakerState::ForcedOpen);
        breaker.force_closed();
        for _ in 0..10 {
            assert_eq!(
                breaker.call(async { Err::<(), _>("boom") }).await,
                Err(BreakerError::Inner("boom"))
            );
        }
        assert_eq!(breaker.state(), BreakerState::ForcedClosed);
        breaker.reset();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(breaker.metrics().calls_in_window, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn classifier_decides_what_counts() {
        let breaker =
            CircuitBreaker::new("db", small(SlidingWindow::Count { calls: 2 }, 2)).unwrap();
        for _ in 0..4 {
            let not_found = breaker.call_classified(
                async { Err::<(), _>(404) },
                |r| matches!(r, Err(code) if *code >= 500),
            );
            assert_eq!(not_found.await, Err(BreakerError::Inner(404)));
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let err = CircuitBreaker::new(
            "db",
            BreakerConfig {
                minimum_calls: 200,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field, "minimum_calls");
        let err = BreakerConfig {
            max_open_duration: Duration::from_secs(1),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field, "max_open_duration");
        let err = BreakerConfig {
            failure_rate_threshold: 1.5,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field, "failure_rate_threshold");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Acquire,
        Succeed(usize),
        Fail(usize),
        Drop(usize),
        Advance(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Acquire),
            2 => any::<usize>().prop_map(Op::Succeed),
            2 => any::<usize>().prop_map(Op::Fail),
            1 => any::<usize>().prop_map(Op::Drop),
            1 => (0u64..15_000).prop_map(Op::Advance),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// In any one half-open episode, trial calls in flight plus trial
        /// calls finished never exceed `half_open_calls`.
        #[test]
        fn half_open_admits_at_most_the_permitted_trials(
            half_open_calls in 1u32..5,
            ops in prop::collection::vec(op(), 1..200),
        ) {
            run_paused(async {
                let config = BreakerConfig {
                    half_open_calls,
                    ..small(SlidingWindow::Count { calls: 3 }, 2)
                };
                let breaker = CircuitBreaker::new("p", config).unwrap();
                // (permit, half-open episode it was admitted in)
                let mut outstanding: Vec<(Permit, Option<u32>)> = Vec::new();
                let mut episode = 0u32;
                let mut in_half_open = false;
                let mut trials_this_episode = 0u32;
                for op in ops {
                    match op {
                        Op::Acquire => {
                            if let Ok(permit) = breaker.try_acquire() {
                                prop_assert_eq!(permit.is_trial(), in_half_open);
                                let tag = in_half_open.then_some(episode);
                                if in_half_open {
                                    trials_this_episode += 1;
                                }
                                outstanding.push((permit, tag));
                            }
                        }
                        Op::Succeed(i) | Op::Fail(i) if !outstanding.is_empty() => {
                            let (permit, _) = outstanding.swap_remove(i % outstanding.len());
                            permit.record(if matches!(op, Op::Succeed(_)) { Outcome::Success } else { Outcome::Failure });
                        }
                        Op::Drop(i) if !outstanding.is_empty() => {
                            let (permit, tag) = outstanding.swap_remove(i % outstanding.len());
                            if in_half_open && tag == Some(episode) {
                                trials_this_episode -= 1;
                            }
                            drop(permit);
                        }
                        Op::Advance(ms) => tokio::time::advance(Duration::from_millis(ms)).await,
                        _ => {}
                    }
                    let now_half_open = breaker.state() == BreakerState::HalfOpen;
                    if now_half_open && !in_half_open {
                        episode += 1;
                        trials_this_episode = 0;
                    }
                    in_half_open = now_half_open;
                    prop_assert!(trials_this_episode <= half_open_calls);
                }
                Ok(())
            })?;
        }

        /// A count-window breaker opens on exactly the call at which the last
        /// `n` calls first reach `minimum_calls` and the failure threshold.
        #[test]
        fn count_window_opens_when_the_rate_crosses(
            calls in 1u32..20,
            minimum_fraction in 0.0f64..1.0,
            threshold in 0.05f64..1.0,
            outcomes in prop::collection::vec(any::<bool>(), 1..100),
        ) {
            let minimum_calls = 1 + ((calls - 1) as f64 * minimum_fraction) as u32;
            let config = BreakerConfig {
                window: SlidingWindow::Count { calls },
                minimum_calls,
                failure_rate_threshold: threshold,
                ..small(SlidingWindow::Count { calls }, 1)
            };
            run_paused(async {
                let breaker = CircuitBreaker::new("p", config).unwrap();
                let mut model: VecDeque<bool> = VecDeque::new();
                for failed in outcomes {
                    prop_assert_eq!(breaker.state(), BreakerState::Closed);
                    outcome(&breaker, if failed { Outcome::Failure } else { Outcome::Success }).unwrap();
                    if model.len() == calls as usize {
                        model.pop_front();
                    }
                    model.push_back(failed);
                    let failures = model.iter().filter(|f| **f).count() as f64;
                    let should_open = model.len() >= minimum_calls as usize
                        && failures / model.len() as f64 >= threshold;
                    let expected = if should_open { BreakerState::Open } else { BreakerState::Closed };
                    prop_assert_eq!(breaker.state(), expected);
                    if should_open {
                        break;
                    }
                }
                Ok(())
            })?;
        }

        /// A time-window breaker is open at the latest one window after every
        /// call starts failing, given enough calls to reach `minimum_calls`.
        #[test]
        fn time_window_opens_within_one_window_of_a_total_outage(
            minimum_calls in 1u32..20,
            before in prop::collection::vec((any::<bool>(), 1u64..200), 0..50),
            seed_gaps in prop::collection::vec(0.0f64..1.0, 1..50),
        ) {
            let window = Duration::from_secs(1);
            // Calls at most this far apart put `minimum_calls` into the
            // 0.9 s a ten-bucket window always covers.
            let max_gap_ms = 900 / (u64::from(minimum_calls) + 1);
            let config = BreakerConfig {
                window: SlidingWindow::Time { window },
                minimum_calls,
                open_duration: Duration::from_secs(3600),
                max_open_duration: Duration::from_secs(3600),
                ..small(SlidingWindow::Time { window }, 1)
            };
            run_paused(async {
                let breaker = CircuitBreaker::new("p", config).unwrap();
                for (failed, gap) in before {
                    let _ = outcome(&breaker, if failed { Outcome::Failure } else { Outcome::Success });
                    tokio::time::advance(Duration::from_millis(gap)).await;
                }
                let outage_start = Instant::now();
                for fraction in seed_gaps.iter().cycle() {
                    let _ = outcome(&breaker, Outcome::Failure);
                    if Instant::now() >= outage_start + window {
                        prop_assert_eq!(breaker.state(), BreakerState::Open);
                        break;
                    }
                    let gap = 1 + (fraction * (max_gap_ms - 1) as f64) as u64;
                    tokio::time::advance(Duration::from_millis(gap)).await;
                }
                Ok(())
            })?;
        }
    }
}
