//! A bulkhead: a cap on concurrent calls, with a bounded, time-limited wait.
//!
//! Model: at most `max_concurrent` calls run through a bulkhead at once.
//! A call arriving when all slots are taken waits in FIFO order — but only
//! if fewer than `max_queue` calls are already waiting, and only for up to
//! `max_wait`; otherwise it is rejected with [`BulkheadFull`] without
//! running. So one slow dependency can tie up at most `max_concurrent`
//! tasks plus `max_queue` waiters, never the whole client.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::config::{Check, ConfigError, MAX_DURATION};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkheadConfig {
    /// Default 25: resilience4j's `maxConcurrentCalls`. Bound: 1 ..= 100,000.
    pub max_concurrent: usize,
    /// Calls allowed to wait for a slot. Default 100: resilience4j's
    /// thread-pool bulkhead `queueCapacity`. Bound: 0 ..= 100,000.
    pub max_queue: usize,
    /// Longest wait for a slot; zero rejects at once when full. Default 1 s
    /// (chosen here: absorbs a burst, well under a client's patience;
    /// resilience4j's 0 would make the queue unused). Bound: 0 ..= 1 h.
    pub max_wait: Duration,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        BulkheadConfig {
            max_concurrent: 25,
            max_queue: 100,
            max_wait: Duration::from_secs(1),
        }
    }
}

impl BulkheadConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check {
            primitive: "bulkhead",
        };
        check.count("max_concurrent", self.max_concurrent, 1, 100_000)?;
        check.count("max_queue", self.max_queue, 0, 100_000)?;
        check.duration("max_wait", self.max_wait, Duration::ZERO, MAX_DURATION)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullReason {
    /// `max_queue` calls were already waiting (or `max_wait` is zero).
    QueueFull,
    /// No slot freed up within `max_wait`.
    WaitTimedOut,
}

impl FullReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FullReason::QueueFull => "queue_full",
            FullReason::WaitTimedOut => "wait_timed_out",
        }
    }
}

/// The bulkhead refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadFull {
    pub reason: FullReason,
}

impl fmt::Display for BulkheadFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bulkhead full ({})", self.reason.as_str())
    }
}

impl std::error::Error for BulkheadFull {}

#[derive(Debug)]
struct Inner {
    name: String,
    config: BulkheadConfig,
    slots: Semaphore,
    in_flight: Cell<usize>,
    queued: Cell<usize>,
    rejected: Cell<u64>,
}

/// A concurrency limit; clones share the same slots.
#[derive(Debug, Clone)]
pub struct Bulkhead {
    inner: Rc<Inner>,
}

impl Bulkhead {
    pub fn new(name: impl Into<String>, config: BulkheadConfig) -> Result<Self, ConfigError> {
        let name = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        Ok(Bulkhead {
            inner: Rc::new(Inner {
                slots: Semaphore::new(config.max_concurrent),
                name,
                config,
                in_flight: Cell::new(0),
                queued: Cell::new(0),
                rejected: Cell::new(0),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.get()
    }

    pub fn queued(&self) -> usize {
        self.inner.queued.get()
    }

    pub fn rejected(&self) -> u64 {
        self.inner.rejected.get()
    }

    /// Runs `future` in a slot, waiting for one within the limits.
    pub async fn run<F: Future>(&self, future: F) -> Result<F::Output, BulkheadFull> {
        let _slot = self.acquire().await?;
        Ok(future.await)
    }

    /// Waits for a slot within the limits; the slot is held until the
    /// returned guard is dropped.
    pub async fn acquire(&self) -> Result<BulkheadSlot<'_>, BulkheadFull> {
        let inner = &*self.inner;
        let permit = match inner.slots.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                let config = &inner.config;
                if inner.queued.get() >= config.max_queue || config.max_wait.is_zero() {
                    return Err(self.reject(FullReason::QueueFull));
                }
                let _waiting = Waiting::enter(&inner.queued);
                match tokio::time::timeout(config.max_wait, inner.slots.acquire()).await {
                    Ok(permit) => permit.expect("the semaphore is never closed"),
                    Err(_) => return Err(self.reject(FullReason::WaitTimedOut)),
                }
            }
        };
        let in_flight = inner.in_flight.get() + 1;
        assert!(
            in_flight <= inner.config.max_concurrent,
            "bulkhead admitted more than max_concurrent"
        );
        inner.in_flight.set(in_flight);
        Ok(BulkheadSlot {
            _permit: permit,
            in_flight: &inner.in_flight,
        })
    }

    fn reject(&self, reason: FullReason) -> BulkheadFull {
        let inner = &*self.inner;
        inner.rejected.set(inner.rejected.get() + 1);
        tracing::debug!(
            target: "primitive::bulkhead",
            name = %inner.name,
            reason = reason.as_str(),
            in_flight = inner.in_flight.get(),
            queued = inner.queued.get(),
            "bulkhead full"
        );
        BulkheadFull { reason }
    }
}

/// One occupied slot.
#[derive(Debug)]
#[must_use = "the slot is released when this is dropped"]
pub struct BulkheadSlot<'a> {
    _permit: SemaphorePermit<'a>,
    in_flight: &'a Cell<usize>,
}

impl Drop for BulkheadSlot<'_> {
    fn drop(&mut self) {
        self.in_flight.set(self.in_flight.get() - 1);
    }
}

/// Counts a waiter for as long as it waits, including when the waiting
/// future is cancelled.
struct Waiting<'a>(&'a Cell<usize>);

impl<'a> Waiting<'a> {
    fn enter(queued: &'a Cell<usize>) -> Self {
        queued.set(queued.get() + 1);
        Waiting(queued)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{capture_events, run_paused};
    use proptest::prelude::*;
    use tokio::time::Instant;

    fn bulkhead(max_concurrent: usize, max_queue: usize, max_wait_ms: u64) -> Bulkhead {
        Bulkhead::new(
            "pool",
            BulkheadConfig {
                max_concurrent,
                max_queue,
                max_wait: Duration::from_millis(max_wait_ms),
            },
        )
        .unwrap()
    }

    #[test]
    fn queued_calls_wait_then_run_and_overflow_is_rejected() {
        run_paused(async {
            let (_guard, events) = capture_events();
            let b = bulkhead(1, 1, 1_000);
            let start = Instant::now();
            let work = |ms| {
                let b = b.clone();
                tokio::task::spawn_local(async move {
                    // `sleep` fixes its deadline when created, so create it
                    // only once admitted.
                    b.run(async move { tokio::time::sleep(Duration::from_millis(ms)).await })
                        .await
                        .map(|_| start.elapsed().as_millis() as u64)
                })
            };
            let first = work(300);
            tokio::task::yield_now().await;
            let second = work(300);
            tokio::task::yield_now().await;
            let third = work(300);
            assert_eq!(first.await.unwrap(), Ok(300));
            assert_eq!(second.await.unwrap(), Ok(600), "waited 300 ms in the queue");
            assert_eq!(
                third.await.unwrap(),
                Err(BulkheadFull {
                    reason: FullReason::QueueFull
                })
            );
            assert_eq!(b.rejected(), 1);
            let full = events.named("bulkhead full");
            assert_eq!(full.len(), 1);
            assert_eq!(full[0].field("reason"), Some("queue_full"));
            assert_eq!(full[0].field("in_flight"), Some("1"));
        });
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_past_max_wait_is_rejected() {
        let b = bulkhead(1, 5, 100);
        let _held = b.acquire().await.unwrap();
        let start = Instant::now();
        let late = b.run(async {}).await;
        assert_eq!(
            late,
            Err(BulkheadFull {
                reason: FullReason::WaitTimedOut
            })
        );
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        assert_eq!(b.queued(), 0, "a timed-out waiter leaves the queue");
    }

    #[tokio::test(start_paused = true)]
    async fn zero_wait_fails_fast() {
        let b = bulkhead(1, 5, 0);
        let _held = b.acquire().await.unwrap();
        assert_eq!(
            b.run(async {}).await.unwrap_err().reason,
            FullReason::QueueFull
        );
    }

    #[test]
    fn invalid_config_is_rejected() {
        let err = Bulkhead::new(
            "pool",
            BulkheadConfig {
                max_concurrent: 0,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field, "max_concurrent");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// However calls arrive and however long they take, no more than
        /// `max_concurrent` ever run at once, and every call either runs or
        /// is rejected.
        #[test]
        fn concurrency_never_exceeds_the_limit(
            max_concurrent in 1usize..6,
            max_queue in 0usize..6,
            max_wait_ms in 0u64..300,
            calls in prop::collection::vec((0u64..50, 1u64..200), 1..80),
        ) {
            let total = calls.len() as u64;
            let (peak, ran, rejected) = run_paused(async move {
                let b = bulkhead(max_concurrent, max_queue, max_wait_ms);
                let running = Rc::new(Cell::new(0usize));
                let peak = Rc::new(Cell::new(0usize));
                let mut tasks = Vec::new();
                for (gap, duration) in calls {
                    tokio::time::sleep(Duration::from_millis(gap)).await;
                    let (b, running, peak) = (b.clone(), running.clone(), peak.clone());
                    tasks.push(tokio::task::spawn_local(async move {
                        b.run(async {
                            running.set(running.get() + 1);
                            peak.set(peak.get().max(running.get()));
                            tokio::time::sleep(Duration::from_millis(duration)).await;
                            running.set(running.get() - 1);
                        })
                        .await
                        .is_ok()
                    }));
                }
                let mut ran = 0u64;
                for task in tasks {
                    ran += u64::from(task.await.unwrap());
                }
                (peak.get(), ran, b.rejected())
            });
            prop_assert!(peak <= max_concurrent, "peak {} > {}", peak, max_concurrent);
            prop_assert_eq!(ran + rejected, total);
        }
    }
}
