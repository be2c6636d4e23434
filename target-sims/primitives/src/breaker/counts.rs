//! How a breaker counts: outcome tallies, and the sliding window (the last
//! `n` calls, or the calls of the last stretch of time) they are summed over.
//!
//! Both windows keep running totals, so asking for the rates is O(1) for a
//! count window and O(buckets) for a time window, however many calls passed.

use std::collections::VecDeque;
use std::ops::AddAssign;

use tokio::time::Instant;

use super::{Outcome, SlidingWindow};
use crate::window::TimeWindow;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) calls: u64,
    pub(super) failures: u64,
    pub(super) slow: u64,
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.calls += other.calls;
        self.failures += other.failures;
        self.slow += other.slow;
    }
}

impl Counts {
    pub(super) fn one(outcome: Outcome, slow: bool) -> Counts {
        Counts {
            calls: 1,
            failures: u64::from(outcome == Outcome::Failure),
            slow: u64::from(slow),
        }
    }

    pub(super) fn failure_rate(&self) -> f64 {
        ratio(self.failures, self.calls)
    }

    pub(super) fn slow_rate(&self) -> f64 {
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
pub(super) enum Window {
    Count {
        samples: VecDeque<Counts>,
        capacity: usize,
        totals: Counts,
    },
    Time(TimeWindow<Counts>),
}

impl Window {
    pub(super) fn new(kind: SlidingWindow, now: Instant) -> Window {
        match kind {
            SlidingWindow::Count { calls } => Window::Count {
                samples: VecDeque::with_capacity(calls as usize),
                capacity: calls as usize,
                totals: Counts::default(),
            },
            SlidingWindow::Time { window } => Window::Time(TimeWindow::new(window, now)),
        }
    }

    pub(super) fn add(&mut self, now: Instant, sample: Counts) {
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

    pub(super) fn totals(&mut self, now: Instant) -> Counts {
        match self {
            Window::Count { totals, .. } => *totals,
            Window::Time(window) => window.total(now),
        }
    }

    pub(super) fn clear(&mut self) {
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
