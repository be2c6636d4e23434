//! What a run leaves behind: the client history, the event trace, how the
//! run ended, and a hash of everything observed.
//!
//! The trace interleaves, in simulated time, the faults the nemesis applied,
//! host lifecycle changes, and the `tracing` events the target emitted. The
//! trace hash covers history and trace alike, in the order they happened: two
//! runs with equal hashes behaved identically as far as anyone can observe.

use crate::agreement::{AppliedLog, AppliedSummary};
use crate::assertions::AssertionRecord;
use crate::fault::FaultHit;
use crate::history::{Event, History};
use crate::role::{RoleChange, RoleTimeline, DEFAULT_ROLE_LIMIT};
use crate::seed::Fnv1a;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Default cap on trace events per run; later events are counted, not kept
/// (but still hashed).
pub const DEFAULT_TRACE_LIMIT: usize = 200_000;

/// Where a trace event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceKind {
    /// The nemesis applied a fault.
    Fault,
    /// A host crashed, restarted, paused, resumed.
    Host,
    /// A `tracing` event from the target (or a client).
    Log,
    /// Something panicked inside the simulation.
    Panic,
    /// A host took a role or gave it up (see [`crate::role`]).
    Role,
}

/// One line of the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEvent {
    pub time_ns: u64,
    pub kind: TraceKind,
    /// The host the event happened on, or `nemesis`.
    pub source: String,
    /// For logs: the `tracing` level and target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub message: String,
    /// Structured fields of a log event, in the order they were written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
}

impl TraceEvent {
    /// How coverage and detection signals name a `tracing` event:
    /// `target: message`, plus ` [state=…]` when it has a `state` field.
    pub fn label(&self) -> String {
        let target = self.target.as_deref().unwrap_or("?");
        let mut label = format!("{target}: {}", self.message);
        if let Some((_, state)) = self.fields.iter().find(|(k, _)| k == "state") {
            label.push_str(&format!(" [state={state}]"));
        }
        label
    }
}

/// How the simulation ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "end", rename_all = "kebab-case")]
pub enum RunEnd {
    /// Every client finished its workload.
    Completed,
    /// The step budget (duration + drain) ran out with clients still busy.
    Hung { steps: u64 },
    /// Target or harness code panicked.
    Panicked { message: String },
    /// A host's software returned an error, which stops a turmoil run.
    HostFailed { message: String },
}

impl RunEnd {
    pub fn is_completed(&self) -> bool {
        matches!(self, RunEnd::Completed)
    }

    pub fn describe(&self) -> String {
        match self {
            RunEnd::Completed => "completed".into(),
            RunEnd::Hung { steps } => format!(
                "hung: clients still running after {steps} steps (duration + drain); raise simulation.drain if the system is just slow"
            ),
            RunEnd::Panicked { message } => format!("panicked: {message}"),
            RunEnd::HostFailed { message } => format!("host software failed: {message}"),
        }
    }
}

/// The observable result of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub history: History,
    pub trace: Vec<TraceEvent>,
    pub trace_dropped: u64,
    /// FNV-1a over every history and trace event in order, as hex.
    pub trace_hash: String,
    pub end: RunEnd,
    #[serde(with = "crate::duration::serde_text")]
    pub elapsed: Duration,
    pub steps: u64,
    /// The last state each replica published (see
    /// [`crate::sim::publish_state`]), for the convergence checker.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub replica_states: BTreeMap<String, PublishedState>,
    /// What replicas reported applying at each log position (see
    /// [`crate::sim::publish_applied`]); `None` if none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<AppliedSummary>,
    /// Every assertion the target's code reached (see
    /// [`crate::assertions`]), sorted by message then kind. Not part of the
    /// trace hash: assertions observe a run without changing it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionRecord>,
    /// How many of the plan's events (in plan order) the nemesis applied
    /// before the run ended: what coverage counts, never the plan itself.
    #[serde(default)]
    pub plan_events_applied: usize,
    /// When a client first found `workload.max_ops` used up before the
    /// workload's end: the run then tested less than its scenario asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ops_reached_ns: Option<u64>,
    /// Every role change the target reported (and the harness made when a
    /// host went down), in order.
    #[serde(default, skip_serializing_if = "RoleTimeline::is_empty")]
    pub roles: RoleTimeline,
    /// What each fault aimed at a role hit when it fired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fault_hits: Vec<FaultHit>,
}

impl RunRecord {
    /// The assertions this run broke: an `always` that failed, an
    /// `unreachable` that was reached.
    pub fn violated_assertions(&self) -> impl Iterator<Item = &AssertionRecord> {
        self.assertions.iter().filter(|a| a.violated())
    }

    /// This run's record of the assertion named `message`, if it reached
    /// one (the first kind, if several kinds share the message).
    pub fn assertion(&self, message: &str) -> Option<&AssertionRecord> {
        self.assertions.iter().find(|a| a.message == message)
    }
}

/// A replica's state as it last described it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedState {
    pub time_ns: u64,
    /// A canonical description or digest: equal strings mean equal states.
    pub state: String,
}

/// Accumulates a run's history and trace while it runs.
#[derive(Debug)]
pub struct RunLog {
    pub history: History,
    pub trace: Vec<TraceEvent>,
    pub trace_dropped: u64,
    pub replica_states: BTreeMap<String, PublishedState>,
    pub applied: AppliedLog,
    pub plan_events_applied: usize,
    pub max_ops_reached_ns: Option<u64>,
    pub roles: RoleTimeline,
    pub fault_hits: Vec<FaultHit>,
    trace_limit: usize,
    hasher: Fnv1a,
}

impl RunLog {
    pub fn new(history_limit: usize, trace_limit: usize) -> RunLog {
        RunLog {
            history: History::with_limit(history_limit),
            trace: Vec::new(),
            trace_dropped: 0,
            replica_states: BTreeMap::new(),
            applied: AppliedLog::default(),
            plan_events_applied: 0,
            max_ops_reached_ns: None,
            roles: RoleTimeline::default(),
            fault_hits: Vec::new(),
            trace_limit,
            hasher: Fnv1a::default(),
        }
    }

    /// Records a role change: in the timeline, and as a `role` trace
    /// event (so it is hashed and shown with the trace).
    pub fn push_role(&mut self, change: &RoleChange) {
        let mut fields = Vec::new();
        if let Some(previous) = &change.previous {
            fields.push(("was".to_string(), previous.clone()));
        }
        self.push_trace(TraceEvent {
            time_ns: change.time_ns,
            kind: TraceKind::Role,
            source: change.host.clone(),
            level: None,
            target: None,
            message: change.role.clone().unwrap_or_else(|| "no role".into()),
            fields,
        });
        self.roles.push(change.clone(), DEFAULT_ROLE_LIMIT);
    }

    pub fn push_event(&mut self, event: Event) {
        self.hasher.write(b"H");
        serde_json::to_writer(&mut self.hasher, &event).expect("hashing cannot fail");
        self.history.push(event);
    }

    pub fn push_trace(&mut self, event: TraceEvent) {
        self.hasher.write(b"T");
        serde_json::to_writer(&mut self.hasher, &event).expect("hashing cannot fail");
        if self.trace.len() < self.trace_limit {
            self.trace.push(event);
        } else {
            self.trace_dropped += 1;
        }
    }

    pub fn finish(self, end: RunEnd, elapsed: Duration, steps: u64) -> RunRecord {
        let mut hasher = self.hasher;
        serde_json::to_writer(&mut hasher, &end).expect("hashing cannot fail");
        RunRecord {
            history: self.history,
            trace: self.trace,
            trace_dropped: self.trace_dropped,
            trace_hash: format!("{:016x}", hasher.finish()),
            end,
            elapsed,
            steps,
            replica_states: self.replica_states,
            applied: self.applied.finish(),
            assertions: Vec::new(),
            plan_events_applied: self.plan_events_applied,
            max_ops_reached_ns: self.max_ops_reached_ns,
            roles: self.roles,
            fault_hits: self.fault_hits,
        }
    }
}

/// Where two runs of the same seed first differ, for `--check-determinism`.
pub fn first_divergence(a: &RunRecord, b: &RunRecord) -> Option<String> {
    if a.trace_hash == b.trace_hash {
        // Assertions are outside the hash: compare them directly.
        if a.assertions == b.assertions {
            return None;
        }
        let i = a
            .assertions
            .iter()
            .zip(&b.assertions)
            .position(|(x, y)| x != y)
            .unwrap_or(a.assertions.len().min(b.assertions.len()));
        return Some(format!(
            "assertion record {i} differs:\n  first run:  {:?}\n  second run: {:?}",
            a.assertions.get(i),
            b.assertions.get(i)
        ));
    }
    let history = a
        .history
        .events
        .iter()
        .zip(&b.history.events)
        .position(|(x, y)| x != y);
    if let Some(i) = history {
        return Some(format!(
            "history event {i} differs:\n  first run:  {:?}\n  second run: {:?}",
            a.history.events[i], b.history.events[i]
        ));
    }
    let trace = a.trace.iter().zip(&b.trace).position(|(x, y)| x != y);
    if let Some(i) = trace {
        return Some(format!(
            "trace event {i} differs:\n  first run:  {:?}\n  second run: {:?}",
            a.trace[i], b.trace[i]
        ));
    }
    if a.history.len() != b.history.len() {
        return Some(format!(
            "history lengths differ: {} vs {} events",
            a.history.len(),
            b.history.len()
        ));
    }
    if a.trace.len() != b.trace.len() {
        return Some(format!(
            "trace lengths differ: {} vs {} events",
            a.trace.len(),
            b.trace.len()
        ));
    }
    Some(format!(
        "trace hashes differ ({} vs {}) beyond the recorded events (end: {} vs {})",
        a.trace_hash,
        b.trace_hash,
        a.end.describe(),
        b.end.describe()
    ))
}
