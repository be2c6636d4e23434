//! What the human views (Markdown and HTML) show alike, computed once so
//! the two never disagree: the availability measurements as labelled rows,
//! history events as Jepsen-style lines, and fixed number formatting.
//!
//! Every number here is formatted with a fixed precision, so a view is as
//! deterministic as the JSON it is drawn from.

use super::RunReport;
use crate::check::Verdict;
use crate::history::{Event, Value, FINAL_READER_PROCESS};
use crate::plan::FaultWindow;
use crate::record::RunRecord;
use serde_json::Value as Json;
use std::fmt::Write;
use std::time::Duration;

/// The invariant whose `details` carry ratios, recovery and latency.
pub(crate) const AVAILABILITY: &str = "availability";

/// A simulated time or a latency for people: `850us`, `2.5ms`, `103ms`,
/// `1.500s`. Unlike [`crate::duration::human`] it keeps one decimal below
/// 10ms, where simulated latencies live and rounding to a whole millisecond
/// would hide differences.
pub(crate) fn time_label(d: Duration) -> String {
    ms_label(d.as_nanos() as f64 / 1e6)
}

/// [`time_label`] for a number of milliseconds, as checkers report them.
pub(crate) fn ms_label(ms: f64) -> String {
    if ms == 0.0 {
        "0ms".to_string()
    } else if ms >= 1000.0 {
        format!("{:.3}s", ms / 1e3)
    } else if ms >= 10.0 {
        format!("{ms:.0}ms")
    } else if ms >= 1.0 {
        format!("{ms:.1}ms")
    } else {
        format!("{:.0}us", ms * 1e3)
    }
}

pub(crate) fn ratio_label(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "n/a".to_string(), |r| format!("{r:.3}"))
}

/// The verdict of the availability invariant, if the scenario has one.
pub(crate) fn availability(report: &RunReport) -> Option<&Verdict> {
    report.verdicts.iter().find(|v| v.invariant == AVAILABILITY)
}

/// Latency of one operation kind, in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LatencyRow {
    pub kind: String,
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The availability checker's measurements, read back from its `details`.
/// Missing keys are left out rather than shown as zero: a view must not
/// invent a measurement the checker did not make.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct AvailabilityNumbers {
    /// (label, value) rows in a fixed order.
    pub measures: Vec<(&'static str, String)>,
    pub latency: Vec<LatencyRow>,
}

impl AvailabilityNumbers {
    pub fn of(verdict: &Verdict) -> AvailabilityNumbers {
        let d = &verdict.details;
        let num = |key: &str| d.get(key).and_then(Json::as_f64);
        let mut measures = Vec::new();
        // The checker's `ok` counts answers (an `ok`, or a `fail` that is a
        // definite no), while `fail` counts every `fail` outcome: the two
        // overlap, so they are shown apart rather than as parts of a whole.
        if let Some(ops) = d.get("operations").and_then(Json::as_u64) {
            let count = |key: &str| d.get(key).and_then(Json::as_u64).unwrap_or(0);
            measures.push(("operations", ops.to_string()));
            measures.push(("answered by the system", count("ok").to_string()));
            measures.push((
                "ended fail / info / degraded",
                format!(
                    "{} / {} / {}",
                    count("fail"),
                    count("info"),
                    count("degraded")
                ),
            ));
        }
        for (key, label) in [
            ("ok_ratio", "ok ratio, overall"),
            ("ok_ratio_during_faults", "ok ratio, during faults"),
            ("ok_ratio_after_heal", "ok ratio, after heal"),
        ] {
            if d.contains_key(key) {
                measures.push((label, ratio_label(num(key))));
            }
        }
        // Present but null: there was a heal and the system never came back.
        if let Some(recovery) = d.get("recovery_time_ms") {
            let value = recovery
                .as_f64()
                .map_or_else(|| "never recovered".to_string(), ms_label);
            measures.push(("recovery time after the last heal", value));
        }
        if let Some(a) = num("retry_amplification") {
            measures.push((
                "retry amplification",
                format!("{a:.2} attempts per request"),
            ));
        }
        let mut latency = Vec::new();
        if let Some(Json::Object(kinds)) = d.get("latency") {
            for (kind, l) in kinds {
                let field = |key: &str| l.get(key).and_then(Json::as_f64).unwrap_or(0.0);
                latency.push(LatencyRow {
                    kind: kind.clone(),
                    count: l.get("count").and_then(Json::as_u64).unwrap_or(0),
                    p50_ms: field("p50_ms"),
                    p90_ms: field("p90_ms"),
                    p99_ms: field("p99_ms"),
                    max_ms: field("max_ms"),
                });
            }
        }
        AvailabilityNumbers { measures, latency }
    }
}

/// One history event as Jepsen writes it, with the simulated time in front
/// for people: `   3.012s  {:type :fail, :f :read, :key "k0", :value nil,
/// :process 2, :time 3012000000, :error :timeout}`.
pub(crate) fn history_line(event: &Event) -> String {
    let mut line = format!(
        "{:>9}  {{:type :{}, :f :{}",
        time_label(Duration::from_nanos(event.time_ns)),
        event.kind.as_str(),
        event.op.f.as_str()
    );
    if let Some(key) = &event.op.key {
        let _ = write!(line, ", :key {}", Value::Str(key.clone()));
    }
    let _ = write!(
        line,
        ", :value {}, :process {}, :time {}",
        event.op.value,
        process_label(event.process),
        event.time_ns
    );
    if event.attempts > 0 {
        let _ = write!(line, ", :attempts {}", event.attempts);
    }
    if event.degraded {
        line.push_str(", :degraded true");
    }
    if let Some(error) = &event.error {
        let keyword = !error.is_empty()
            && error
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if keyword {
            let _ = write!(line, ", :error :{error}");
        } else {
            let _ = write!(line, ", :error {}", Value::Str(error.clone()));
        }
    }
    line.push('}');
    line
}

/// Workload processes by number; the final reader (numbered far above
/// them) as `final+N`, so nobody has to recognise 2^40.
pub(crate) fn process_label(process: u64) -> String {
    if process >= FINAL_READER_PROCESS {
        format!("final+{}", process - FINAL_READER_PROCESS)
    } else {
        process.to_string()
    }
}

/// The plan's fault windows, each aimed at a role labelled with the host it
/// hit when it fired (`crash role:leader -> n2`), or with nobody.
pub(crate) fn fault_windows(report: &RunReport) -> Vec<FaultWindow> {
    let mut windows = report.plan.fault_windows.clone();
    for w in &mut windows {
        let hits: Vec<String> = report
            .fault_hits
            .iter()
            .filter(|h| h.id == w.id)
            .map(|h| match h.hosts.as_slice() {
                [] => format!("{}: nobody", h.target),
                hosts => hosts.join(","),
            })
            .collect();
        if !hits.is_empty() {
            let _ = write!(w.label, " -> {}", hits.join(", "));
        }
    }
    windows
}

/// Cap on role spans a view lists.
pub(crate) const MAX_ROLE_ROWS: usize = 40;

/// Who held which role when, for the views: `[role, host, from, to]` in
/// the order the spans began, at most [`MAX_ROLE_ROWS`], and how many more
/// there were.
pub(crate) fn role_rows(record: &RunRecord) -> (Vec<[String; 4]>, usize) {
    let mut spans = Vec::new();
    for role in record.roles.roles() {
        spans.extend(record.roles.spans(role));
    }
    spans.sort_by(|a, b| (a.start_ns, &a.host).cmp(&(b.start_ns, &b.host)));
    let more = spans.len().saturating_sub(MAX_ROLE_ROWS);
    let rows = spans
        .into_iter()
        .take(MAX_ROLE_ROWS)
        .map(|s| {
            [
                s.role,
                s.host,
                time_label(Duration::from_nanos(s.start_ns)),
                s.end_ns.map_or_else(
                    || "end of run".to_string(),
                    |e| time_label(Duration::from_nanos(e)),
                ),
            ]
        })
        .collect();
    (rows, more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{EventType, Op, OpKind};
    use serde_json::json;

    #[test]
    fn times_keep_a_decimal_where_simulated_latencies_live() {
        assert_eq!(ms_label(0.0), "0ms");
        assert_eq!(ms_label(0.5), "500us");
        assert_eq!(ms_label(2.0), "2.0ms");
        assert_eq!(ms_label(2.26), "2.3ms");
        assert_eq!(ms_label(103.0), "103ms");
        assert_eq!(ms_label(1500.0), "1.500s");
    }

    #[test]
    fn history_lines_read_like_jepsen() {
        let event = Event {
            time_ns: 3_012_000_000,
            process: 2,
            kind: EventType::Fail,
            op: Op {
                f: OpKind::Read,
                key: Some("k0".into()),
                value: Value::Nil,
            },
            attempts: 3,
            degraded: false,
            error: Some("timeout".into()),
        };
        assert_eq!(
            history_line(&event),
            "   3.012s  {:type :fail, :f :read, :key \"k0\", :value nil, :process 2, \
             :time 3012000000, :attempts 3, :error :timeout}"
        );
    }

    #[test]
    fn a_null_recovery_time_means_never_recovered() {
        let v = Verdict::fail("availability", "x")
            .with_detail("recovery_time_ms", Json::Null)
            .with_detail("ok_ratio", json!(0.5))
            .with_detail("latency", json!({"read": {"count": 2, "p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": 2.0, "max_ms": 2.0}}));
        let n = AvailabilityNumbers::of(&v);
        assert!(n
            .measures
            .contains(&("ok ratio, overall", "0.500".to_string())));
        assert!(n.measures.contains(&(
            "recovery time after the last heal",
            "never recovered".to_string()
        )));
        assert_eq!(n.latency[0].kind, "read");
        assert_eq!(n.latency[0].count, 2);
    }
}
