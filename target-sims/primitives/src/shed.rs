//! Server-side load shedding.
//!
//! Model: a server runs at most `max_in_flight` requests at once and lets
//! at most `max_queue_depth` more wait for a slot, FIFO. A request arriving
//! beyond that is shed at once — it gets [`Shed`] immediately instead of
//! waiting to time out — so an overloaded server keeps answering quickly,
//! some requests with "no". Optionally ([`QueueDelay`], after CoDel, RFC
//! 8289) it also sheds on *queueing delay*: once requests have waited
//! longer than `target` continuously for `interval`, arrivals that would
//! have to queue are shed until a request gets through in under `target`.
//! That bounds the standing queue by time, which suits servers whose
//! request cost varies too much for a depth limit to mean anything.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::config::{Check, ConfigError, MAX_DURATION};

/// CoDel-style shedding on queueing delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueDelay {
    /// Acceptable standing queueing delay. Default 5 ms: RFC 8289's
    /// `TARGET`. Bound: 1 µs ..= 60 s.
    pub target: Duration,
    /// How long the delay must stay above `target` before shedding starts.
    /// Default 100 ms: RFC 8289's `INTERVAL`. Bound: `target` ..= 1 h.
    pub interval: Duration,
}

impl Default for QueueDelay {
    fn default() -> Self {
        QueueDelay {
            target: Duration::from_millis(5),
            interval: Duration::from_millis(100),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShedConfig {
    /// Requests running at once. Default 1024: Envoy's default
    /// `max_requests` per cluster. Bound: 1 ..= 1,000,000.
    pub max_in_flight: usize,
    /// Requests waiting for a slot; 0 sheds as soon as all slots are busy.
    /// Default 1024: Envoy's default `max_pending_requests`. Bound:
    /// 0 ..= 1,000,000.
    pub max_queue_depth: usize,
    /// Shed on queueing delay too. Default off.
    pub queue_delay: Option<QueueDelay>,
}

impl Default for ShedConfig {
    fn default() -> Self {
        ShedConfig {
            max_in_flight: 1024,
            max_queue_depth: 1024,
            queue_delay: None,
        }
    }
}

impl ShedConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check { primitive: "shed" };
        check.count("max_in_flight", self.max_in_flight, 1, 1_000_000)?;
        check.count("max_queue_depth", self.max_queue_depth, 0, 1_000_000)?;
        if let Some(delay) = self.queue_delay {
            check.duration(
                "queue_delay.target",
                delay.target,
                Duration::from_micros(1),
                Duration::from_secs(60),
            )?;
            check.duration(
                "queue_delay.interval",
                delay.interval,
                delay.target,
                MAX_DURATION,
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShedReason {
    /// All slots busy and `max_queue_depth` requests already waiting.
    QueueFull,
    /// Queueing delay has stayed above target; only requests that can run
    /// at once are admitted.
    QueueDelay,
}

impl ShedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ShedReason::QueueFull => "queue_full",
            ShedReason::QueueDelay => "queue_delay",
        }
    }
}

/// The server refused the request without doing any work for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shed {
    pub reason: ShedReason,
}

impl fmt::Display for Shed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request shed ({})", self.reason.as_str())
    }
}

impl std::error::Error for Shed {}

#[derive(Debug, Default)]
struct Codel {
    /// When the delay, if it stays above target, will have done so for a
    /// whole interval.
    above_target_until: Option<Instant>,
    shedding: bool,
}

#[derive(Debug)]
struct Inner {
    name: String,
    config: ShedConfig,
    slots: Semaphore,
    in_flight: Cell<usize>,
    queued: Cell<usize>,
    shed: Cell<u64>,
    codel: RefCell<Codel>,
}

/// A load shedder for one server; clones share it.
#[derive(Debug, Clone)]
pub struct LoadShedder {
    inner: Rc<Inner>,
}

impl LoadShedder {
    pub fn new(name: impl Into<String>, config: ShedConfig) -> Result<Self, ConfigError> {
        let name = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        Ok(LoadShedder {
            inner: Rc::new(Inner {
                slots: Semaphore::new(config.max_in_flight),
                name,
                config,
                in_flight: Cell::new(0),
                queued: Cell::new(0),
                shed: Cell::new(0),
                codel: RefCell::new(Codel::default()),
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

    /// Requests shed since creation.
    pub fn shed_count(&self) -> u64 {
        self.inner.shed.get()
    }

    /// Whether queueing delay is currently causing shedding.
    pub fn is_shedding_on_delay(&self) -> bool {
        self.inner.codel.borrow().shedding
    }

    /// Runs `future` if admitted; sheds at once otherwise.
    pub async fn run<F: Future>(&self, future: F) -> Result<F::Output, Shed> {
        let _slot = self.admit().await?;
        Ok(future.await)
    }

    /// Admits a request: at once if a slot is free, after queueing if the
    /// queue has room, else sheds it without waiting.
    pub async fn admit(&self) -> Result<ShedSlot<'_>, Shed> {
        let inner = &*self.inner;
        let arrived = Instant::now();
        let permit = match inner.slots.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                if inner.queued.get() >= inner.config.max_queue_depth {
                    return Err(self.shed(ShedReason::QueueFull));
                }
                if inner.codel.borrow().shedding && inner.queued.get() > 0 {
                    return Err(self.shed(ShedReason::QueueDelay));
                }
                inner.queued.set(inner.queued.get() + 1);
                let _dequeue = Dequeue(&inner.queued);
                inner
                    .slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed")
            }
        };
        self.observe_sojourn(Instant::now() - arrived);
        let in_flight = inner.in_flight.get() + 1;
        assert!(in_flight <= inner.config.max_in_flight);
        assert!(inner.queued.get() <= inner.config.max_queue_depth);
        inner.in_flight.set(in_flight);
        Ok(ShedSlot {
            _permit: permit,
            in_flight: &inner.in_flight,
        })
    }

    fn shed(&self, reason: ShedReason) -> Shed {
        let inner = &*self.inner;
        inner.shed.set(inner.shed.get() + 1);
        tracing::debug!(
            target: "primitive::shed",
            name = %inner.name,
            reason = reason.as_str(),
            in_flight = inner.in_flight.get(),
            queued = inner.queued.get(),
            "request shed"
        );
        Shed { reason }
    }

    /// CoDel's control law, reduced to a switch: shedding starts once every
    /// request for a whole interval waited above target, and stops at the
    /// first one that did not.
    fn observe_sojourn(&self, sojourn: Duration) {
        let Some(delay) = self.inner.config.queue_delay else {
            return;
        };
        let now = Instant::now();
        let mut codel = self.inner.codel.borrow_mut();
        let was_shedding = codel.shedding;
        if sojourn < delay.target {
            codel.above_target_until = None;
            codel.shedding = false;
        } else {
            match codel.above_target_until {
                None => codel.above_target_until = Some(now + delay.interval),
                Some(until) if now >= until => codel.shedding = true,
                Some(_) => {}
            }
        }
        if codel.shedding != was_shedding {
            tracing::info!(
                target: "primitive::shed",
                name = %self.inner.name,
                sojourn_ms = sojourn.as_millis() as u64,
                queued = self.inner.queued.get(),
                "{}",
                if codel.shedding { "shedding started" } else { "shedding stopped" }
            );
        }
    }
}

/// One admitted request's slot.
#[derive(Debug)]
#[must_use = "the slot is released when this is dropped"]
pub struct ShedSlot<'a> {
    _permit: SemaphorePermit<'a>,
    in_flight: &'a Cell<usize>,
}

impl Drop for ShedSlot<'_> {
    fn drop(&mut self) {
        self.in_flight.set(self.in_flight.get() - 1);
    }
}

/// Leaves the queue however the wait ends, including cancellation.
struct Dequeue<'a>(&'a Cell<usize>);

impl Drop for Dequeue<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{capture_events, run_paused};
    use proptest::prelude::*;

    fn shedder(max_in_flight: usize, max_queue_depth: usize, codel: bool) -> LoadShedder {
        LoadShedder::new(
            "server",
            ShedConfig {
                max_in_flight,
                max_queue_depth,
                queue_delay: codel.then(QueueDelay::default),
            },
        )
        .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn sheds_immediately_when_slots_and_queue_are_full() {
        let (_guard, events) = capture_events();
        let s = shedder(1, 0, false);
        let _busy = s.admit().await.unwrap();
        let start = Instant::now();
        assert_eq!(
            s.run(async {}).await,
            Err(Shed {
                reason: ShedReason::QueueFull
            })
        );
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(events.named("request shed").len(), 1);
        assert_eq!(s.shed_count(), 1);
    }

    #[test]
    fn sheds_on_standing_queue_delay_and_recovers() {
        run_paused(async {
            let (_guard, events) = capture_events();
            let s = shedder(1, 100, true);
            // One slot, 20 ms per request, a request every 10 ms: the queue
            // and its delay grow without bound unless something sheds.
            let mut tasks = Vec::new();
            for _ in 0..100 {
                let s = s.clone();
                tasks.push(tokio::task::spawn_local(async move {
                    s.run(async { tokio::time::sleep(Duration::from_millis(20)).await })
                        .await
                        .is_ok()
                }));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let mut served = 0;
            for task in tasks {
                served += u32::from(task.await.unwrap());
            }
            assert!(!events.named("shedding started").is_empty());
            assert!(s.shed_count() > 0);
            assert!(served >= 45, "the server stayed busy: {served}");
            let queue_delay_sheds = events
                .named("request shed")
                .iter()
                .filter(|e| e.field("reason") == Some("queue_delay"))
                .count();
            assert!(queue_delay_sheds > 0);
            // Idle again: the next request runs at once and ends the episode.
            assert!(s.run(async {}).await.is_ok());
            assert!(!s.is_shedding_on_delay());
        });
    }

    #[test]
    fn invalid_config_is_rejected() {
        let err = ShedConfig {
            queue_delay: Some(QueueDelay {
                target: Duration::from_millis(100),
                interval: Duration::from_millis(10),
            }),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field, "queue_delay.interval");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// In-flight and queued requests never exceed their limits, and
        /// every request is either served or shed.
        #[test]
        fn limits_hold_under_any_arrival_pattern(
            max_in_flight in 1usize..5,
            max_queue_depth in 0usize..5,
            codel in any::<bool>(),
            calls in prop::collection::vec((0u64..30, 1u64..100), 1..80),
        ) {
            let total = calls.len() as u64;
            let (served, shed, peak) = run_paused(async move {
                let s = shedder(max_in_flight, max_queue_depth, codel);
                let peak = Rc::new(Cell::new(0usize));
                let mut tasks = Vec::new();
                for (gap, work) in calls {
                    tokio::time::sleep(Duration::from_millis(gap)).await;
                    let (s, peak) = (s.clone(), peak.clone());
                    tasks.push(tokio::task::spawn_local(async move {
                        let s2 = s.clone();
                        s.run(async move {
                            peak.set(peak.get().max(s2.in_flight()));
                            tokio::time::sleep(Duration::from_millis(work)).await;
                        })
                        .await
                        .is_ok()
                    }));
                }
                let mut served = 0u64;
                for task in tasks {
                    served += u64::from(task.await.unwrap());
                }
                (served, s.shed_count(), peak.get())
            });
            prop_assert!(peak <= max_in_flight);
            prop_assert_eq!(served + shed, total);
        }
    }
}
