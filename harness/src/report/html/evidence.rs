//! What belongs to a failed invariant's evidence: the operations whose
//! events it quotes (outlined on the timeline), its time window, and the
//! target's log events and role changes inside that window (listed beside
//! it), so a reader sees what the system said while it went wrong.
//!
//! Evidence is a list of history events copied out of the history; an
//! operation is in it when its invocation or its completion is, matched
//! by (process, time), which names one event of a well-formed history up
//! to an operation's own invoke and completion at the same instant.

use super::{escape, view, RunReport};
use crate::check::Status;
use crate::check::Verdict;
use crate::history::Operation;
use crate::record::{RunRecord, TraceEvent, TraceKind};
use std::collections::BTreeSet;
use std::fmt::Write;
use std::time::Duration;

/// Most log lines listed beside one invariant's evidence.
pub const MAX_EVIDENCE_LOG_LINES: usize = 40;

/// The evidence of every invariant that did not pass.
pub(super) struct EvidenceOps {
    events: BTreeSet<(u64, u64)>,
    /// Each failed invariant's evidence window, `(start_ns, end_ns)`.
    pub windows: Vec<(u64, u64)>,
}

impl EvidenceOps {
    pub fn of(report: &RunReport) -> EvidenceOps {
        let mut events = BTreeSet::new();
        let mut windows = Vec::new();
        for v in report.verdicts.iter().filter(|v| v.status != Status::Pass) {
            events.extend(v.evidence.iter().map(|e| (e.process, e.time_ns)));
            windows.extend(window(v));
        }
        EvidenceOps { events, windows }
    }

    pub fn contains(&self, op: &Operation) -> bool {
        self.events.contains(&(op.process, op.invoke_ns))
            || op
                .complete_ns
                .is_some_and(|t| self.events.contains(&(op.process, t)))
    }
}

/// The span of simulated time a verdict's evidence covers.
pub(super) fn window(v: &Verdict) -> Option<(u64, u64)> {
    let start = v.evidence.iter().map(|e| e.time_ns).min()?;
    let end = v.evidence.iter().map(|e| e.time_ns).max()?;
    Some((start, end))
}

/// The target's log events and role changes from `start_ns` to `end_ns`,
/// both included, in recorded order.
pub(super) fn target_events(
    trace: &[TraceEvent],
    (start_ns, end_ns): (u64, u64),
) -> Vec<&TraceEvent> {
    trace
        .iter()
        .filter(|t| matches!(t.kind, TraceKind::Log | TraceKind::Role))
        .filter(|t| (start_ns..=end_ns).contains(&t.time_ns))
        .collect()
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

/// The block listed beside a verdict's evidence: the target's events in
/// its window, at most [`MAX_EVIDENCE_LOG_LINES`].
pub(super) fn log_block(v: &Verdict, record: &RunRecord) -> String {
    let Some(window) = window(v) else {
        return String::new();
    };
    let range = format!(
        "{} to {}",
        view::time_label(Duration::from_nanos(window.0)),
        view::time_label(Duration::from_nanos(window.1))
    );
    let events = target_events(&record.trace, window);
    if events.is_empty() {
        return format!(
            "<p><b>Target log</b> ({range}): the target logged nothing in the evidence window.</p>"
        );
    }
    let shown = events.len().min(MAX_EVIDENCE_LOG_LINES);
    let lines: Vec<String> = events[..shown].iter().map(|t| log_line(t)).collect();
    let mut out = format!(
        "<p><b>Target log</b> ({range}, {shown} of {} events):</p><pre>{}</pre>",
        events.len(),
        escape(&lines.join("\n"))
    );
    if events.len() > shown {
        out.push_str(
            "<p class=\"note\">The rest: <code>replay --trace</code> prints every event, \
             <code>replay --perfetto FILE</code> draws them.</p>",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::check::Verdict;
    use crate::history::{Event, EventType, Op, OpKind, Value};
    use crate::plan;
    use crate::record::{RunEnd, RunLog, TraceEvent, TraceKind};
    use crate::report::{html, RunReport};
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
    fn page() -> String {
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
        html::render(&report, &record)
    }

    #[test]
    fn the_evidence_operations_are_outlined_and_a_definite_no_is_not_an_error() {
        let html = page();
        let rect_classes: Vec<&str> = html
            .lines()
            .filter(|l| l.starts_with("<rect") && l.contains("<title>p"))
            .filter_map(|l| l.split("class=\"").nth(1)?.split('"').next())
            .collect();
        assert!(rect_classes.contains(&"ok"), "{rect_classes:?}");
        assert!(
            rect_classes.contains(&"answered evidence"),
            "{rect_classes:?}"
        );
        assert!(rect_classes.contains(&"fail"), "{rect_classes:?}");
        assert!(!rect_classes.contains(&"fail evidence"), "{rect_classes:?}");
        assert!(html.contains("fail (answered: a definite no)"));
        assert!(html.contains("class=\"evidence-span\""));
        assert!(html.contains("Outlined: the 1 operations"));
    }

    #[test]
    fn the_log_events_inside_the_evidence_window_are_listed_beside_it() {
        let html = page();
        let block = html
            .split("<b>Target log</b>")
            .nth(1)
            .expect("a target log block")
            .split("</pre>")
            .next()
            .unwrap();
        assert!(block.contains("(200ms to 210ms, 1 of 1 events)"), "{block}");
        assert!(
            block.contains("205ms server INFO register: inside term=3"),
            "{block}"
        );
        assert!(
            !block.contains("before") && !block.contains("after"),
            "{block}"
        );
    }
}
