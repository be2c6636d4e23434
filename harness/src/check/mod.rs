//! Checkers: pure functions from a run's record to verdicts.
//!
//! A checker never touches the simulation. It answers `pass`, `fail` with
//! evidence (the smallest slice of history that shows the violation and what
//! was expected instead), or `unknown` when it could not decide within its
//! budget or on the data it was given. `unknown` is never a silent pass: a
//! run with an `unknown` verdict does not pass.

pub mod assertions;
pub mod availability;
pub mod convergence;
pub mod durability;
pub mod jobs;
pub mod linearizability;
pub mod recovery;
mod run;
pub mod transactional;

use crate::history::Event;
use crate::plan::Plan;
use crate::record::RunRecord;
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};

/// The outcome of one invariant on one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
        }
    }
}

/// One invariant's verdict, with the evidence a person needs to believe it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The invariant's name as written in the scenario (e.g. `availability`).
    pub invariant: String,
    pub status: Status,
    /// One line a person reads first: what held or what was violated.
    pub summary: String,
    /// On failure: what the invariant expected instead.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expected: Option<String>,
    /// On failure: the smallest slice of history that shows the violation.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub evidence: Vec<Event>,
    /// Measurements behind the verdict (ratios, percentiles, search sizes).
    /// A JSON object with sorted keys, so it serialises deterministically.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty", default)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Verdict {
    pub fn pass(invariant: impl Into<String>, summary: impl Into<String>) -> Verdict {
        Verdict::new(invariant, Status::Pass, summary)
    }

    pub fn fail(invariant: impl Into<String>, summary: impl Into<String>) -> Verdict {
        Verdict::new(invariant, Status::Fail, summary)
    }

    pub fn unknown(invariant: impl Into<String>, summary: impl Into<String>) -> Verdict {
        Verdict::new(invariant, Status::Unknown, summary)
    }

    fn new(invariant: impl Into<String>, status: Status, summary: impl Into<String>) -> Verdict {
        Verdict {
            invariant: invariant.into(),
            status,
            summary: summary.into(),
            expected: None,
            evidence: Vec::new(),
            details: serde_json::Map::new(),
        }
    }

    pub fn with_expected(mut self, expected: impl Into<String>) -> Verdict {
        self.expected = Some(expected.into());
        self
    }

    pub fn with_evidence(mut self, evidence: Vec<Event>) -> Verdict {
        self.evidence = evidence;
        self
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Verdict {
        self.details.insert(key.to_string(), value.into());
        self
    }
}

/// The models `[invariants.linearizable] model = "..."` accepts.
pub fn linearizability_model_names() -> Vec<&'static str> {
    linearizability::ModelKind::ALL
        .iter()
        .map(|m| m.as_str())
        .collect()
}

/// The linearizability verdict for a scenario's `[invariants.linearizable]`.
fn check_linearizable(
    history: &crate::history::History,
    spec: &crate::scenario::LinearizableSpec,
) -> Verdict {
    let Ok(model) = spec.model.parse::<linearizability::ModelKind>() else {
        return Verdict::unknown("linearizable", format!("unknown model {}", spec.model));
    };
    // Validation rejected bad limits before the run; this is for specs
    // built without it.
    let budget = match linearizability::Budget::with_limits(spec.max_states, spec.max_memory_bytes)
    {
        Ok(budget) => budget,
        Err((knob, message)) => {
            return Verdict::unknown(
                linearizability::INVARIANT,
                format!("invariants.linearizable.{knob}: {message}"),
            )
        }
    };
    linearizability::check(history, model, &budget)
}

/// The overall status of a run from its verdicts: any failure fails the
/// run; otherwise any unknown makes it unknown.
pub fn overall(verdicts: &[Verdict]) -> Status {
    if verdicts.iter().any(|v| v.status == Status::Fail) {
        Status::Fail
    } else if verdicts.iter().any(|v| v.status == Status::Unknown) {
        Status::Unknown
    } else {
        Status::Pass
    }
}

/// What the checkers made of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub verdicts: Vec<Verdict>,
    /// Each fault's time to detect, impact and recover, for scenarios with
    /// `[invariants.availability]` (see [`recovery`]).
    pub recovery: Option<recovery::RecoveryReport>,
}

/// Runs every invariant the scenario declares on a run's record. The first
/// verdict is always `run`: whether the simulation completed and did the
/// work its scenario asks for (see `run.rs`). `signals` are what counts as
/// the system noticing a fault (the scenario's, or its target's).
pub fn run_all(
    scenario: &Scenario,
    plan: &Plan,
    record: &RunRecord,
    signals: &[crate::detection::DetectionSignal],
) -> Checked {
    let mut measured = None;
    let verdicts = run_verdicts(scenario, plan, record, signals, &mut measured);
    Checked {
        verdicts,
        recovery: measured,
    }
}

fn run_verdicts(
    scenario: &Scenario,
    plan: &Plan,
    record: &RunRecord,
    signals: &[crate::detection::DetectionSignal],
    measured: &mut Option<recovery::RecoveryReport>,
) -> Vec<Verdict> {
    let mut verdicts = vec![run::check(plan, record)];
    // The target's own assertions are judged in every run that reached
    // any, whatever the scenario declares.
    verdicts.extend(assertions::check(&record.assertions));
    let ops = match record.history.operations() {
        Ok(ops) => ops,
        Err(err) => {
            verdicts.push(Verdict::fail(
                "history",
                format!("malformed history: {err}"),
            ));
            return verdicts;
        }
    };
    let invariants = &scenario.invariants;
    if let Some(spec) = &invariants.availability {
        let report = recovery::measure(&ops, plan, record, spec, signals);
        let judged = recovery::judge(
            &report,
            spec,
            plan.duration.as_nanos() as u64,
            record.elapsed.as_nanos() as u64,
        );
        verdicts.push(availability::check(
            &ops,
            &record.history.events,
            plan,
            spec,
            Some((&report, &judged)),
        ));
        *measured = Some(report);
    }
    if let Some(spec) = &invariants.linearizable {
        verdicts.push(check_linearizable(&record.history, spec));
    }
    if let Some(spec) = &invariants.transactional {
        let options = transactional::Options::from_spec(spec);
        verdicts.push(transactional::check(&record.history, &options));
    }
    if invariants.durability.is_some() {
        verdicts.push(durability::check(&ops, &record.history.events));
    }
    if let Some(spec) = &invariants.jobs {
        verdicts.push(jobs::check(&ops, &record.history.events, plan, spec));
    }
    if invariants.convergence.is_some() {
        verdicts.push(convergence::check(
            &plan.servers,
            &record.replica_states,
            record.applied.as_ref(),
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_accept_exactly_the_models_the_checker_has() {
        assert_eq!(
            linearizability_model_names(),
            crate::scenario::LINEARIZABLE_MODELS,
            "a linearizability model was added or removed: update scenario::LINEARIZABLE_MODELS"
        );
    }
}
