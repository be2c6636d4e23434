//! One point of the search space and running a batch of them.
//!
//! A candidate is a workload seed plus a fault plan: either the scenario's
//! own random plan for that seed (what a swarm seed runs) or explicit fault
//! events with the network jitter the plan drew. A batch runs on a pool of
//! threads and comes back in candidate order, so what the search does
//! next never depends on which thread finished first.

use super::features;
use crate::check::Status;
use crate::plan::{explicit_events, explicit_events_keeping_roles};
use crate::scenario::{validate, FaultEventSpec, Scenario};
use crate::suite::{execute, ExecOptions, LoadedScenario};
use crate::target::Registry;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The fault plan of a candidate.
#[derive(Clone, Debug, PartialEq)]
pub enum Faults {
    /// The scenario's own plan for the seed (random faults drawn from it).
    Scenario,
    /// Explicit events, with the jitter to run them under.
    Explicit {
        events: Vec<FaultEventSpec>,
        jitter: Duration,
    },
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub seed: u64,
    pub faults: Faults,
    /// The corpus entry it was made from, and how.
    pub parent: Option<usize>,
    pub mutation: String,
}

impl Candidate {
    /// The scenario this candidate runs: `base` itself, or `base` with its
    /// random plan replaced by the explicit events.
    pub fn scenario(&self, base: &Scenario) -> Scenario {
        let mut scenario = base.clone();
        if let Faults::Explicit { events, jitter } = &self.faults {
            scenario.faults.random = None;
            scenario.faults.events = events.clone();
            scenario.network.jitter = *jitter;
        }
        scenario
    }

    /// The candidate ready to run, or why its events are not a valid
    /// scenario.
    pub fn load(
        &self,
        base: &LoadedScenario,
        registry: &Registry,
    ) -> Result<LoadedScenario, String> {
        if self.faults == Faults::Scenario {
            return Ok(base.clone());
        }
        let scenario = self.scenario(&base.scenario);
        let prepared = validate(&scenario, registry).map_err(|e| e.to_string())?;
        Ok(LoadedScenario {
            scenario,
            path: None,
            overrides: Vec::new(),
            prepared,
        })
    }
}

/// How a run ended, for the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// An invariant failed: a finding.
    Fail,
    /// No invariant failed but some could not be decided: not a pass,
    /// and not a finding either.
    Unknown,
    /// The harness itself panicked while running or judging the seed.
    HarnessError,
}

/// What one run left for the search.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub verdict: Verdict,
    /// Failed invariants; for unknown, the undecided ones; for a harness
    /// error, the panic message.
    pub details: Vec<String>,
    pub failed: Vec<String>,
    pub features: BTreeSet<String>,
    /// The run's plan as explicit events (roles as the hosts they hit),
    /// with its jitter: what a finding is written as.
    pub explicit: Result<(Vec<FaultEventSpec>, Duration), String>,
    /// The same plan with its role targets kept: what the corpus keeps, so
    /// a mutant whose edits change who leads still aims at the leader.
    pub mutable: Result<Vec<FaultEventSpec>, String>,
}

fn run_one(loaded: &LoadedScenario, seed: u64) -> Outcome {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let run = execute(loaded, seed, &ExecOptions::default());
        let failed: Vec<String> = run
            .report
            .verdicts
            .iter()
            .filter(|v| v.status == Status::Fail)
            .map(|v| v.invariant.clone())
            .collect();
        let (verdict, details) = match run.report.status {
            Status::Pass => (Verdict::Pass, Vec::new()),
            Status::Fail => (
                Verdict::Fail,
                run.report
                    .failed_invariants()
                    .iter()
                    .map(|v| format!("{}: {}", v.invariant, v.summary))
                    .collect(),
            ),
            Status::Unknown => (
                Verdict::Unknown,
                run.report
                    .verdicts
                    .iter()
                    .filter(|v| v.status == Status::Unknown)
                    .map(|v| format!("{}: {}", v.invariant, v.summary))
                    .collect(),
            ),
        };
        Outcome {
            verdict,
            details,
            failed,
            features: features::of_run(&run.plan, &run.record),
            explicit: explicit_events(&run.plan, &run.record.fault_hits)
                .map(|events| (events, run.plan.jitter)),
            mutable: explicit_events_keeping_roles(&run.plan),
        }
    }));
    result.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".into());
        Outcome {
            verdict: Verdict::HarnessError,
            details: vec![format!("harness: panicked: {message}")],
            failed: Vec::new(),
            features: BTreeSet::new(),
            explicit: Err("the run panicked".into()),
            mutable: Err("the run panicked".into()),
        }
    })
}

/// Runs `batch` (each a loaded scenario and seed) on `threads` workers;
/// the outcomes come back in batch order.
pub fn run_batch(batch: &[(LoadedScenario, u64)], threads: usize) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; batch.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, batch.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((loaded, seed)) = batch.get(i) else {
                    break;
                };
                let outcome = run_one(loaded, *seed);
                slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|o| o.expect("every job of a batch ran"))
        .collect()
}
