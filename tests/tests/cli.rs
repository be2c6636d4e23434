//! The `chaos` command as a user runs it: listing, running, replaying,
//! writing and checking scenarios, exit codes.

mod common;
use common::*;

#[test]
fn list_shows_every_bundled_scenario_with_its_description() {
    let out = chaos(&["list"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    for name in [
        "register-isolate",
        "register-swarm",
        "register-crash-restart",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(text.contains("register server isolated for 3s"));
    assert!(text.contains("targets:"));
}

#[test]
fn run_writes_a_report_per_seed_and_a_suite_summary() {
    let dir = scratch("run-reports");
    let out = chaos(&[
        "run",
        "register-isolate",
        "--seeds",
        "3",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("register-isolate"));
    for seed in 0..3 {
        let report = read_json(&dir.join(format!("register-isolate/seed-{seed}/report.json")));
        assert_eq!(report["seed"], seed);
        assert_eq!(report["status"], "pass");
        assert_eq!(report["verdicts"][0]["invariant"], "run");
    }
    let summary = read_json(&dir.join("summary.json"));
    assert_eq!(summary["total"]["seeds"], 3);
    assert_eq!(summary["total"]["passed"], 3);
}

#[test]
fn seed_range_runs_exactly_those_seeds() {
    let dir = scratch("seed-range");
    let out = chaos(&[
        "run",
        "scenarios/register-crash-restart.toml",
        "--seed-range",
        "5..7",
        "--jobs",
        "1",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(dir
        .join("register-crash-restart/seed-5/report.json")
        .is_file());
    assert!(dir
        .join("register-crash-restart/seed-6/report.json")
        .is_file());
    assert!(!dir.join("register-crash-restart/seed-4").exists());
    assert!(!dir.join("register-crash-restart/seed-7").exists());
}

#[test]
fn a_failing_seed_prints_a_replay_command_that_fails_the_same_way() {
    let dir = scratch("failing");
    let out = chaos(&[
        "run",
        "tests/fixtures/register-too-strict.toml",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let text = stdout(&out);
    let replay_line = text
        .lines()
        .find(|l| l.contains("replay tests/fixtures/register-too-strict.toml --seed"))
        .unwrap_or_else(|| panic!("no replay command in:\n{text}"));
    // The printed command is `<how to run chaos> replay FILE --seed S`.
    let args: Vec<&str> = replay_line
        .split_whitespace()
        .skip_while(|w| *w != "replay")
        .collect();
    let seed: u64 = args.last().unwrap().parse().unwrap();
    let first = read_json(&dir.join(format!("register-too-strict/seed-{seed}/report.json")));

    let replay_dir = scratch("failing-replay");
    let mut replay_args = args.clone();
    replay_args.extend(["--report-dir", replay_dir.to_str().unwrap()]);
    let again = chaos(&replay_args);
    assert_eq!(code(&again), 1, "{}", stdout(&again));
    assert!(stdout(&again).contains("FAIL"));
    assert!(stdout(&again).contains("overall ok ratio"));
    let second =
        read_json(&replay_dir.join(format!("register-too-strict/seed-{seed}/report.json")));
    assert_eq!(first["verdicts"], second["verdicts"]);
    assert_eq!(first["trace_hash"], second["trace_hash"]);
}

#[test]
fn replay_with_trace_prints_the_timeline_of_faults_and_operations() {
    let dir = scratch("replay-trace");
    let out = chaos(&[
        "replay",
        "register-isolate",
        "--seed",
        "4",
        "--trace",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("FAULT nemesis    partition [server] | [client-0]"),
        "{text}"
    );
    assert!(text.contains("end partition #1"));
    assert!(
        text.contains("server listening"),
        "target tracing events are captured"
    );
    assert!(text.contains(" op    p0"));
    assert!(text.contains("PASS register-isolate seed 4"));
}

#[test]
fn new_writes_a_starter_scenario_that_checks_and_runs() {
    let dir = scratch("new");
    let out = chaos(&[
        "new",
        "my-first",
        "--target",
        "register",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let file = dir.join("my-first.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("system = \"register\""));
    assert!(text.contains("# "), "the starter is commented");

    let check = chaos(&["check", file.to_str().unwrap()]);
    assert_eq!(code(&check), 0, "{}", stderr(&check));
    let run = chaos(&[
        "run",
        file.to_str().unwrap(),
        "--seeds",
        "2",
        "--report-dir",
        dir.join("reports").to_str().unwrap(),
    ]);
    assert_eq!(code(&run), 0, "{}\n{}", stdout(&run), stderr(&run));

    let again = chaos(&[
        "new",
        "my-first",
        "--target",
        "register",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&again), 2, "refuses to overwrite");
    let unknown = chaos(&[
        "new",
        "x",
        "--target",
        "nope",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&unknown), 2);
    assert!(stderr(&unknown).contains("unknown target \"nope\""));
}

#[test]
fn usage_errors_exit_with_two() {
    assert_eq!(code(&chaos(&["frobnicate"])), 2);
    assert_eq!(code(&chaos(&["run", "--seed-range", "5..2"])), 2);
    assert_eq!(code(&chaos(&["run", "no-such-scenario"])), 2);
    assert_eq!(
        code(&chaos(&["replay", "register-isolate"])),
        2,
        "--seed is required"
    );
}

#[test]
fn set_overrides_a_scenario_key_and_the_replay_command_keeps_it() {
    let dir = scratch("set");
    let out = chaos(&[
        "run",
        "tests/fixtures/register-too-strict.toml",
        "--seeds",
        "1",
        "--set",
        "workload.clients=3",
        "--set",
        "target.max_attempts=2",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1);
    let report = read_json(&dir.join("register-too-strict/seed-0/report.json"));
    assert_eq!(report["scenario"]["workload"]["clients"], 3);
    assert_eq!(report["scenario"]["target"]["max_attempts"], 2);
    assert_eq!(
        report["replay"],
        "replay tests/fixtures/register-too-strict.toml --seed 0 --set workload.clients=3 --set target.max_attempts=2"
    );
    assert!(stdout(&out).contains("--set workload.clients=3 --set target.max_attempts=2"));

    let bad = chaos(&["run", "register-isolate", "--set", "workload.clients=lots"]);
    assert_eq!(code(&bad), 2);
    assert!(
        stderr(&bad).contains("--set workload.clients: invalid type"),
        "{}",
        stderr(&bad)
    );
}

/// `../shared/testdata/histories/<dir>`, with the expected verdicts.
fn shared_histories(dir: &str) -> Vec<(String, String)> {
    let root = repo_root().join("../shared/testdata/histories").join(dir);
    let expected = std::fs::read_to_string(root.join("EXPECTED"))
        .unwrap_or_else(|e| panic!("the shared histories must be beside the repository: {e}"));
    expected
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(f, v)| (root.join(f).display().to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn check_history_gives_every_shared_history_its_expected_verdict() {
    for (dir, model) in [("jepsen-etcd", "register"), ("kv", "kv")] {
        let cases = shared_histories(dir);
        let mut args = vec!["check-history", "--model", model];
        args.extend(cases.iter().map(|(f, _)| f.as_str()));
        let out = chaos(&args);
        let text = stdout(&out);
        let any_bad = cases.iter().any(|(_, v)| v == "not-linearizable");
        assert_eq!(code(&out), if any_bad { 1 } else { 0 }, "{}", stderr(&out));
        for (file, verdict) in &cases {
            let line = text
                .lines()
                .find(|l| l.starts_with(file.as_str()))
                .unwrap_or_else(|| panic!("no line for {file}"));
            assert!(line.starts_with(&format!("{file} {verdict} (")), "{line}");
        }
    }
    let bad = chaos(&["check-history", "--model", "graph", "x"]);
    assert_eq!(code(&bad), 2);
}

#[test]
fn check_history_budgets_are_flags_and_partial_checks_say_so() {
    let (file, _) = shared_histories("kv")
        .into_iter()
        .find(|(f, _)| f.ends_with("c10-ok.txt"))
        .expect("c10-ok.txt in the shared kv histories");
    let out = chaos(&["check-history", "--model", "kv", "--max-states", "5", &file]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("{file} unknown (")), "{text}");
    assert!(
        text.contains("keys undecided: could not decide keys \"0\""),
        "{text}"
    );
    assert!(
        text.contains("raise max_states ([invariants.linearizable] max_states in a scenario, --max-states for check-history)"),
        "{text}"
    );
    let out = chaos(&[
        "check-history",
        "--model",
        "kv",
        "--max-memory-bytes",
        "100000000",
        &file,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    for (flag, value, message) in [
        (
            "--max-states",
            "0",
            "--max-states: expected a number of states per key from 1 to",
        ),
        (
            "--max-memory-bytes",
            "1000",
            "--max-memory-bytes: expected a number of bytes per key of at least 1048576",
        ),
    ] {
        let out = chaos(&["check-history", "--model", "kv", flag, value, &file]);
        assert_eq!(code(&out), 2);
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
}
