//! Running a plan inside turmoil and recording what happens.
//!
//! The runner builds a turmoil simulation seeded from the plan's seed with a
//! fixed epoch, installs the target's server hosts and the harness's client
//! hosts, then drives `Sim::step()` itself: before each step it applies the
//! plan events that are due (O(1) when none are), and it stops as soon as
//! every client is done, or when the step budget (duration + drain) runs
//! out. A panic anywhere in the simulation, or a host whose software fails,
//! ends the run with that reason rather than taking the process down.

mod aim;
mod capture;
mod nemesis;
mod turmoil_panics;
mod txn_gen;
mod workload;

/// Re-exported from [`crate::history`], where the fact lives.
pub use crate::history::FINAL_READER_PROCESS;

use crate::history::DEFAULT_HISTORY_LIMIT;
use crate::plan::Plan;
use crate::record::{RunEnd, RunLog, RunRecord, TraceEvent, TraceKind, DEFAULT_TRACE_LIMIT};
use crate::seed::{fixed_epoch, Seed};
use crate::target::{HostEnv, System};
use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

/// Knobs of a run that are not part of the scenario.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub history_limit: usize,
    pub trace_limit: usize,
    /// Most verbose `tracing` level captured from targets.
    pub trace_level: tracing::Level,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            history_limit: DEFAULT_HISTORY_LIMIT,
            trace_limit: DEFAULT_TRACE_LIMIT,
            trace_level: tracing::Level::INFO,
        }
    }
}

thread_local! {
    static LOG: RefCell<Option<RunLog>> = const { RefCell::new(None) };
}

/// Appends to the run log of the run on this thread (no-op outside a run).
pub(crate) fn with_log(f: impl FnOnce(&mut RunLog)) {
    LOG.with(|log| {
        if let Some(log) = log.borrow_mut().as_mut() {
            f(log)
        }
    });
}

/// Called by a target's host software to publish a description of its
/// replica state (a canonical string or digest). The harness keeps the last
/// one per host; the convergence checker compares them after the run.
/// Outside a simulation this does nothing.
pub fn publish_state(host: &str, state: impl Into<String>) {
    let time_ns = turmoil::sim_elapsed().map_or_else(now_ns, |d| d.as_nanos() as u64);
    let state = state.into();
    with_log(|log| {
        log.replica_states.insert(
            host.to_string(),
            crate::record::PublishedState { time_ns, state },
        );
    });
}

/// Called by a target's host software each time a replica applies a log
/// position, with a digest of what it applied: of the entry, or of every
/// entry up to it. Replicas must agree at every position; the first that
/// does not fails the convergence check (see [`crate::agreement`]).
/// Outside a simulation this does nothing.
pub fn publish_applied(host: &str, position: u64, digest: u64) {
    let time_ns = turmoil::sim_elapsed().map_or_else(now_ns, |d| d.as_nanos() as u64);
    with_log(|log| {
        log.applied.report(
            position,
            crate::agreement::AppliedAt {
                host: host.to_string(),
                digest,
                time_ns,
            },
        );
    });
}

fn now_ns() -> u64 {
    capture::NOW_NS.with(|n| n.get())
}

/// Where [`crate::role`] sends the changes of the run on this thread.
fn record_role_change(change: &crate::role::RoleChange) {
    with_log(|log| log.push_role(change));
}

/// Runs `plan` against `system` and returns what was observed.
pub fn run(plan: &Plan, system: Arc<dyn System>, options: &RunOptions) -> RunRecord {
    capture::install_panic_hook();
    LOG.with(|log| {
        *log.borrow_mut() = Some(RunLog::new(options.history_limit, options.trace_limit));
    });
    capture::set_level(Some(options.trace_level));
    capture::capture_panics(true);
    capture::NOW_NS.with(|n| n.set(0));
    crate::host_faults::install(Seed(plan.seed));
    crate::assertions::begin_run(now_ns, capture::current_host);
    crate::role::install(record_role_change, now_ns);

    let mut steps = 0u64;
    let mut elapsed = Duration::ZERO;
    let outcome = tracing::dispatcher::with_default(&capture::dispatch(), || {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            simulate(plan, system, &mut steps, &mut elapsed)
        }))
    });
    let end = match outcome {
        Ok(end) => end,
        Err(payload) => {
            let message = capture::take_panic().unwrap_or_else(|| {
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic with a non-string payload".into())
            });
            with_log(|log| {
                log.push_trace(TraceEvent {
                    time_ns: now_ns(),
                    kind: TraceKind::Panic,
                    source: "harness".into(),
                    level: None,
                    target: None,
                    message: message.clone(),
                    fields: Vec::new(),
                })
            });
            RunEnd::Panicked { message }
        }
    };
    let end = match end {
        RunEnd::Panicked { message } => RunEnd::Panicked {
            message: turmoil_panics::explained(message),
        },
        other => other,
    };
    capture::capture_panics(false);
    capture::set_level(None);
    crate::host_faults::uninstall();
    let assertions = crate::assertions::end_run();
    crate::role::uninstall();
    let log = LOG
        .with(|log| log.borrow_mut().take())
        .expect("run log installed above");
    let mut record = log.finish(end, elapsed, steps);
    record.assertions = assertions;
    record
}

fn simulate(
    plan: &Plan,
    system: Arc<dyn System>,
    steps: &mut u64,
    elapsed: &mut Duration,
) -> RunEnd {
    let seed = Seed(plan.seed);
    let max_steps = {
        let total = plan.duration + plan.drain;
        (total.as_nanos() / plan.tick.as_nanos().max(1)) as u64 + 1
    };
    let mut builder = turmoil::Builder::new();
    builder
        .rng_seed(seed.turmoil())
        .epoch(fixed_epoch())
        .tick_duration(plan.tick)
        // The harness enforces its own budget; turmoil's is only a backstop.
        .simulation_duration(plan.duration + plan.drain + plan.tick * 4)
        .min_message_latency(plan.latency)
        .max_message_latency(plan.latency + plan.jitter)
        .tcp_capacity(plan.tcp_capacity);
    // Power loss tears pending writes at block granularity (see `disk`).
    builder.fs().block_size(crate::disk::TORN_WRITE_BLOCK_BYTES);
    let mut sim = builder.build();

    system.install(&mut sim, &HostEnv { seed });
    let shared = workload::Shared::new(plan.clone(), system, seed);
    for (i, host) in plan.clients.iter().enumerate() {
        sim.client(
            host.as_str(),
            workload::client_host(shared.clone(), i as u32),
        );
    }

    let mut nemesis = nemesis::Nemesis::new(
        &plan.servers,
        &plan.clients,
        plan.latency,
        plan.jitter,
        seed,
    );
    let mut next_event = 0;
    loop {
        let now = sim.elapsed();
        capture::NOW_NS.with(|n| n.set(now.as_nanos() as u64));
        while let Some(event) = plan.events.get(next_event).filter(|e| e.at <= now) {
            let applied = nemesis.apply(&mut sim, &event.action, now);
            with_log(|log| {
                log.push_trace(TraceEvent {
                    time_ns: now.as_nanos() as u64,
                    kind: TraceKind::Fault,
                    source: "nemesis".into(),
                    level: None,
                    target: None,
                    message: applied.description,
                    fields: Vec::new(),
                });
                for (host, what) in applied.lifecycle {
                    log.push_trace(TraceEvent {
                        time_ns: now.as_nanos() as u64,
                        kind: TraceKind::Host,
                        source: host,
                        level: None,
                        target: None,
                        message: what,
                        fields: Vec::new(),
                    });
                }
                log.fault_hits.extend(applied.hits);
            });
            // After the fault's own trace lines: the software that held a
            // role is gone.
            for host in &applied.gone {
                crate::role::host_gone(host, now.as_nanos() as u64);
            }
            next_event += 1;
            with_log(|log| log.plan_events_applied = next_event);
        }
        if *steps >= max_steps {
            return RunEnd::Hung { steps: *steps };
        }
        let result = sim.step();
        *steps += 1;
        *elapsed = sim.elapsed();
        match result {
            Ok(true) => return RunEnd::Completed,
            Ok(false) => {}
            Err(err) => {
                if let Some(message) = capture::take_panic() {
                    return RunEnd::Panicked { message };
                }
                return RunEnd::HostFailed {
                    message: err.to_string(),
                };
            }
        }
    }
}
