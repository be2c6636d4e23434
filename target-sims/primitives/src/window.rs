//! A time-based sliding window of counters, in a fixed number of buckets.
//!
//! The window covers at most `window` of history: it is split into
//! [`BUCKETS`] buckets of equal width, and a bucket is dropped as soon as any
//! part of it falls outside the window. So what it counts is always within
//! the last `window`, and at least the last `window - window / BUCKETS` is
//! counted. Memory is fixed whatever the call rate — the reason to bucket
//! rather than keep one timestamp per call.

use std::collections::VecDeque;
use std::ops::AddAssign;
use std::time::Duration;

use tokio::time::Instant;

/// Buckets per window: 10% granularity is fine for rates, and ten small
/// structs per window keep memory and the cost of a sum trivial.
pub(crate) const BUCKETS: u32 = 10;

#[derive(Debug, Clone)]
pub(crate) struct TimeWindow<C> {
    origin: Instant,
    bucket_width: Duration,
    /// `(bucket index since origin, counters)`, oldest first, at most
    /// `BUCKETS` entries, indices strictly increasing.
    buckets: VecDeque<(u64, C)>,
}

impl<C: Default + Copy + AddAssign> TimeWindow<C> {
    pub fn new(window: Duration, origin: Instant) -> Self {
        assert!(!window.is_zero(), "a time window must be non-empty");
        // Never zero, even for a window shorter than BUCKETS nanoseconds.
        let bucket_width = (window / BUCKETS).max(Duration::from_nanos(1));
        TimeWindow {
            origin,
            bucket_width,
            buckets: VecDeque::with_capacity(BUCKETS as usize),
        }
    }

    fn index(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin);
        (since.as_nanos() / self.bucket_width.as_nanos()) as u64
    }

    fn expire(&mut self, current: u64) {
        // Bucket `current` is partly in the future, so the window holds the
        // current bucket and the BUCKETS - 1 before it.
        let oldest_kept = current.saturating_sub(u64::from(BUCKETS) - 1);
        while self.buckets.front().is_some_and(|(i, _)| *i < oldest_kept) {
            self.buckets.pop_front();
        }
    }

    /// Adds `delta` to the bucket containing `now`. Times must not go
    /// backwards (tokio's clock never does).
    pub fn add(&mut self, now: Instant, delta: C) {
        let current = self.index(now);
        self.expire(current);
        match self.buckets.back_mut() {
            Some((i, counters)) if *i == current => *counters += delta,
            Some((i, _)) => {
                debug_assert!(*i < current, "time went backwards in a window");
                self.buckets.push_back((current, delta));
            }
            None => self.buckets.push_back((current, delta)),
        }
        debug_assert!(self.buckets.len() <= BUCKETS as usize);
    }

    /// The sum of all counters still inside the window at `now`.
    pub fn total(&mut self, now: Instant) -> C {
        self.expire(self.index(now));
        let mut sum = C::default();
        for (_, counters) in &self.buckets {
            sum += *counters;
        }
        sum
    }

    pub fn clear(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_counts_older_than_the_window() {
        let t0 = Instant::now();
        let mut w = TimeWindow::<u64>::new(Duration::from_secs(10), t0);
        w.add(t0, 5);
        w.add(t0 + Duration::from_secs(5), 3);
        assert_eq!(w.total(t0 + Duration::from_secs(9)), 8);
        // The first bucket [0 s, 1 s) leaves once bucket 10 starts.
        assert_eq!(w.total(t0 + Duration::from_secs(10)), 3);
        assert_eq!(w.total(t0 + Duration::from_secs(15)), 0);
    }

    #[test]
    fn never_holds_more_than_the_bucket_count() {
        let t0 = Instant::now();
        let mut w = TimeWindow::<u64>::new(Duration::from_millis(100), t0);
        for ms in 0..1000 {
            w.add(t0 + Duration::from_millis(ms), 1);
        }
        assert!(w.buckets.len() <= BUCKETS as usize);
        // Between 90 and 100 ms of history, at one call per ms.
        let total = w.total(t0 + Duration::from_millis(999));
        assert!((90..=100).contains(&total), "{total}");
    }
}
