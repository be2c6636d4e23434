//! Autoscaling a worker pool.
//!
//! Model: [`Autoscaler::evaluate`] is a pure decision — given the time and
//! the pool's recent utilisation and queue depth, it returns the pool size
//! to use. The size always stays in `[min_workers, max_workers]`, and two
//! resizes are never closer than `cooldown`, so the pool cannot flap faster
//! than the metrics can reflect the last change. It grows by
//! `scale_up_step` when utilisation reaches `scale_up_utilisation` or the
//! queue exceeds `scale_up_queue_per_worker` per worker, and shrinks by
//! `scale_down_step` when utilisation falls to `scale_down_utilisation`
//! with nothing queued; the gap between the two thresholds is hysteresis.
//!
//! [`ScaledPool`] is a small driver around it: a pool of worker slots whose
//! size the autoscaler sets, measuring utilisation as busy-slot time over
//! capacity time since the last evaluation.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};

#[derive(Debug, Clone, PartialEq)]
pub struct ScalerConfig {
    /// Default 1. Bound: 1 ..= `max_workers`.
    pub min_workers: usize,
    /// Default 10 (chosen here: room for a 10× surge in a small
    /// simulation). Bound: `min_workers` ..= 10,000.
    pub max_workers: usize,
    /// Size before the first resize. Default 1. Bound: within
    /// `[min_workers, max_workers]`.
    pub initial_workers: usize,
    /// Grow at or above this busy fraction. Default 0.8 (chosen here).
    /// Bound: (`scale_down_utilisation`, 1].
    pub scale_up_utilisation: f64,
    /// Shrink at or below this busy fraction. Default 0.3 (chosen here, for
    /// a wide hysteresis band). Bound: [0, `scale_up_utilisation`).
    pub scale_down_utilisation: f64,
    /// Grow when more than this many requests per worker are queued, busy
    /// fraction aside. Default 2 (chosen here; the AWS "backlog per
    /// instance" idea). Bound: (0, 1,000,000].
    pub scale_up_queue_per_worker: f64,
    /// Workers added per resize. Default 1. Bound: 1 ..= `max_workers`.
    pub scale_up_step: usize,
    /// Workers removed per resize. Default 1. Bound: 1 ..= `max_workers`.
    pub scale_down_step: usize,
    /// Least time between resizes. Default 300 s: the default cooldown of
    /// AWS EC2 Auto Scaling. Bound: 1 ms ..= 1 h.
    pub cooldown: Duration,
}

impl Default for ScalerConfig {
    fn default() -> Self {
        ScalerConfig {
            min_workers: 1,
            max_workers: 10,
            initial_workers: 1,
            scale_up_utilisation: 0.8,
            scale_down_utilisation: 0.3,
            scale_up_queue_per_worker: 2.0,
            scale_up_step: 1,
            scale_down_step: 1,
            cooldown: Duration::from_secs(300),
        }
    }
}

impl ScalerConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check {
            primitive: "autoscale",
        };
        check.count("max_workers", self.max_workers, 1, 10_000)?;
        check.count("min_workers", self.min_workers, 1, self.max_workers)?;
        check.count(
            "initial_workers",
            self.initial_workers,
            self.min_workers,
            self.max_workers,
        )?;
        check.float_above("scale_up_utilisation", self.scale_up_utilisation, 0.0, 1.0)?;
        check.float(
            "scale_down_utilisation",
            self.scale_down_utilisation,
            0.0,
            1.0,
        )?;
        check.relation(
            self.scale_down_utilisation < self.scale_up_utilisation,
            "scale_down_utilisation",
            self.scale_down_utilisation,
            format!(
                "less than scale_up_utilisation ({})",
                self.scale_up_utilisation
            ),
        )?;
        check.float_above(
            "scale_up_queue_per_worker",
            self.scale_up_queue_per_worker,
            0.0,
            1_000_000.0,
        )?;
        check.count("scale_up_step", self.scale_up_step, 1, self.max_workers)?;
        check.count("scale_down_step", self.scale_down_step, 1, self.max_workers)?;
        check.duration("cooldown", self.cooldown, MIN_DURATION, MAX_DURATION)
    }
}

/// What the pool looked like over the last evaluation period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolMetrics {
    /// Busy fraction of the workers, 0 ..= 1 (values outside are clamped).
    pub utilisation: f64,
    /// Requests waiting for a worker.
    pub queue_depth: usize,
}

/// The deterministic scaling decision.
#[derive(Debug, Clone)]
pub struct Autoscaler {
    name: String,
    config: ScalerConfig,
    size: usize,
    last_resize: Option<Instant>,
}

impl Autoscaler {
    pub fn new(name: impl Into<String>, config: ScalerConfig) -> Result<Self, ConfigError> {
        let name = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        Ok(Autoscaler {
            name,
            size: config.initial_workers,
            config,
            last_resize: None,
        })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn config(&self) -> &ScalerConfig {
        &self.config
    }

    /// The size the pool should have from `now` on, which this scaler then
    /// takes as the current size.
    pub fn evaluate(&mut self, now: Instant, metrics: PoolMetrics) -> usize {
        let config = &self.config;
        if let Some(last) = self.last_resize {
            if now.saturating_duration_since(last) < config.cooldown {
                return self.size;
            }
        }
        let utilisation = if metrics.utilisation.is_nan() {
            0.0
        } else {
            metrics.utilisation.clamp(0.0, 1.0)
        };
        let backlog = metrics.queue_depth as f64 / self.size as f64;
        let (desired, reason) = if (utilisation >= config.scale_up_utilisation
            || backlog > config.scale_up_queue_per_worker)
            && self.size < config.max_workers
        {
            let reason = if utilisation >= config.scale_up_utilisation {
                "utilisation_high"
            } else {
                "queue_deep"
            };
            (
                (self.size + config.scale_up_step).min(config.max_workers),
                reason,
            )
        } else if utilisation <= config.scale_down_utilisation
            && metrics.queue_depth == 0
            && self.size > config.min_workers
        {
            (
                self.size
                    .saturating_sub(config.scale_down_step)
                    .max(config.min_workers),
                "utilisation_low",
            )
        } else {
            return self.size;
        };
        assert!((config.min_workers..=config.max_workers).contains(&desired));
        debug_assert_ne!(desired, self.size);
        tracing::info!(
            target: "primitive::autoscale",
            name = %self.name,
            from = self.size,
            to = desired,
            reason,
            utilisation,
            queue_depth = metrics.queue_depth,
            "scaler resized"
        );
        self.size = desired;
        self.last_resize = Some(now);
        desired
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    pub scaler: ScalerConfig,
    /// Requests allowed to wait for a worker. Default 1024: Envoy's default
    /// `max_pending_requests`. Bound: 0 ..= 1,000,000.
    pub max_queue: usize,
    /// How often [`ScaledPool::drive`] evaluates. Default 15 s: the
    /// Kubernetes horizontal pod autoscaler's sync period. Bound:
    /// 1 ms ..= 1 h.
    pub evaluation_interval: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            scaler: ScalerConfig::default(),
            max_queue: 1024,
            evaluation_interval: Duration::from_secs(15),
        }
    }
}

impl PoolConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.scaler.validate()?;
        let check = Check {
            primitive: "autoscale",
        };
        check.count("max_queue", self.max_queue, 0, 1_000_000)?;
        check.duration(
            "evaluation_interval",
            self.evaluation_interval,
            MIN_DURATION,
            MAX_DURATION,
        )
    }
}

/// The pool's queue was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolFull;

impl fmt::Display for PoolFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("worker pool queue full")
    }
}

impl std::error::Error for PoolFull {}

#[derive(Debug)]
struct Usage {
    /// Busy-worker seconds and capacity seconds since the last evaluation.
    busy_seconds: f64,
    capacity_seconds: f64,
    since: Instant,
}

#[derive(Debug)]
struct PoolInner {
    name: String,
    config: PoolConfig,
    slots: Semaphore,
    scaler: RefCell<Autoscaler>,
    busy: Cell<usize>,
    queued: Cell<usize>,
    /// Slots still to be removed once running work hands them back.
    debt: Cell<usize>,
    usage: RefCell<Usage>,
}

impl PoolInner {
    /// Integrates busy and capacity over time up to now; call before any
    /// change to either.
    fn account(&self) {
        let now = Instant::now();
        let mut usage = self.usage.borrow_mut();
        let dt = now.saturating_duration_since(usage.since).as_secs_f64();
        usage.busy_seconds += self.busy.get() as f64 * dt;
        usage.capacity_seconds += self.scaler.borrow().size() as f64 * dt;
        usage.since = now;
    }
}

/// A worker pool sized by an [`Autoscaler`]. Shrinking never cancels
/// running work: the pool drains down to its new size as work finishes.
#[derive(Debug, Clone)]
pub struct ScaledPool {
    inner: Rc<PoolInner>,
}

impl ScaledPool {
    pub fn new(name: impl Into<String>, config: PoolConfig) -> Result<Self, ConfigError> {
        let name: String = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        let scaler = Autoscaler::new(name.clone(), config.scaler.clone())?;
        Ok(ScaledPool {
            inner: Rc::new(PoolInner {
                slots: Semaphore::new(scaler.size()),
                scaler: RefCell::new(scaler),
                name,
                config,
                busy: Cell::new(0),
                queued: Cell::new(0),
                debt: Cell::new(0),
                usage: RefCell::new(Usage {
                    busy_seconds: 0.0,
                    capacity_seconds: 0.0,
                    since: Instant::now(),
                }),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn size(&self) -> usize {
        self.inner.scaler.borrow().size()
    }

    pub fn busy(&self) -> usize {
        self.inner.busy.get()
    }

    pub fn queued(&self) -> usize {
        self.inner.queued.get()
    }

    /// Runs `future` on a worker, waiting in the queue if all are busy.
    pub async fn run<F: Future>(&self, future: F) -> Result<F::Output, PoolFull> {
        let inner = &*self.inner;
        let permit = match inner.slots.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                if inner.queued.get() >= inner.config.max_queue {
                    tracing::debug!(
                        target: "primitive::autoscale",
                        name = %inner.name,
                        size = self.size(),
                        queued = inner.queued.get(),
                        "pool queue full"
                    );
                    return Err(PoolFull);
                }
                inner.queued.set(inner.queued.get() + 1);
                let _leave = LeaveQueue(&inner.queued);
                inner
                    .slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed")
            }
        };
        inner.account();
        inner.busy.set(inner.busy.get() + 1);
        assert!(inner.busy.get() <= self.size() + inner.debt.get());
        let _worker = Worker {
            pool: inner,
            permit: Some(permit),
        };
        Ok(future.await)
    }

    /// Samples utilisation since the last evaluation and queue depth now,
    /// asks the autoscaler, and applies its answer. Returns the new size.
    pub fn evaluate(&self) -> usize {
        let inner = &*self.inner;
        inner.account();
        let utilisation = {
            let mut usage = inner.usage.borrow_mut();
            let utilisation = if usage.capacity_seconds > 0.0 {
                usage.busy_seconds / usage.capacity_seconds
            } else {
                inner.busy.get() as f64 / self.size() as f64
            };
            usage.busy_seconds = 0.0;
            usage.capacity_seconds = 0.0;
            utilisation
        };
        let metrics = PoolMetrics {
            utilisation,
            queue_depth: inner.queued.get(),
        };
        let before = self.size();
        let after = inner.scaler.borrow_mut().evaluate(Instant::now(), metrics);
        if after > before {
            let grow = after - before;
            let repaid = grow.min(inner.debt.get());
            inner.debt.set(inner.debt.get() - repaid);
            inner.slots.add_permits(grow - repaid);
        } else if after < before {
            let shrink = before - after;
            let removed = inner.slots.forget_permits(shrink);
            inner.debt.set(inner.debt.get() + (shrink - removed));
        }
        after
    }

    /// Evaluates every `evaluation_interval`, forever. Spawn it with
    /// `spawn_local` next to the pool's users (it holds no `Send` state).
    pub async fn drive(&self) {
        let mut ticks = tokio::time::interval(self.inner.config.evaluation_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // `interval` fires at once; the first evaluation should follow a
        // full period of measurements.
        ticks.tick().await;
        loop {
            ticks.tick().await;
            self.evaluate();
        }
    }
}

/// A busy worker: frees its slot, or retires it if the pool shrank.
struct Worker<'a> {
    pool: &'a PoolInner,
    permit: Option<SemaphorePermit<'a>>,
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        self.pool.account();
        self.pool.busy.set(self.pool.busy.get() - 1);
        let permit = self.permit.take().expect("held until drop");
        if self.pool.debt.get() > 0 {
            self.pool.debt.set(self.pool.debt.get() - 1);
            permit.forget();
        }
    }
}

struct LeaveQueue<'a>(&'a Cell<usize>);

impl Drop for LeaveQueue<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{capture_events, run_paused};
    use proptest::prelude::*;

    fn config(min: usize, max: usize, cooldown_s: u64) -> ScalerConfig {
        ScalerConfig {
            min_workers: min,
            max_workers: max,
            initial_workers: min,
            cooldown: Duration::from_secs(cooldown_s),
            ..Default::default()
        }
    }

    fn load(utilisation: f64, queue_depth: usize) -> PoolMetrics {
        PoolMetrics {
            utilisation,
            queue_depth,
        }
    }

    #[test]
    fn grows_under_load_shrinks_when_idle_and_respects_cooldown() {
        let (_guard, events) = capture_events();
        let mut scaler = Autoscaler::new("workers", config(1, 3, 60)).unwrap();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(scaler.evaluate(t0, load(0.9, 0)), 2);
        assert_eq!(scaler.evaluate(t0 + s(30), load(0.9, 0)), 2, "cooling down");
        assert_eq!(scaler.evaluate(t0 + s(60), load(0.5, 10)), 3, "queue deep");
        assert_eq!(scaler.evaluate(t0 + s(120), load(1.0, 50)), 3, "at max");
        assert_eq!(scaler.evaluate(t0 + s(180), load(0.5, 0)), 3, "in the band");
        assert_eq!(
            scaler.evaluate(t0 + s(240), load(0.1, 1)),
            3,
            "queue not empty"
        );
        assert_eq!(scaler.evaluate(t0 + s(300), load(0.1, 0)), 2);
        assert_eq!(scaler.evaluate(t0 + s(360), load(0.0, 0)), 1);
        assert_eq!(scaler.evaluate(t0 + s(420), load(0.0, 0)), 1, "at min");
        let resized = events.named("scaler resized");
        assert_eq!(resized.len(), 4);
        assert_eq!(resized[1].field("reason"), Some("queue_deep"));
        assert_eq!(resized[1].field("to"), Some("3"));
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let err = Autoscaler::new(
            "w",
            ScalerConfig {
                scale_down_utilisation: 0.9,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field, "scale_down_utilisation");
        let err = ScalerConfig {
            min_workers: 5,
            max_workers: 2,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field, "min_workers");
    }

    #[test]
    fn pool_grows_with_a_backlog_and_drains_down_when_idle() {
        run_paused(async {
            let pool = ScaledPool::new(
                "jobs",
                PoolConfig {
                    scaler: config(1, 4, 10),
                    max_queue: 100,
                    evaluation_interval: Duration::from_secs(10),
                },
            )
            .unwrap();
            let driver = {
                let pool = pool.clone();
                tokio::task::spawn_local(async move { pool.drive().await })
            };
            // 60 jobs of 2 s each arriving at once: one worker would take
            // two minutes.
            let peak = Rc::new(Cell::new(0usize));
            let mut jobs = Vec::new();
            for _ in 0..60 {
                let (pool, peak) = (pool.clone(), peak.clone());
                jobs.push(tokio::task::spawn_local(async move {
                    let busy = pool.clone();
                    pool.run(async move {
                        peak.set(peak.get().max(busy.busy()));
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    })
                    .await
                    .unwrap();
                }));
            }
            let start = Instant::now();
            for job in jobs {
                job.await.unwrap();
            }
            assert_eq!(pool.size(), 4);
            assert!(peak.get() <= 4);
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{:?}",
                start.elapsed()
            );
            tokio::time::sleep(Duration::from_secs(60)).await;
            assert_eq!(pool.size(), 1, "idle pool shrank back");
            driver.abort();
        });
    }

    #[test]
    fn shrinking_below_the_busy_count_retires_slots_as_work_ends() {
        run_paused(async {
            let pool = ScaledPool::new(
                "jobs",
                PoolConfig {
                    scaler: ScalerConfig {
                        initial_workers: 3,
                        scale_down_step: 2,
                        ..config(1, 3, 1)
                    },
                    max_queue: 10,
                    evaluation_interval: Duration::from_secs(1),
                },
            )
            .unwrap();
            let running = Rc::new(Cell::new(0usize));
            let peak_after_shrink = Rc::new(Cell::new(0usize));
            let spawn = |ms: u64| {
                let (pool, running, peak) =
                    (pool.clone(), running.clone(), peak_after_shrink.clone());
                tokio::task::spawn_local(async move {
                    pool.run(async {
                        running.set(running.get() + 1);
                        if pool.size() == 1 {
                            peak.set(peak.get().max(running.get()));
                        }
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        running.set(running.get() - 1);
                    })
                    .await
                    .unwrap();
                })
            };
            // Idle for a long stretch, then two long jobs: utilisation over
            // the period is tiny, so the next evaluation shrinks 3 -> 1
            // while two slots are busy.
            tokio::time::advance(Duration::from_secs(100)).await;
            let long = [spawn(5_000), spawn(5_000)];
            tokio::task::yield_now().await;
            assert_eq!(pool.busy(), 2);
            assert_eq!(pool.evaluate(), 1);
            assert_eq!(pool.inner.debt.get(), 1, "one slot was free, one is owed");
            let later = [spawn(10), spawn(10), spawn(10)];
            for job in long.into_iter().chain(later) {
                job.await.unwrap();
            }
            assert_eq!(pool.inner.debt.get(), 0);
            assert_eq!(peak_after_shrink.get(), 1, "new work ran one at a time");
            assert_eq!(pool.inner.slots.available_permits(), 1);
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The size stays in [min, max] and consecutive resizes are at
        /// least a cooldown apart, for any metrics at any times.
        #[test]
        fn size_bounded_and_resizes_spaced_by_cooldown(
            min in 1usize..5,
            extra in 0usize..10,
            up_step in 1usize..4,
            down_step in 1usize..4,
            cooldown_s in 1u64..120,
            samples in prop::collection::vec((0u64..90, 0.0f64..=1.0, 0usize..50), 1..150),
        ) {
            let max = min + extra;
            let config = ScalerConfig {
                min_workers: min,
                max_workers: max,
                initial_workers: min,
                scale_up_step: up_step.min(max),
                scale_down_step: down_step.min(max),
                cooldown: Duration::from_secs(cooldown_s),
                ..Default::default()
            };
            let mut scaler = Autoscaler::new("p", config).unwrap();
            let mut now = Instant::now();
            let mut size = scaler.size();
            let mut last_resize: Option<Instant> = None;
            for (gap_s, utilisation, queue_depth) in samples {
                now += Duration::from_secs(gap_s);
                let next = scaler.evaluate(now, load(utilisation, queue_depth));
                prop_assert!((min..=max).contains(&next));
                if next != size {
                    if let Some(last) = last_resize {
                        prop_assert!(now - last >= Duration::from_secs(cooldown_s));
                    }
                    last_resize = Some(now);
                    size = next;
                }
            }
        }
    }
}
