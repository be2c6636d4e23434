//! The breaker's state machine: closed → open → half-open → closed (or
//! open again), plus the operator's forced states.
//!
//! Every transition bumps a generation number and clears the window, so an
//! outcome reported by a call admitted under an earlier state is dropped
//! instead of being counted against the new one.

use std::cell::RefCell;
use std::time::Duration;

use tokio::time::Instant;

use super::counts::{Counts, Window};
use super::{BreakerConfig, BreakerState, Outcome};

#[derive(Debug)]
pub(super) enum Phase {
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
pub(super) struct State {
    pub(super) phase: Phase,
    /// Bumped on every transition; a permit from another generation reports
    /// into nothing.
    pub(super) generation: u64,
    pub(super) window: Window,
    /// Consecutive trips without an intervening close.
    pub(super) trips: u32,
    pub(super) rejected: u64,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) name: String,
    pub(super) config: BreakerConfig,
    pub(super) state: RefCell<State>,
}

impl Phase {
    pub(super) fn public(&self) -> BreakerState {
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
    pub(super) fn advance(&self, state: &mut State, now: Instant) {
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

    pub(super) fn transition(&self, to: Phase, now: Instant, reason: &'static str) {
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

    pub(super) fn record(&self, generation: u64, outcome: Outcome, started: Instant) {
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

    pub(super) fn release(&self, generation: u64) {
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
