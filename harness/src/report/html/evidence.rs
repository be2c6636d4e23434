//! What belongs to a failed invariant's evidence: the operations whose
//! events it quotes (outlined on the timeline), its time window, and the
//! target's log events and role changes inside that window (listed beside
//! it), so a reader sees what the system said while it went wrong.
//!
//! Evidence is a list of history events copied out of the history; an
//! operation is in it when its invocation or its completion is, matched
//! by (process, time), which names one event of a well-formed history up
//! to an operation's own invoke and completion at the same instant.

use super::{escape, RunReport};
use crate::check::Status;
use crate::check::Verdict;
use crate::history::Operation;
use crate::record::RunRecord;
use crate::report::evidence_log;
use std::collections::BTreeSet;

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
            windows.extend(evidence_log::window(v));
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

/// The block listed beside a verdict's evidence: the target's events in
/// its window, at most [`evidence_log::MAX_EVIDENCE_LOG_LINES`].
pub(super) fn log_block(v: &Verdict, record: &RunRecord) -> String {
    let Some(log) = evidence_log::of(v, record) else {
        return String::new();
    };
    let range = &log.range;
    if log.lines.is_empty() {
        return format!(
            "<p><b>Target log</b> ({range}): the target logged nothing in the evidence window.</p>"
        );
    }
    let mut out = format!(
        "<p><b>Target log</b> ({range}, {} of {} events):</p><pre>{}</pre>",
        log.lines.len(),
        log.total,
        escape(&log.lines.join("\n"))
    );
    if log.total > log.lines.len() {
        out.push_str(
            "<p class=\"note\">The rest: <code>replay --trace</code> prints every event, \
             <code>replay --perfetto FILE</code> draws them.</p>",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::report::evidence_log::fixture;
    use crate::report::html;

    fn page() -> String {
        let (report, record) = fixture::sample();
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
