//! The target's own words while an invariant broke: the log events and
//! role changes whose simulated time falls inside a failed verdict's
//! evidence window (from its first quoted history event to its last). The
//! HTML lists them beside the evidence and the Markdown under it, from this
//! one computation, so the two views never disagree.

use super::view;
use crate::check::Verdict;
use crate::record::{RunRecord, TraceEvent, TraceKind};
use std::fmt::Write;
use std::time::Duration;

/// Most log lines listed beside one invariant's evidence; `replay --trace`
/// prints every event.
pub const MAX_EVIDENCE_LOG_LINES: usize = 40;

/// The target's events inside one verdict's evidence window.
pub(crate) struct EvidenceLog {
    /// The window as people read it: `200ms to 210ms`.
    pub range: String,
    /// At most [`MAX_EVIDENCE_LOG_LINES`] lines, in recorded order.
    pub lines: Vec<String>,
    /// How many events the window holds, shown or not.
    pub total: usize,
}

/// The span of simulated time a verdict's evidence covers.
pub(crate) fn window(v: &Verdict) -> Option<(u64, u64)> {
    let start = v.evidence.iter().map(|e| e.time_ns).min()?;
    let end = v.evidence.iter().map(|e| e.time_ns).max()?;
    Some((start, end))
}

/// The target's log lines in `v`'s evidence window; `None` when the
/// verdict quotes no history event, so there is no window.
pub(crate) fn of(v: &Verdict, record: &RunRecord) -> Option<EvidenceLog> {
    let (start_ns, end_ns) = window(v)?;
    let range = format!(
        "{} to {}",
        view::time_label(Duration::from_nanos(start_ns)),
        view::time_label(Duration::from_nanos(end_ns))
    );
    let events: Vec<&TraceEvent> = record
        .trace
        .iter()
        .filter(|t| matches!(t.kind, TraceKind::Log | TraceKind::Role))
        .filter(|t| (start_ns..=end_ns).contains(&t.time_ns))
        .collect();
    Some(EvidenceLog {
        range,
        lines: events
            .iter()
            .take(MAX_EVIDENCE_LOG_LINES)
            .map(|t| log_line(t))
            .collect(),
        total: events.len(),
    })
}

/// One trace event as a line: `1.250s server-1 INFO kv: became leader
/// term=3`.
fn log_line(t: &TraceEvent) -> String {
    let mut line = format!(
        "{} {}",
        view::time_label(Duration::from_nanos(t.time_ns)),
        t.source
    );
    if let Some(level) = &t.level {
        let _ = write!(line, " {level}");
    }
    match &t.target {
        Some(target) => {
            let _ = write!(line, " {target}: {}", t.message);
        }
        None => {
            let _ = write!(line, " {}", t.message);
        }
    }
    for (k, v) in &t.fields {
        let _ = write!(line, " {k}={v}");
    }
    line
}

/// A failed run to render in the views' tests.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::check::Verdict;
    use crate::history::{Event, EventType, Op, OpKind, Value};
    use crate::plan;
    use crate::record::{RunEnd, RunLog, RunRecord, TraceEvent, TraceKind};
    use crate::report::RunReport;
    use crate::scenario::{ScenarioBuilder, Topology};
    use std::time::Duration;

    fn log(time_ns: u64, message: &str) -> TraceEvent {
        TraceEvent {
            time_ns,
            kind: TraceKind::Log,
            source: "server".into(),
            level: Some("INFO".into()),
            target: Some("register".into()),
            message: message.into(),
            fields: vec![("term".into(), "3".into())],
        }
    }

    /// Three processes: p0 a write that is ok, p1 a cas answered "no"
    /// (fail, no error), p2 a cas that failed with an error. A failed
    /// invariant quotes p1's cas; the server logs before, inside and after
    /// the evidence window.
    pub(crate) fn sample() -> (RunReport, RunRecord) {
        let scenario = ScenarioBuilder::new("evidence-test", "register")
            .clients(3)
            .duration(Duration::from_secs(1))
            .build();
        let topology = Topology {
            servers: vec!["server".into()],
            clients: vec!["client-0".into()],
        };
        let plan = plan::expand(&scenario, &topology, 1);
        let mut run = RunLog::new(usize::MAX, 1000);
        let event = |process, kind, time_ns, f, value: Value, error: Option<&str>| Event {
            time_ns,
            process,
            kind,
            op: Op {
                f,
                key: None,
                value,
            },
            attempts: 1,
            degraded: false,
            error: error.map(str::to_string),
        };
        let cas = || Value::List(vec![Value::Int(1), Value::Int(2)]);
        let events = [
            event(
                0,
                EventType::Invoke,
                100_000_000,
                OpKind::Write,
                Value::Int(1),
                None,
            ),
            event(
                0,
                EventType::Ok,
                110_000_000,
                OpKind::Write,
                Value::Int(1),
                None,
            ),
            event(1, EventType::Invoke, 200_000_000, OpKind::Cas, cas(), None),
            event(1, EventType::Fail, 210_000_000, OpKind::Cas, cas(), None),
            event(2, EventType::Invoke, 300_000_000, OpKind::Cas, cas(), None),
            event(
                2,
                EventType::Fail,
                310_000_000,
                OpKind::Cas,
                cas(),
                Some("unavailable"),
            ),
        ];
        for e in &events {
            run.push_event(e.clone());
        }
        for (t, m) in [
            (150_000_000, "before"),
            (205_000_000, "inside"),
            (250_000_000, "after"),
        ] {
            run.push_trace(log(t, m));
        }
        let record = run.finish(RunEnd::Completed, Duration::from_secs(1), 1000);
        let verdicts = vec![Verdict::fail("linearizable", "no order explains the cas")
            .with_evidence(events[2..4].to_vec())];
        let report = RunReport::new(&scenario, None, &[], &plan, &record, verdicts);
        (report, record)
    }
}
