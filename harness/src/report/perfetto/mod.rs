//! Perfetto export: one run as Chrome trace-event JSON, which
//! ui.perfetto.dev (and chrome://tracing) open.
//!
//! The model: simulated time is the trace's clock (`ts` in microseconds,
//! exact to the nanosecond), and the run's actors are its tracks, grouped
//! in four processes:
//!
//! - **nemesis**: each fault window as a slice (lanes where faults
//!   overlap), the fault events the nemesis applied as instants, and the
//!   detect / impact / recover times of each fault as instants;
//! - **servers**: per server host, its trace events (the target's
//!   `tracing` events with their fields, crashes, restarts, role changes,
//!   panics) as instants, and the roles it held as slices;
//! - **clients**: per client host, its trace events; per logical client
//!   (a row of the HTML timeline), its operations as slices from invoke to
//!   completion, named by outcome so Perfetto, which colours a slice by a
//!   hash of its name, gives each outcome one colour; the final reads on
//!   their own track;
//! - **other**: trace events from any other source.
//!
//! Built from the plan, the report and the run record only (never the
//! simulator), with fixed track numbering, sorted map keys and integer
//! time arithmetic, so the same run gives the same bytes.

mod tracks;

use super::{view, write_atomic_with, RunReport};
use crate::history::{Operation, FINAL_READER_PROCESS};
use crate::record::{RunRecord, TraceEvent, TraceKind};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::Duration;
use tracks::{Instant, Slice, Track, TrackSet, PROCESS_NAMES};

/// The trace file's name in a run folder.
pub const PERFETTO_JSON: &str = "perfetto.json";

/// Which seeds of `chaos run` get a Perfetto trace beside their report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PerfettoExport {
    /// Seeds that did not pass (failed or unknown).
    #[default]
    Failing,
    /// Every seed.
    All,
    /// No seed.
    None,
}

impl PerfettoExport {
    /// Whether a seed that ended with `passed` gets its trace written.
    pub fn writes(self, passed: bool) -> bool {
        match self {
            PerfettoExport::Failing => !passed,
            PerfettoExport::All => true,
            PerfettoExport::None => false,
        }
    }
}

/// Writes the trace of one run to `path`, atomically.
pub fn write_file(path: &Path, report: &RunReport, record: &RunRecord) -> io::Result<()> {
    write_atomic_with(path, |out| write_trace(out, report, record))
}

/// The trace of one run as a string (tests, small runs).
pub fn render(report: &RunReport, record: &RunRecord) -> String {
    let mut out = Vec::new();
    write_trace(&mut out, report, record).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes the trace of one run, one event a line, as it goes.
pub fn write_trace(
    out: &mut dyn io::Write,
    report: &RunReport,
    record: &RunRecord,
) -> io::Result<()> {
    let sets = track_sets(report, record);
    let other = json!({
        "scenario": report.scenario.name,
        "seed": report.seed,
        "status": report.status.as_str(),
        "replay": super::replay_command(&report.replay),
        "trace_hash": report.trace_hash,
        "harness_version": report.harness_version,
    });
    writeln!(
        out,
        "{{\"displayTimeUnit\":\"ns\",\"otherData\":{other},\"traceEvents\":["
    )?;
    let mut first = true;
    let mut emit = |out: &mut dyn io::Write, event: Json| -> io::Result<()> {
        if !first {
            out.write_all(b",\n")?;
        }
        first = false;
        serde_json::to_writer(&mut *out, &event)?;
        Ok(())
    };
    for (pid, name) in PROCESS_NAMES {
        if !sets.iter().any(|s| s.pid == pid && !s.tracks.is_empty()) {
            continue;
        }
        emit(out, meta(pid, 0, "process_name", json!({ "name": name })))?;
        emit(
            out,
            meta(pid, 0, "process_sort_index", json!({ "sort_index": pid })),
        )?;
    }
    for track in sets.iter().flat_map(|s| &s.tracks) {
        emit(
            out,
            meta(
                track.pid,
                track.tid,
                "thread_name",
                json!({ "name": track.name }),
            ),
        )?;
        emit(
            out,
            meta(
                track.pid,
                track.tid,
                "thread_sort_index",
                json!({ "sort_index": track.tid }),
            ),
        )?;
    }
    for track in sets.iter().flat_map(|s| &s.tracks) {
        for event in track_events(track) {
            emit(out, event)?;
        }
    }
    out.write_all(b"\n]}\n")
}

fn meta(pid: u64, tid: u64, name: &str, args: Json) -> Json {
    json!({ "ph": "M", "pid": pid, "tid": tid, "name": name, "args": args })
}

/// Simulated nanoseconds as trace microseconds: exact, since a double
/// holds every nanosecond count below 2^53 (104 days) and `ns / 1000` is
/// then correctly rounded to the shortest decimal that reads back.
fn ts(ns: u64) -> Json {
    json!(ns as f64 / 1000.0)
}

/// A track's events in time order: each slice as a `B` and an `E`, each
/// instant as an `i` (thread-scoped).
fn track_events(track: &Track) -> Vec<Json> {
    let mut events = Vec::with_capacity(track.slices.len() * 2 + track.instants.len());
    for s in &track.slices {
        let mut begin = json!({
            "ph": "B", "pid": track.pid, "tid": track.tid, "ts": ts(s.start_ns),
            "name": s.name, "cat": s.cat, "args": s.args,
        });
        if let Some(cname) = s.cname {
            begin["cname"] = json!(cname);
        }
        events.push(begin);
        events.push(json!({ "ph": "E", "pid": track.pid, "tid": track.tid, "ts": ts(s.end_ns) }));
    }
    for i in &track.instants {
        events.push(json!({
            "ph": "i", "s": "t", "pid": track.pid, "tid": track.tid, "ts": ts(i.time_ns),
            "name": i.name, "cat": i.cat, "args": i.args,
        }));
    }
    events
}

fn time_text(ns: u64) -> Json {
    json!(view::time_label(Duration::from_nanos(ns)))
}

fn track_sets(report: &RunReport, record: &RunRecord) -> Vec<TrackSet> {
    let run_end_ns = record.elapsed.as_nanos() as u64;
    // Trace events by source, each list in recorded (time) order.
    let mut by_source: BTreeMap<&str, Vec<&TraceEvent>> = BTreeMap::new();
    for t in &record.trace {
        by_source.entry(t.source.as_str()).or_default().push(t);
    }

    let mut nemesis = TrackSet::new(tracks::PID_NEMESIS);
    let mut faults: Vec<Slice> = view::fault_windows(report)
        .into_iter()
        .map(|w| {
            let start_ns = w.start.as_nanos() as u64;
            let end_ns = w.end.map_or(run_end_ns, |e| e.as_nanos() as u64);
            let mut args = Map::new();
            args.insert("fault".into(), json!(w.id));
            args.insert("start".into(), time_text(start_ns));
            args.insert(
                "end".into(),
                w.end
                    .map_or(json!("not healed"), |e| time_text(e.as_nanos() as u64)),
            );
            Slice {
                name: w.label,
                cat: "fault",
                cname: Some("terrible"),
                start_ns,
                end_ns: end_ns.max(start_ns),
                args,
            }
        })
        .collect();
    faults.sort_by_key(|s| s.start_ns);
    nemesis.lanes("faults", faults);
    nemesis.instants(
        "applied",
        by_source
            .remove("nemesis")
            .unwrap_or_default()
            .into_iter()
            .map(trace_instant)
            .collect(),
    );
    if let Some(recovery) = &report.recovery {
        nemesis.instants("recovery", recovery_instants(recovery));
    }

    let mut servers = TrackSet::new(tracks::PID_SERVERS);
    for host in &report.plan.servers {
        host_tracks(&mut servers, host, &mut by_source, record);
    }
    let mut clients = TrackSet::new(tracks::PID_CLIENTS);
    for host in &report.plan.clients {
        host_tracks(&mut clients, host, &mut by_source, record);
    }
    if let Ok(ops) = record.history.operations() {
        operation_tracks(&mut clients, &ops, report.plan.workload.clients, run_end_ns);
    }
    let mut other = TrackSet::new(tracks::PID_OTHER);
    let rest: Vec<String> = by_source.keys().map(|s| s.to_string()).collect();
    for source in rest {
        host_tracks(&mut other, &source, &mut by_source, record);
    }
    vec![nemesis, servers, clients, other]
}

/// A host's trace events as instants, and the roles it held as slices.
fn host_tracks(
    set: &mut TrackSet,
    host: &str,
    by_source: &mut BTreeMap<&str, Vec<&TraceEvent>>,
    record: &RunRecord,
) {
    let events = by_source.remove(host).unwrap_or_default();
    set.instants(host, events.into_iter().map(trace_instant).collect());
    let run_end_ns = record.elapsed.as_nanos() as u64;
    let mut roles: Vec<Slice> = Vec::new();
    for role in record.roles.roles() {
        for span in record
            .roles
            .spans(role)
            .into_iter()
            .filter(|s| s.host == host)
        {
            let end_ns = span.end_ns.unwrap_or(run_end_ns).max(span.start_ns);
            roles.push(Slice {
                name: span.role.clone(),
                cat: "role",
                cname: None,
                start_ns: span.start_ns,
                end_ns,
                args: Map::new(),
            });
        }
    }
    if !roles.is_empty() {
        roles.sort_by(|a, b| (a.start_ns, &a.name).cmp(&(b.start_ns, &b.name)));
        set.lanes(&format!("{host} roles"), roles);
    }
}

fn trace_instant(t: &TraceEvent) -> Instant {
    let cat = match t.kind {
        TraceKind::Fault => "fault",
        TraceKind::Host => "host",
        TraceKind::Log => "log",
        TraceKind::Panic => "panic",
        TraceKind::Role => "role",
    };
    let mut args = Map::new();
    if let Some(level) = &t.level {
        args.insert("level".into(), json!(level));
    }
    if let Some(target) = &t.target {
        args.insert("target".into(), json!(target));
    }
    for (key, value) in &t.fields {
        // A field named like one of ours keeps both: the field is prefixed.
        let key = if args.contains_key(key) {
            format!("field.{key}")
        } else {
            key.clone()
        };
        args.insert(key, json!(value));
    }
    Instant {
        name: t.message.clone(),
        cat,
        time_ns: t.time_ns,
        args,
    }
}

fn recovery_instants(recovery: &crate::check::recovery::RecoveryReport) -> Vec<Instant> {
    let mut instants = Vec::new();
    for f in &recovery.faults {
        let mut mark = |what: &str, at_ns: u64, after_ns: u64, extra: Option<(&str, String)>| {
            let mut args = Map::new();
            args.insert("fault".into(), json!(f.fault));
            args.insert("kind".into(), json!(f.kind));
            args.insert(format!("time_to_{what}"), time_text(after_ns));
            if let Some((key, value)) = extra {
                args.insert(key.into(), json!(value));
            }
            instants.push(Instant {
                name: format!("{what} (fault {})", f.fault),
                cat: "recovery",
                time_ns: at_ns,
                args,
            });
        };
        if let Some(d) = &f.detected {
            mark(
                "detect",
                d.at_ns,
                d.time_to_detect_ns,
                Some(("signal", d.signal.clone())),
            );
        }
        if let Some(i) = &f.impact {
            mark(
                "impact",
                i.at_ns,
                i.time_to_impact_ns,
                Some(("op", i.f.as_str().to_string())),
            );
        }
        if let Some(r) = &f.recovered {
            mark("recover", r.at_ns, r.time_to_recover_ns, None);
        }
    }
    instants.sort_by_key(|i| i.time_ns);
    instants
}

/// Operations on one track per logical client (client `i` is process
/// `i mod clients`: a process replaced after an `info` keeps its client's
/// track) and one for the final reads. An operation that never completed
/// runs to the end of the run.
fn operation_tracks(set: &mut TrackSet, ops: &[Operation], clients: u32, run_end_ns: u64) {
    let clients = u64::from(clients.max(1));
    let mut rows: BTreeMap<u64, Vec<Slice>> = BTreeMap::new();
    for op in ops {
        let row = if op.process >= FINAL_READER_PROCESS {
            u64::MAX
        } else {
            op.process % clients
        };
        rows.entry(row).or_default().push(op_slice(op, run_end_ns));
    }
    for (row, mut slices) in rows {
        slices.sort_by_key(|s| s.start_ns);
        let name = if row == u64::MAX {
            "final reads".to_string()
        } else {
            format!("client {row}")
        };
        set.lanes(&name, slices);
    }
}

fn op_slice(op: &Operation, run_end_ns: u64) -> Slice {
    let (name, cname) = tracks::outcome_style(op.outcome, op.answered());
    let mut args = Map::new();
    args.insert("process".into(), json!(view::process_label(op.process)));
    args.insert("f".into(), json!(op.f.as_str()));
    if let Some(key) = &op.key {
        args.insert("key".into(), json!(key));
    }
    args.insert("value".into(), json!(op.input.to_string()));
    if !op.output.is_nil() {
        args.insert("output".into(), json!(op.output.to_string()));
    }
    if let Some(error) = &op.error {
        args.insert("error".into(), json!(error));
    }
    args.insert("attempts".into(), json!(op.attempts));
    if op.degraded {
        args.insert("degraded".into(), json!(true));
    }
    args.insert("invoke_index".into(), json!(op.invoke_index));
    match op.latency_ns() {
        Some(l) => args.insert("latency".into(), time_text(l)),
        None => args.insert("latency".into(), json!("never completed")),
    };
    Slice {
        // The outcome alone: Perfetto colours by name, so each outcome gets
        // one colour; what the operation was is in its arguments.
        name: name.to_string(),
        cat: "op",
        cname: Some(cname),
        start_ns: op.invoke_ns,
        end_ns: op.complete_ns.unwrap_or(run_end_ns).max(op.invoke_ns),
        args,
    }
}
