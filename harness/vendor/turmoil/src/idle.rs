//! Leaving idle hosts alone.
//!
//! A step drives every host with running software through one tick. A host
//! whose tick would run nothing — no task of its local set ready, no message
//! waiting for it, no timer expiring before the tick ends, no task outside
//! the local set — need not be driven at all. [`Idle`] records the ticks a
//! host was left alone for; before its next real tick the host's clock is
//! moved on by what those ticks would have moved it, its timer driver is
//! shown the new time before any task can register a timer, and its runtime
//! draws the random seeds those ticks would have drawn. Nothing the host
//! would have done is lost or reordered: a simulation is the same with or
//! without skipping, only cheaper.
//!
//! Readiness is learnt from the waker the tick hands the local set: tokio
//! wakes it whenever one of the set's tasks is scheduled from outside the set
//! (a timer, a delivered message, another host, a spawn), and when a tick
//! leaves ready tasks behind. The next timer comes from the runtime's timer
//! driver.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use tokio::runtime::Runtime;
use tokio::task::LocalSet;
use tokio::time::{sleep, Duration, Instant};

use crate::rt::clock_step;

/// What a host owes for the ticks it was left alone for.
pub(crate) struct Idle {
    ready: Arc<ReadyFlag>,

    /// Ticks skipped since the host last ran.
    skipped: u32,

    /// How far those ticks would have moved the host's clock.
    behind: Duration,

    /// The clock was moved on and the next tick must show the timer driver
    /// the new time first.
    caught_up: bool,
}

/// The waker the local set wakes when it has work: it notes that, and
/// passes the wake on to the runtime's own waker, as the local set would.
struct ReadyFlag {
    ready: AtomicBool,
    runtime: Mutex<Option<Waker>>,
}

impl Wake for ReadyFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.store(true, Ordering::Relaxed);
        if let Some(waker) = self.runtime.lock().unwrap().as_ref() {
            waker.wake_by_ref();
        }
    }
}

impl Idle {
    /// A host whose software was just spawned: it has work.
    pub(crate) fn new() -> Idle {
        Idle {
            ready: Arc::new(ReadyFlag {
                ready: AtomicBool::new(true),
                runtime: Mutex::new(None),
            }),
            skipped: 0,
            behind: Duration::ZERO,
            caught_up: false,
        }
    }

    /// The host has work the waker did not see (its software was spawned
    /// from within the local set).
    pub(crate) fn mark_ready(&self) {
        self.ready.ready.store(true, Ordering::Relaxed);
    }

    /// A new runtime replaced the host's: it owes nothing.
    pub(crate) fn reset(&mut self) {
        self.skipped = 0;
        self.behind = Duration::ZERO;
        self.caught_up = false;
    }

    /// Whether a tick of `duration` of `tokio`, whose clock read `now` at
    /// the end of its last tick, would run nothing.
    pub(crate) fn is_idle(&self, tokio: &Runtime, now: Instant, duration: Duration) -> bool {
        if self.ready.ready.load(Ordering::Relaxed) {
            return false;
        }
        // A timer expiring exactly at the tick's end fires with the tick's
        // own sleep, and its task runs first in the next tick: that tick is
        // not idle either.
        let end = now + self.behind + clock_step(duration);
        let handle = tokio.handle();
        handle
            .next_timer_deadline()
            .is_none_or(|deadline| deadline > end)
            && handle.metrics().num_alive_tasks() == 0
    }

    /// Leaves the host alone for a tick of `duration` that
    /// [`Idle::is_idle`] found idle.
    pub(crate) fn skip(&mut self, duration: Duration) {
        self.skipped += 1;
        self.behind += clock_step(duration);
    }

    /// Settles what the skipped ticks owe on `tokio` and returns how far its
    /// clock moved.
    pub(crate) fn catch_up(&mut self, tokio: &Runtime) -> Duration {
        if self.skipped == 0 {
            return Duration::ZERO;
        }
        // Every `block_on` reseeds the thread's tokio RNG (`select!`'s
        // branch order) from the runtime's seed generator: draw the seeds
        // the skipped ticks would have drawn.
        tokio.handle().skip_block_on_seeds(self.skipped);
        let _guard = tokio.enter();
        // `advance` moves the paused clock when first polled; its yield
        // afterwards needs no scheduler. No timer expires in the skipped
        // span (that is what made it idle), so none is passed over.
        let mut advance = pin!(tokio::time::advance(self.behind));
        let _ = advance
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        let moved = self.behind;
        self.reset();
        self.caught_up = true;
        moved
    }

    /// Runs one tick of `duration` of `local`: its tasks, until the clock
    /// reaches the tick's end. Must be awaited inside the runtime's
    /// `block_on`.
    pub(crate) async fn tick(&mut self, local: &mut LocalSet, duration: Duration) {
        if std::mem::take(&mut self.caught_up) {
            // Let the timer driver process the new time before a task can
            // register a timer, as it did in each of the skipped ticks:
            // where the wheel files a new timer depends on it.
            tokio::task::yield_now().await;
        }
        let ready = &self.ready;
        let waker = Waker::from(ready.clone());
        let mut end = pin!(sleep(duration));
        poll_fn(|cx| {
            // The same order as `LocalSet::run_until(sleep(duration))`: the
            // sleep first, then the tasks.
            if end.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            {
                let mut runtime = ready.runtime.lock().unwrap();
                if !runtime.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *runtime = Some(cx.waker().clone());
                }
            }
            ready.ready.store(false, Ordering::Relaxed);
            // Polling the set registers `waker` as the one to wake when a
            // task is scheduled from outside; it wakes it itself if tasks
            // remain after its budget.
            let _ = Pin::new(&mut *local).poll(&mut Context::from_waker(&waker));
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use rand::{Rng, SeedableRng};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::time::{sleep, Duration};

    use crate::net::{TcpListener, TcpStream};
    use crate::{Builder, Result};

    type Log = Rc<RefCell<Vec<String>>>;

    fn note(log: &Log, host: &str, what: String) {
        let at = crate::sim_elapsed().unwrap_or_default();
        log.borrow_mut().push(format!("{at:?} {host} {what}"));
    }

    /// A server that answers after a random pause and keeps an odd-period
    /// ticker making unbiased `select!` choices, and two clients sending at
    /// random odd intervals; the server crashes and restarts midway. Returns
    /// everything each host saw, with its simulated time, and the number of
    /// host ticks skipped.
    fn run(skip: bool, tick: Duration, seed: u64) -> (Vec<String>, u64) {
        let log: Log = Rc::default();
        let mut builder = Builder::new();
        builder
            .tick_duration(tick)
            .rng_seed(seed)
            .simulation_duration(Duration::from_secs(30))
            .min_message_latency(Duration::from_millis(1))
            .max_message_latency(Duration::from_millis(7));
        if !skip {
            builder.disable_idle_skipping();
        }
        let mut sim = builder.build();

        let server_log = log.clone();
        sim.host("server", move || {
            let log = server_log.clone();
            async move {
                let ticker_log = log.clone();
                tokio::task::spawn_local(async move {
                    let mut ticks = tokio::time::interval(Duration::from_micros(7_300));
                    for _ in 0..40 {
                        ticks.tick().await;
                        // No `biased;`: the branch comes from tokio's
                        // thread-local RNG, reseeded at every `block_on`.
                        let branch = tokio::select! {
                            _ = std::future::ready(()) => "a",
                            _ = std::future::ready(()) => "b",
                        };
                        note(&ticker_log, "server", format!("select {branch}"));
                    }
                });
                let listener = TcpListener::bind(("0.0.0.0", 9000)).await?;
                loop {
                    let (stream, _) = listener.accept().await?;
                    let log = log.clone();
                    tokio::task::spawn_local(async move {
                        let (read, mut write) = stream.into_split();
                        let mut lines = BufReader::new(read).lines();
                        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
                        while let Ok(Some(line)) = lines.next_line().await {
                            note(&log, "server", format!("got {line}"));
                            sleep(Duration::from_micros(rng.random_range(0..4_000))).await;
                            if write.write_all(format!("{line}!\n").as_bytes()).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            }
        });

        for client in 0..2u64 {
            let log = log.clone();
            let name = format!("client-{client}");
            sim.client(name.clone(), async move {
                let mut rng = rand::rngs::SmallRng::seed_from_u64(client);
                for round in 0..12 {
                    sleep(Duration::from_micros(rng.random_range(500..40_000))).await;
                    let Ok(stream) = TcpStream::connect(("server", 9000)).await else {
                        note(&log, &name, format!("round {round}: refused"));
                        continue;
                    };
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    if write.write_all(format!("{name}/{round}\n").as_bytes()).await.is_err() {
                        note(&log, &name, format!("round {round}: write failed"));
                        continue;
                    }
                    let reply = tokio::time::timeout(Duration::from_millis(50), lines.next_line()).await;
                    note(&log, &name, format!("round {round}: {reply:?}"));
                }
                Ok(())
            });
        }

        let mut steps = 0u64;
        loop {
            steps += 1;
            if steps == 150 {
                sim.crash("server");
            }
            if steps == 190 {
                sim.bounce("server");
            }
            if sim.step().expect("simulation runs") {
                break;
            }
        }
        let logged = log.borrow().clone();
        (logged, sim.idle_ticks_skipped)
    }

    /// Two timers for the same instant, one set before a long idle stretch
    /// and one after it: the wheel files a timer by how far off it is, so
    /// they fire in the same order only if the timer driver caught up with
    /// the time before the second was set.
    fn timers_across_idle(skip: bool, tick: Duration) -> (Vec<String>, u64) {
        let log: Log = Rc::default();
        let mut builder = Builder::new();
        builder
            .tick_duration(tick)
            .rng_seed(1)
            .min_message_latency(Duration::from_millis(1))
            .max_message_latency(Duration::from_millis(1));
        if !skip {
            builder.disable_idle_skipping();
        }
        let mut sim = builder.build();
        let host_log = log.clone();
        sim.host("sleeper", move || {
            let log = host_log.clone();
            async move {
                let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
                for name in ["early-1", "early-2"] {
                    let log = log.clone();
                    tokio::task::spawn_local(async move {
                        tokio::time::sleep_until(deadline).await;
                        note(&log, "sleeper", name.to_string());
                    });
                }
                let listener = TcpListener::bind(("0.0.0.0", 9000)).await?;
                let (stream, _) = listener.accept().await?;
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let log = log.clone();
                    tokio::task::spawn_local(async move {
                        tokio::time::sleep_until(deadline).await;
                        note(&log, "sleeper", line);
                    });
                }
                std::future::pending().await
            }
        });
        sim.client("poker", async {
            sleep(Duration::from_millis(258)).await;
            let mut stream = TcpStream::connect(("sleeper", 9000)).await?;
            stream.write_all(b"late-1\nlate-2\n").await?;
            sleep(Duration::from_millis(100)).await;
            Ok(())
        });
        sim.run().expect("simulation runs");
        let logged = log.borrow().clone();
        (logged, sim.idle_ticks_skipped)
    }

    #[test]
    fn timers_set_across_an_idle_stretch_fire_in_the_same_order() {
        for tick in [Duration::from_millis(1), Duration::from_millis(2)] {
            let (with_skipping, skipped) = timers_across_idle(true, tick);
            let (without, _) = timers_across_idle(false, tick);
            assert!(skipped > 100, "only {skipped} ticks skipped");
            assert_eq!(without.len(), 4, "{without:?}");
            assert_eq!(with_skipping, without, "tick {tick:?}");
        }
    }

    #[test]
    fn skipping_idle_hosts_changes_nothing() -> Result {
        for tick in [
            Duration::from_millis(1),
            Duration::from_millis(3),
            Duration::from_micros(1_500),
        ] {
            for seed in 0..3 {
                let (with_skipping, skipped) = run(true, tick, seed);
                let (without, none) = run(false, tick, seed);
                assert_eq!(none, 0);
                assert!(skipped > 100, "tick {tick:?}: only {skipped} ticks skipped");
                assert_eq!(with_skipping, without, "tick {tick:?}, seed {seed}");
            }
        }
        Ok(())
    }
}
