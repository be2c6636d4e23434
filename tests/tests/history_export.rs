//! History export: the `history.edn` and `history.jsonl` a run writes
//! beside its report hold exactly what the run recorded, `check-history`
//! on the EDN file reaches the run's own linearizability verdict for every
//! model a bundled scenario checks, `--history` chooses the seeds, and the
//! same seed writes the same bytes.
//!
//! The bundled scenarios check linearizability with the `register` and
//! `kv` models only (no bundled scenario uses `counter` or `queue`), so
//! those two are the models exercised here; each is run with a planted
//! bug so that both verdicts, pass and fail, are compared.

mod common;
use common::*;

use harness::history::jepsen::parse_edn;
use harness::history::{Event, FINAL_READER_PROCESS};
use harness::report::{self, HISTORY_EDN, HISTORY_JSONL};
use harness::suite::{execute, ExecOptions, LoadedScenario};
use std::path::Path;

fn bundled(name: &str, overrides: &[&str]) -> LoadedScenario {
    let path = repo_root().join("scenarios").join(format!("{name}.toml"));
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    LoadedScenario::from_file(&path, &overrides, &target_sims::registry())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `check-history`'s word for a status.
fn verdict_word(status: &str) -> &'static str {
    match status {
        "pass" => "linearizable",
        "fail" => "not-linearizable",
        "unknown" => "unknown",
        other => panic!("unexpected status {other}"),
    }
}

/// Runs `scenario` on `seeds` with `--history all`, then checks every
/// seed's exported EDN with `check-history --model MODEL` and compares it
/// with the run's `linearizable` verdict (status and summary). Returns the
/// statuses seen.
fn cross_check(
    dir: &Path,
    scenario: &str,
    seeds: &str,
    overrides: &[&str],
    model: &str,
) -> Vec<String> {
    let mut args = vec![
        "run",
        scenario,
        "--seeds",
        seeds,
        "--jobs",
        "2",
        "--history",
        "all",
        "--report-dir",
        dir.to_str().unwrap(),
    ];
    for o in overrides {
        args.extend(["--set", o]);
    }
    let out = chaos(&args);
    assert!(code(&out) <= 1, "{}\n{}", stdout(&out), stderr(&out));
    let mut statuses = Vec::new();
    for seed in 0..seeds.parse::<u64>().unwrap() {
        let seed_dir = dir.join(format!("{scenario}/seed-{seed}"));
        let report = read_json(&seed_dir.join("report.json"));
        let verdict = report["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["invariant"] == "linearizable")
            .unwrap_or_else(|| panic!("{scenario} checks linearizability"))
            .clone();
        let status = verdict["status"].as_str().unwrap().to_string();
        let file = seed_dir.join(HISTORY_EDN);
        let check = chaos(&["check-history", "--model", model, file.to_str().unwrap()]);
        let text = stdout(&check);
        let first = text
            .lines()
            .next()
            .unwrap_or_else(|| panic!("no output: {}", stderr(&check)));
        let after_path = first
            .strip_prefix(file.to_str().unwrap())
            .unwrap_or_else(|| panic!("{first}"))
            .trim_start();
        let word = after_path.split_whitespace().next().unwrap();
        assert_eq!(
            word,
            verdict_word(&status),
            "{scenario} seed {seed}: {first}"
        );
        let summary = after_path.split_once("): ").unwrap().1;
        assert_eq!(summary, verdict["summary"], "{scenario} seed {seed}");
        assert_eq!(code(&check), if status == "pass" { 0 } else { 1 });
        statuses.push(status);
    }
    statuses
}

#[test]
fn check_history_on_the_exported_file_agrees_with_the_run_for_the_register_model() {
    let dir = scratch("export-register");
    let statuses = cross_check(
        &dir,
        "register-lost-replies",
        "6",
        &["target.retry_unsafe=true"],
        "register",
    );
    // The planted bug fails some seeds and not others: both verdicts compared.
    assert!(statuses.iter().any(|s| s == "pass"), "{statuses:?}");
    assert!(statuses.iter().any(|s| s == "fail"), "{statuses:?}");
}

#[test]
fn check_history_on_the_exported_file_agrees_with_the_run_for_the_kv_model() {
    let dir = scratch("export-kv");
    let mut statuses = cross_check(&dir, "kv-clock-jump", "1", &[], "kv");
    let buggy = scratch("export-kv-bug");
    statuses.extend(cross_check(
        &buggy,
        "kv-clock-jump",
        "1",
        &["target.bug=stale-read"],
        "kv",
    ));
    assert_eq!(statuses, ["pass", "fail"]);
}

#[test]
fn values_processes_and_times_round_trip_exactly() {
    // (scenario, overrides, seed, whether it ends with the final reader)
    let cases: [(&str, &[&str], u64, bool); 2] = [
        (
            "register-lost-replies",
            &["target.retry_unsafe=true"],
            1,
            false,
        ),
        ("kv-clock-jump", &["target.bug=stale-read"], 0, true),
    ];
    let mut saw_error = false;
    for (name, overrides, seed, final_read) in cases {
        let loaded = bundled(name, overrides);
        let run = execute(&loaded, seed, &ExecOptions::default());
        let recorded = &run.record.history;
        assert_eq!(recorded.dropped_events, 0);
        // The history has what could be lost on the way: the final
        // reader's large process ids, times past 2^32 ns, integer values,
        // errors of failed and unknown operations.
        let events = &recorded.events;
        assert_eq!(
            events.iter().any(|e| e.process >= FINAL_READER_PROCESS),
            final_read,
            "{name}"
        );
        assert!(events.iter().any(|e| e.time_ns > u32::MAX as u64), "{name}");
        assert!(
            events.iter().any(|e| e.op.value.as_int().is_some()),
            "{name}"
        );
        saw_error |= events.iter().any(|e| e.error.is_some());

        let dir = scratch(&format!("roundtrip-{name}"));
        let run_dir = report::write_run(&dir, &run.report, &run.record).unwrap();
        let edn = std::fs::read_to_string(run_dir.join(HISTORY_EDN)).unwrap();
        let back = parse_edn(&edn).unwrap();
        assert_eq!(back.events, recorded.events, "{name}: EDN");
        let jsonl = std::fs::read_to_string(run_dir.join(HISTORY_JSONL)).unwrap();
        let events: Vec<Event> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(&events, &recorded.events, "{name}: JSON lines");

        // The same seed writes the same bytes.
        let again = execute(&loaded, seed, &ExecOptions::default());
        let dir2 = scratch(&format!("roundtrip-again-{name}"));
        let run_dir2 = report::write_run(&dir2, &again.report, &again.record).unwrap();
        for file in [HISTORY_EDN, HISTORY_JSONL] {
            assert_eq!(
                std::fs::read(run_dir.join(file)).unwrap(),
                std::fs::read(run_dir2.join(file)).unwrap(),
                "{name}: {file} differs between two runs of seed {seed}"
            );
        }
    }
    assert!(saw_error, "an operation with an error was round-tripped");
}

#[test]
fn history_chooses_the_seeds_and_replay_always_exports() {
    let dir = scratch("export-default");
    let out = chaos(&[
        "run",
        "register-lost-replies",
        "--seeds",
        "4",
        "--set",
        "target.retry_unsafe=true",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(code(&out) <= 1, "{}", stderr(&out));
    let mut failing = None;
    let mut kinds = Vec::new();
    for seed in 0..4 {
        let seed_dir = dir.join(format!("register-lost-replies/seed-{seed}"));
        let status = read_json(&seed_dir.join("report.json"))["status"]
            .as_str()
            .unwrap()
            .to_string();
        let exported = seed_dir.join(HISTORY_EDN).is_file();
        assert_eq!(exported, seed_dir.join(HISTORY_JSONL).is_file());
        assert_eq!(exported, status != "pass", "seed {seed} ({status})");
        if status != "pass" {
            failing = Some(seed);
        }
        kinds.push(status);
    }
    assert!(kinds.iter().any(|s| s == "pass"), "{kinds:?}");
    let failing = failing.expect("the planted bug fails a seed");

    let none = scratch("export-none");
    let out = chaos(&[
        "run",
        "register-lost-replies",
        "--seed-range",
        &format!("{failing}..{}", failing + 1),
        "--set",
        "target.retry_unsafe=true",
        "--history",
        "none",
        "--report-dir",
        none.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let seed_dir = none.join(format!("register-lost-replies/seed-{failing}"));
    assert!(seed_dir.join("report.json").is_file());
    assert!(!seed_dir.join(HISTORY_EDN).exists());
    assert!(!seed_dir.join(HISTORY_JSONL).exists());

    let bad = chaos(&["run", "register-lost-replies", "--history", "some"]);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("failing"), "{}", stderr(&bad));

    // A passing replay exports too, and to the same bytes as the run did.
    let replay_dir = scratch("export-replay");
    let passing = kinds.iter().position(|s| s == "pass").unwrap();
    let out = chaos(&[
        "replay",
        "register-lost-replies",
        "--seed",
        &passing.to_string(),
        "--set",
        "target.retry_unsafe=true",
        "--report-dir",
        replay_dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains(HISTORY_EDN), "{}", stdout(&out));
    let replayed = replay_dir.join(format!("register-lost-replies/seed-{failing}"));
    let failing_replay = chaos(&[
        "replay",
        "register-lost-replies",
        "--seed",
        &failing.to_string(),
        "--set",
        "target.retry_unsafe=true",
        "--report-dir",
        replay_dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&failing_replay), 1);
    let from_run = dir.join(format!("register-lost-replies/seed-{failing}"));
    for file in [HISTORY_EDN, HISTORY_JSONL] {
        assert_eq!(
            std::fs::read(replayed.join(file)).unwrap(),
            std::fs::read(from_run.join(file)).unwrap(),
            "{file}"
        );
    }
    assert!(replay_dir
        .join(format!("register-lost-replies/seed-{passing}"))
        .join(HISTORY_EDN)
        .is_file());
}

#[test]
fn a_history_that_cannot_be_written_is_not_a_pass() {
    // A folder where history.edn should go. `run` clears a scenario's
    // earlier seed folders before it starts, so the obstacle is put in
    // the way of a `replay`, which writes into the folder as it finds it.
    let dir = scratch("export-unwritable");
    std::fs::create_dir_all(dir.join("register-isolate/seed-0").join(HISTORY_EDN)).unwrap();
    let out = chaos(&[
        "replay",
        "register-isolate",
        "--seed",
        "0",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2, "{}\n{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("could not write the report"),
        "{}",
        stderr(&out)
    );
    let report = read_json(&dir.join("register-isolate/seed-0/report.json"));
    assert_eq!(report["status"], "pass", "the run itself passed");
}
