//! HTML: one self-contained page that shows *when* a run went wrong.
//!
//! Jepsen's habit, kept here: faults drawn as shaded, labelled bands across
//! a timeline of operations, and a latency plot under the same bands, so the
//! eye connects a partition with the failures and the slow requests it
//! caused. The page loads nothing — no scripts, fonts or stylesheets from
//! anywhere — so it can be attached to a CI run and still open years later.
//! Every piece of text goes through [`escape`], and every number is
//! formatted with a fixed precision, so the same report gives the same
//! bytes.
//!
//! The timeline has one row per logical client (a client replaced after an
//! `info` keeps its row, as Jepsen's process numbering intends), plus one
//! for the final reads. Browsers slow down on tens of thousands of SVG
//! elements, so marks are capped; beyond a cap a fixed stride of them is
//! drawn and the page says so.
//!
//! The page is assembled here from its parts: `scale.rs` maps simulated
//! time to x and draws the time axis, `bands.rs` the shaded fault bands and
//! their labels, `timeline.rs` the rows of operations, `latency.rs` the
//! latency plot under the same bands, `tables.rs` the verdicts, measures,
//! faults and panics, `evidence.rs` which operations and log events belong
//! to a failed invariant's evidence, and `style.rs` the one inline
//! stylesheet.

mod bands;
mod evidence;
mod latency;
mod markers;
mod scale;
mod style;
mod tables;
mod timeline;

use super::view::{self, AvailabilityNumbers};
use super::{replay_command, RunReport};
use crate::history::{Operation, Outcome};
use crate::record::RunRecord;
use scale::TimeScale;
use std::fmt::Write;
use std::time::Duration;

/// Most operations drawn on the timeline.
pub const MAX_OP_MARKS: usize = 4_000;

/// Most points drawn on the latency plot.
pub const MAX_LATENCY_POINTS: usize = 4_000;

/// Most trace events (faults applied, host changes, logs) drawn as ticks.
pub const MAX_TRACE_MARKS: usize = 400;

/// Most client rows; clients beyond it share rows (client `i` is drawn in
/// row `i % MAX_CLIENT_ROWS`).
pub const MAX_CLIENT_ROWS: usize = 32;

/// History lines shown per failed invariant.
pub const MAX_EVIDENCE_LINES: usize = 40;

// Geometry of both plots, in SVG user units; the SVGs scale to the page.
const WIDTH: f64 = 1200.0;

const PLOT_LEFT: f64 = 100.0;

const PLOT_RIGHT: f64 = 1165.0;

const LANE_HEIGHT: f64 = 18.0;

const ROW_HEIGHT: f64 = 22.0;

const AXIS_HEIGHT: f64 = 36.0;

const LATENCY_PLOT_HEIGHT: f64 = 280.0;

/// Average width of a label character at the 11px font, for keeping fault
/// labels from overlapping without measuring text.
const CHAR_WIDTH: f64 = 7.0;

/// The report of one run as a page.
pub fn render(report: &RunReport, record: &RunRecord) -> String {
    let status = report.status.as_str();
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>{} {} seed {} · chaos report</title>",
        super::text::status_word(report.status),
        escape(&report.scenario.name),
        report.seed
    );
    let _ = writeln!(out, "<style>{}</style>\n</head>\n<body>", style::STYLE);

    let _ = writeln!(out, "<header class=\"{status}\">");
    let _ = writeln!(
        out,
        "<h1><span class=\"badge {status}\">{}</span> {} <span class=\"seed\">seed {}</span></h1>",
        super::text::status_word(report.status),
        escape(&report.scenario.name),
        report.seed
    );
    if !report.scenario.description.trim().is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"description\">{}</p>",
            escape(report.scenario.description.trim())
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"facts\">{} simulated · {} operations · run {} · trace <code>{}</code> · harness {}</p>",
        view::time_label(report.run.simulated),
        report.history.operations,
        escape(&report.run.end.describe()),
        escape(&report.trace_hash),
        escape(&report.harness_version)
    );
    let _ = writeln!(
        out,
        "<p class=\"replay\">Replay: <code>{}</code></p>\n</header>\n<main>",
        escape(&replay_command(&report.replay))
    );

    let ops = record.history.operations();
    let scale = TimeScale::of(report, record);
    let windows = &view::fault_windows(report);

    out.push_str("<section>\n<h2>Timeline</h2>\n");
    out.push_str(&bands::legend(windows));
    match &ops {
        Ok(ops) => timeline::timeline(
            &mut out,
            &scale,
            windows,
            &timeline::Rows {
                ops,
                evidence: &evidence::EvidenceOps::of(report),
                trace: &record.trace,
                clients: report.plan.workload.clients,
            },
            report.recovery.as_ref(),
        ),
        Err(err) => {
            let _ = writeln!(
                out,
                "<p class=\"note\">The history is malformed ({}), so no operations are drawn.</p>",
                escape(&err.to_string())
            );
        }
    }
    out.push_str("</section>\n");

    out.push_str("<section>\n<h2>Latency</h2>\n");
    if let Ok(ops) = &ops {
        latency::latency_plot(&mut out, &scale, windows, ops);
    }
    out.push_str("</section>\n");

    tables::verdicts(&mut out, report, record);
    if let Some(verdict) = view::availability(report) {
        tables::measures(&mut out, &AvailabilityNumbers::of(verdict));
    }
    tables::faults(&mut out, windows);
    tables::panics(&mut out, &record.trace);

    out.push_str("</main>\n<footer>");
    let _ = write!(
        out,
        "chaos harness {}. report.json beside this page is the canonical report; this page is a view of it.",
        escape(&report.harness_version)
    );
    out.push_str("</footer>\n</body>\n</html>\n");
    out
}

/// Escapes text for HTML element content and attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// SVG coordinates with one decimal: fine enough for any screen, and a
/// fixed spelling for deterministic output.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// The class an operation is drawn with. A `fail` the system answered (a
/// compare-and-set whose compare did not match: a definite, correct "no")
/// is a normal outcome, drawn apart from a `fail` that is an error.
fn op_class(op: &Operation) -> &'static str {
    match op.outcome {
        Outcome::Ok => "ok",
        Outcome::Fail if op.answered() => "answered",
        Outcome::Fail => "fail",
        Outcome::Info => "info",
    }
}

/// How an operation's outcome is spelled in its tooltip.
fn outcome_word(op: &Operation) -> &'static str {
    match op.outcome {
        Outcome::Ok => "ok",
        Outcome::Fail if op.answered() => "fail (answered: a definite no)",
        Outcome::Fail => "fail",
        Outcome::Info => "info",
    }
}

/// Every `stride`-th item, with a stride that keeps at most `limit`.
fn sample<T>(items: &[T], limit: usize) -> (Vec<&T>, usize) {
    let stride = items.len().div_ceil(limit.max(1)).max(1);
    (items.iter().step_by(stride).collect(), stride)
}

fn sampled_note(out: &mut String, what: &str, stride: usize, shown: usize, total: usize) {
    if stride > 1 {
        let _ = writeln!(
            out,
            "<p class=\"note\">Drawn: 1 in every {stride} {what}s ({shown} of {total}), a cap that \
             keeps this page fast; every count and verdict uses all of them.</p>"
        );
    }
}

fn op_title(op: &Operation) -> String {
    let mut title = format!("p{} {}", view::process_label(op.process), op.f.as_str());
    if let Some(key) = &op.key {
        let _ = write!(title, " {key}");
    }
    let _ = write!(title, " {} → {}", op.input, outcome_word(op));
    if op.outcome == Outcome::Ok && !op.output.is_nil() && op.output != op.input {
        let _ = write!(title, " {}", op.output);
    }
    if let Some(error) = &op.error {
        let _ = write!(title, " ({error})");
    }
    match op.latency_ns() {
        Some(l) => {
            let _ = write!(
                title,
                " after {}",
                view::time_label(Duration::from_nanos(l))
            );
        }
        None => title.push_str(", never completed"),
    }
    let _ = write!(
        title,
        "; invoked at {}",
        view::time_label(Duration::from_nanos(op.invoke_ns))
    );
    title
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;
    use crate::history::{Event, EventType, Op, OpKind, Value};
    use crate::plan;
    use crate::record::{RunEnd, RunLog};
    use crate::scenario::{FaultEventSpec, ScenarioBuilder, Topology};

    /// A run with `ops` reads, one every 10ms (wrapping at 9s) from four
    /// processes, unknown while the server is isolated from 2s to 4s.
    fn run(description: &str, ops: u64) -> (RunReport, RunRecord) {
        let scenario = ScenarioBuilder::new("html-test", "register")
            .description(description)
            .clients(4)
            .duration(Duration::from_secs(10))
            .fault(FaultEventSpec::Isolate {
                at: Duration::from_secs(2),
                duration: Some(Duration::from_secs(2)),
                host: "server".into(),
            })
            .build();
        let topology = Topology {
            servers: vec!["server".into()],
            clients: vec!["client-0".into()],
        };
        let plan = plan::expand(&scenario, &topology, 7);
        let mut log = RunLog::new(usize::MAX, 1000);
        for i in 0..ops {
            let t = i * 10_000_000 % 9_000_000_000;
            let down = (2_000_000_000..4_000_000_000).contains(&t);
            let event = |kind, time_ns| Event {
                time_ns,
                process: i % 4,
                kind,
                op: Op {
                    f: OpKind::Read,
                    key: Some("k0".into()),
                    value: Value::Nil,
                },
                attempts: 1,
                degraded: false,
                error: down.then(|| "timeout".to_string()),
            };
            log.push_event(event(EventType::Invoke, t));
            log.push_event(event(
                if down { EventType::Info } else { EventType::Ok },
                t + 2_000_000,
            ));
        }
        let record = log.finish(RunEnd::Completed, Duration::from_secs(10), 10_000);
        let verdicts = vec![
            Verdict::pass("run", "completed"),
            Verdict::fail("availability", "ok ratio 0.8 < 0.9 <b>")
                .with_expected("ok ratio >= 0.9 overall")
                .with_evidence(record.history.events.iter().take(4).cloned().collect()),
        ];
        let report = RunReport::new(&scenario, None, &[], &plan, &record, verdicts);
        (report, record)
    }

    #[test]
    fn escapes_text_from_the_scenario_and_checkers() {
        let (report, record) = run("<script>alert('x')</script> & more", 100);
        let html = render(&report, &record);
        assert!(
            !html.contains("<script"),
            "a description must not become a script"
        );
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(html.contains("ok ratio 0.8 &lt; 0.9 &lt;b&gt;"));
        assert_eq!(
            escape("\"a\" <b> & 'c'"),
            "&quot;a&quot; &lt;b&gt; &amp; &#39;c&#39;"
        );
    }

    #[test]
    fn the_page_loads_nothing_from_anywhere() {
        let (report, record) = run("plain", 100);
        let html = render(&report, &record);
        for needle in [
            "<script", "<link", "src=", "href=", "url(", "@import", "http:", "https:",
        ] {
            assert!(!html.contains(needle), "found {needle}");
        }
    }

    #[test]
    fn draws_bands_marks_and_points_and_is_deterministic() {
        let (report, record) = run("plain", 300);
        let html = render(&report, &record);
        assert_eq!(html, render(&report, &record));
        assert!(html.contains("partition [server] | [client-0]"));
        assert!(
            html.contains("fill-opacity=\"0.16\""),
            "a shaded fault band"
        );
        assert_eq!(
            html.matches("<circle ").count(),
            300,
            "one latency point per completed op"
        );
        assert!(html.matches("class=\"info\"><title>").count() > 0);
        assert!(
            !html.contains("Drawn: 1 in"),
            "nothing sampled under the cap"
        );
    }

    #[test]
    fn caps_the_marks_and_says_so() {
        let (report, record) = run("plain", 10_000);
        let html = render(&report, &record);
        let rects = html.matches("class=\"ok\"><title>").count()
            + html.matches("class=\"info\"><title>").count()
            + html.matches("class=\"fail\"><title>").count();
        let circles = html.matches("<circle ").count();
        assert!(circles <= MAX_LATENCY_POINTS, "{circles}");
        assert!(rects - circles <= MAX_OP_MARKS, "{rects}");
        assert!(
            html.contains("Drawn: 1 in every 3 operations (3334 of 10000)"),
            "the page says it sampled"
        );
    }
}
