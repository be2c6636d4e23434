//! Perfetto export: the trace-event JSON of a run parses, has a track per
//! server, per client host, per logical client and for the nemesis, pairs
//! every slice's begin with its end on the same track, keeps each track's
//! timestamps in order, holds every operation, fault window and target
//! log event of the run, and is the same bytes for the same seed. The CLI
//! writes it for `replay --perfetto FILE` and beside each failing seed's
//! report in `run`.

mod common;
use common::*;

use harness::history::{Outcome, FINAL_READER_PROCESS};
use harness::record::TraceKind;
use harness::report::{perfetto, PERFETTO_JSON};
use harness::suite::{execute, ExecOptions, LoadedScenario};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn bundled(name: &str) -> LoadedScenario {
    let path = repo_root().join("scenarios").join(format!("{name}.toml"));
    LoadedScenario::from_file(&path, &[], &target_sims::registry())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Trace events by phase, and track names by (pid, tid).
struct Parsed {
    events: Vec<Value>,
    processes: BTreeMap<u64, String>,
    threads: BTreeMap<(u64, u64), String>,
}

fn parse(text: &str) -> Parsed {
    let doc: Value = serde_json::from_str(text).expect("the trace is one JSON document");
    assert_eq!(doc["displayTimeUnit"], "ns");
    let events = doc["traceEvents"].as_array().expect("traceEvents").clone();
    let mut processes = BTreeMap::new();
    let mut threads = BTreeMap::new();
    for e in &events {
        let pid = e["pid"].as_u64().expect("every event has a pid");
        let tid = e["tid"].as_u64().expect("every event has a tid");
        if e["ph"] == "M" && e["name"] == "process_name" {
            processes.insert(pid, e["args"]["name"].as_str().unwrap().to_string());
        }
        if e["ph"] == "M" && e["name"] == "thread_name" {
            let name = e["args"]["name"].as_str().unwrap().to_string();
            assert!(
                threads.insert((pid, tid), name).is_none(),
                "one name per track"
            );
        }
    }
    Parsed {
        events,
        processes,
        threads,
    }
}

fn ts_ns(e: &Value) -> u64 {
    (e["ts"].as_f64().expect("a timestamp") * 1000.0).round() as u64
}

#[test]
fn a_run_exports_as_well_formed_tracks_holding_everything_it_recorded() {
    let loaded = bundled("kv-leader-isolate");
    let run = execute(&loaded, 0, &ExecOptions::default());
    let text = perfetto::render(&run.report, &run.record);
    let p = parse(&text);

    // Tracks: the four processes that have tracks, a track per server and
    // client host, the nemesis' faults, and a track per logical client.
    let names: BTreeSet<&str> = p.processes.values().map(String::as_str).collect();
    for process in ["nemesis", "servers", "clients"] {
        assert!(names.contains(process), "{names:?}");
    }
    let track_names: BTreeSet<&str> = p.threads.values().map(String::as_str).collect();
    for host in run.plan.servers.iter().chain(&run.plan.clients) {
        assert!(
            track_names.contains(host.as_str()),
            "{host}: {track_names:?}"
        );
    }
    assert!(track_names.contains("faults"));
    let ops = run.record.history.operations().unwrap();
    let clients = u64::from(run.plan.workload.clients);
    for process in ops.iter().map(|o| o.process) {
        if process < FINAL_READER_PROCESS {
            let name = format!("client {}", process % clients);
            assert!(track_names.contains(name.as_str()), "{name}");
        }
    }
    for e in &p.events {
        let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
        if e["ph"] != "M" {
            assert!(
                p.threads.contains_key(&key),
                "an event on an unnamed track: {e}"
            );
        }
    }

    // Per track: timestamps never go back, and every B is closed by the
    // next E on its track (slices on one track never overlap).
    let mut last_ts: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    let mut open: BTreeMap<(u64, u64), &Value> = BTreeMap::new();
    let mut slices: Vec<(&Value, u64, u64)> = Vec::new();
    for e in p.events.iter().filter(|e| e["ph"] != "M") {
        let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
        let t = ts_ns(e);
        let last = last_ts.entry(key).or_insert(0);
        assert!(t >= *last, "time went back on {}: {e}", p.threads[&key]);
        *last = t;
        match e["ph"].as_str().unwrap() {
            "B" => assert!(open.insert(key, e).is_none(), "nested B: {e}"),
            "E" => {
                let begin = open.remove(&key).expect("an E without its B");
                slices.push((begin, ts_ns(begin), t));
            }
            "i" => assert_eq!(e["s"], "t", "thread-scoped instants"),
            other => panic!("unexpected phase {other}"),
        }
    }
    assert!(open.is_empty(), "unclosed slices: {open:?}");

    // Every operation, once, with its times and outcome.
    let op_slices: BTreeMap<u64, (&Value, u64, u64)> = slices
        .iter()
        .filter(|(b, _, _)| b["cat"] == "op")
        .map(|&(b, s, e)| (b["args"]["invoke_index"].as_u64().unwrap(), (b, s, e)))
        .collect();
    assert_eq!(op_slices.len(), ops.len(), "one slice per operation");
    for op in &ops {
        let (b, start, end) = op_slices[&(op.invoke_index as u64)];
        assert_eq!(start, op.invoke_ns);
        if let Some(done) = op.complete_ns {
            assert_eq!(end, done);
        }
        assert_eq!(b["args"]["f"], op.f.as_str());
        let name = match op.outcome {
            Outcome::Ok => "ok",
            Outcome::Fail if op.answered() => "fail (answered)",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
        };
        assert_eq!(b["name"], name);
    }
    assert!(
        ops.iter().any(|o| o.outcome != Outcome::Ok),
        "the isolation leaves some operations not ok, so outcomes are compared"
    );

    // Every fault window as a slice on the nemesis' tracks.
    let fault_slices = slices
        .iter()
        .filter(|(b, _, _)| b["cat"] == "fault")
        .count();
    assert_eq!(fault_slices, run.plan.fault_windows.len());
    assert!(fault_slices > 0);

    // Every target log event as an instant with its fields.
    let logs: Vec<&Value> = p
        .events
        .iter()
        .filter(|e| e["ph"] == "i" && e["cat"] == "log")
        .collect();
    let recorded: Vec<_> = run
        .record
        .trace
        .iter()
        .filter(|t| t.kind == TraceKind::Log)
        .collect();
    assert_eq!(logs.len(), recorded.len());
    assert!(!recorded.is_empty(), "the kv store logs its elections");
    let with_fields = recorded.iter().find(|t| !t.fields.is_empty()).unwrap();
    let (key, value) = &with_fields.fields[0];
    assert!(
        logs.iter()
            .any(|e| e["name"] == with_fields.message.as_str()
                && ts_ns(e) == with_fields.time_ns
                && e["args"][key] == value.as_str()),
        "a log instant carries its fields"
    );

    // Same seed, same bytes.
    let again = execute(&loaded, 0, &ExecOptions::default());
    assert_eq!(text, perfetto::render(&again.report, &again.record));
}

#[test]
fn replay_and_run_write_the_trace_where_asked() {
    let dir = scratch("perfetto-cli");
    let file = dir.join("trace.json");
    let out = chaos(&[
        "replay",
        "register-isolate",
        "--seed",
        "1",
        "--perfetto",
        file.to_str().unwrap(),
        "--report-dir",
        dir.join("replay").to_str().unwrap(),
    ]);
    assert!(code(&out) <= 1, "{}", stderr(&out));
    assert!(stdout(&out).contains("trace.json (for ui.perfetto.dev)"));
    let p = parse(&std::fs::read_to_string(&file).unwrap());
    assert!(p.threads.values().any(|t| t == "faults"));

    // `run`: failing seeds only by default, every seed with `all`.
    let run = |which: Option<&str>, sub: &str| {
        let report_dir = dir.join(sub);
        let mut args = vec![
            "run",
            "register-lost-replies",
            "--seeds",
            "4",
            "--set",
            "target.retry_unsafe=true",
            "--report-dir",
            report_dir.to_str().unwrap(),
        ];
        if let Some(which) = which {
            args.extend(["--perfetto", which]);
        }
        let out = chaos(&args);
        assert!(code(&out) <= 1, "{}", stderr(&out));
        (0..4)
            .map(|seed| {
                let seed_dir = report_dir.join(format!("register-lost-replies/seed-{seed}"));
                let status = read_json(&seed_dir.join("report.json"))["status"]
                    .as_str()
                    .unwrap()
                    .to_string();
                (status, seed_dir.join(PERFETTO_JSON).exists())
            })
            .collect::<Vec<_>>()
    };
    let default = run(None, "default");
    assert!(default.iter().any(|(s, _)| s == "pass"), "{default:?}");
    assert!(default.iter().any(|(s, _)| s == "fail"), "{default:?}");
    for (status, written) in &default {
        assert_eq!(*written, status != "pass", "{default:?}");
    }
    assert!(run(Some("all"), "all").iter().all(|(_, w)| *w));
    assert!(run(Some("none"), "none").iter().all(|(_, w)| !*w));
}
