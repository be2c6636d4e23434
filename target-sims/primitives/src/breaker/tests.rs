//! The breaker against examples and, with proptest, against a model.

use super::*;
use crate::testutil::{capture_events, run_paused};
use proptest::prelude::*;
use std::collections::VecDeque;

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
    let breaker = CircuitBreaker::new("db", small(SlidingWindow::Count { calls: 4 }, 4)).unwrap();
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
    let breaker = CircuitBreaker::new("db", small(SlidingWindow::Count { calls: 2 }, 2)).unwrap();
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
    let breaker = CircuitBreaker::new("db", small(SlidingWindow::Count { calls: 2 }, 2)).unwrap();
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
    let breaker = CircuitBreaker::new("db", small(SlidingWindow::Count { calls: 2 }, 2)).unwrap();
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
