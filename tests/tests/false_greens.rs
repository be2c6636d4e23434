//! A PASS means the work was done, and no input aborts the process: the
//! reproducers of issue 10 (part B), each as small as it can be.

mod common;
use common::*;
use std::path::PathBuf;

const BASE: &str =
    "name = \"fg\"\n[target]\nsystem = \"register\"\n[simulation]\nduration = \"3s\"\n";

/// Writes `text` as `<test>/<name>.toml` and returns its path.
fn scenario_file(test: &str, text: &str) -> PathBuf {
    let file = scratch(test).join("fg.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// `chaos check` on `text`: the exit code and stderr.
fn check(test: &str, text: &str) -> (i32, String) {
    let file = scenario_file(test, text);
    let out = chaos(&["check", file.to_str().unwrap()]);
    (code(&out), stderr(&out))
}

fn assert_rejected(test: &str, text: &str, wanted: &[&str]) {
    let (code, err) = check(test, text);
    assert_eq!(code, 2, "{err}");
    for w in wanted {
        assert!(err.contains(w), "expected {w:?} in: {err}");
    }
}

// --- false green 1: max_ops truncation

#[test]
fn a_run_cut_short_by_max_ops_is_unknown_and_its_faults_are_not_covered() {
    let text = "name = \"capped\"\n[target]\nsystem = \"register\"\n[simulation]\nduration = \"10s\"\n\
                [workload]\nmax_ops = 50\n\
                [[faults.events]]\nkind = \"isolate\"\nhost = \"server\"\nat = \"5s\"\nduration = \"1s\"\n\
                [[coverage]]\nfault = \"partition\"\nmin_fraction = 1.0\n";
    let file = scenario_file("max-ops", text);
    let dir = file.parent().unwrap().join("reports");
    let out = chaos(&[
        "run",
        file.to_str().unwrap(),
        "--seeds",
        "2",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let summary = read_json(&dir.join("summary.json"));
    assert_eq!(summary["total"]["passed"], 0, "{summary:#}");
    assert_eq!(summary["total"]["unknown"], 2, "{summary:#}");
    // The isolate never happened: no seed counts as having applied it.
    assert!(
        summary["coverage"]["capped"]["faults"]
            .get("partition")
            .is_none(),
        "{summary:#}"
    );
    assert_eq!(
        summary["coverage_failures"][0],
        "capped: fault partition reached in 0% of 2 seeds, required 100%"
    );
    let report = read_json(&dir.join("capped/seed-0/report.json"));
    let run = &report["verdicts"][0];
    assert_eq!(run["invariant"], "run");
    assert_eq!(run["status"], "unknown");
    let why = run["summary"].as_str().unwrap();
    assert!(why.contains("workload.max_ops = 50"), "{why}");
    assert!(why.contains("never applied"), "{why}");
    assert!(why.contains("raise workload.max_ops"), "{why}");
}

#[test]
fn a_cap_reached_after_every_fault_only_shapes_the_workload() {
    // The crash at 2 s and the restart happen before the cap stops the
    // clients: the run passes, and says the cap ended the workload.
    let out = chaos(&[
        "replay",
        "register-crash-restart",
        "--seed",
        "1",
        "--set",
        "workload.max_ops=450",
        "--report-dir",
        scratch("max-ops-late").to_str().unwrap(),
    ]);
    let text = stdout(&out);
    let run = text.lines().find(|l| l.contains(" run ")).unwrap();
    assert!(run.contains("PASS"), "{text}");
    assert!(run.contains("workload.max_ops = 450"), "{text}");
}

// --- false green 7: a low rate is not a hang

#[test]
fn a_low_rate_is_not_a_hang() {
    let out = chaos(&[
        "replay",
        "register-isolate",
        "--seed",
        "1",
        "--set",
        "workload.rate=0.07",
        "--report-dir",
        scratch("low-rate").to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(!text.contains("hung"), "{text}");
    let run = text.lines().find(|l| l.contains(" run ")).unwrap();
    assert!(!run.contains("FAIL"), "{text}");
}

// --- false green 8: the mix must be served by the target

#[test]
fn check_refuses_operations_the_target_does_not_serve() {
    assert_rejected(
        "mix-dequeue",
        &format!("{BASE}[workload]\nmix = {{ read = 1, dequeue = 1 }}\n"),
        &[
            "fg.toml:7:",
            "key `workload.mix.dequeue`",
            "target \"register\" does not serve dequeue operations: its clients serve read, write, cas",
        ],
    );
    assert_rejected(
        "final-read-queue",
        "name = \"q\"\n[target]\nsystem = \"queue\"\n[workload]\nmix = { enqueue = 1, cas = 1 }\n",
        &["key `workload.mix.cas`", "its clients serve enqueue, read"],
    )
}

#[test]
fn every_targets_starter_scenario_passes() {
    let dir = scratch("starters");
    let registry = target_sims::registry();
    let mut files = Vec::new();
    for target in registry.names() {
        let name = format!("starter-{target}");
        let out = chaos(&[
            "new",
            &name,
            "--target",
            target,
            "--dir",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        files.push(dir.join(format!("{name}.toml")).display().to_string());
    }
    let reports = dir.join("reports");
    let mut args = vec!["run"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--seeds", "3", "--report-dir", reports.to_str().unwrap()]);
    let out = chaos(&args);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    let summary = read_json(&reports.join("summary.json"));
    assert_eq!(
        summary["total"]["passed"],
        3 * registry.names().len(),
        "{summary:#}"
    );
}

// --- aborts: caps on times and rates, a turmoil limit inside one seed

#[test]
fn a_huge_fault_duration_is_refused_by_check() {
    assert_rejected(
        "huge-duration",
        &format!(
            "{BASE}[[faults.events]]\nkind = \"isolate\"\nhost = \"server\"\nat = \"1s\"\nduration = \"5124095h\"\n"
        ),
        &[
            "fg.toml:10:",
            "key `faults.events[0].duration`",
            "5124095h is longer than the cap of 8760h",
            "MAX_SIMULATED_TIME",
            "leave `duration` out",
        ],
    );
}

#[test]
fn a_rate_too_low_or_not_a_number_is_refused_with_the_set_to_blame() {
    for (set, wanted) in [
        (
            "workload.rate=1e-30",
            "--set workload.rate: expected operations per second per client in [1e-6, 100000], found 1e-30",
        ),
        (
            "workload.rate=nan",
            "--set workload.rate: `nan` is not a finite number",
        ),
        (
            "workload.clients=0",
            "--set workload.clients: expected 1 to 10000, found 0 (applied to scenarios/register-isolate.toml)",
        ),
    ] {
        let out = chaos(&["replay", "register-isolate", "--seed", "1", "--set", set]);
        assert_eq!(code(&out), 2, "{set}: {}", stderr(&out));
        assert!(stderr(&out).contains(wanted), "{set}: {}", stderr(&out));
        assert!(!stderr(&out).contains("invalid type: null"), "{}", stderr(&out));
    }
}

#[test]
fn a_turmoil_limit_fails_its_seed_with_the_knob_that_moves_it() {
    // 500 clients on 2 hosts: refused connections are retried at once,
    // the client ports wrap, and turmoil asserts on a reused pair.
    let out = chaos(&[
        "replay",
        "kv-leader-isolate",
        "--seed",
        "1",
        "--set",
        "workload.clients=500",
        "--report-dir",
        scratch("socket-pair").to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    let run = text.lines().find(|l| l.contains(" run ")).unwrap();
    assert!(run.contains("FAIL"), "{text}");
    assert!(run.contains("is already connected"), "{text}");
    assert!(run.contains("raise workload.client_hosts"), "{text}");
}

// --- messages

#[test]
fn a_bad_value_inside_a_fault_event_names_its_key_and_line() {
    assert_rejected(
        "event-key",
        &format!(
            "{BASE}[[faults.events]]\nkind = \"partition-oneway\"\nat = \"1s\"\nfrom = \"r1\"\nto = [\"server\"]\n"
        ),
        &[
            "fg.toml:9:",
            "key `faults.events[0].from`",
            "expected a sequence",
        ],
    );
}

#[test]
fn a_duplicate_key_is_named() {
    assert_rejected(
        "duplicate",
        &format!("{BASE}[workload]\nclients = 3\nclients = 4\n"),
        &["fg.toml:8:", "key `workload.clients`", "duplicate key"],
    );
}

#[test]
fn shrink_says_why_an_unknown_seed_or_no_run_cannot_shrink() {
    let text = "name = \"capped\"\n[target]\nsystem = \"register\"\n[simulation]\nduration = \"10s\"\n\
                [workload]\nmax_ops = 50\n\
                [[faults.events]]\nkind = \"isolate\"\nhost = \"server\"\nat = \"5s\"\nduration = \"1s\"\n";
    let file = scenario_file("shrink-unknown", text);
    let reports = file.parent().unwrap().join("reports");
    let out = chaos(&[
        "shrink",
        file.to_str().unwrap(),
        "--seed",
        "0",
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    assert_ne!(code(&out), 0);
    let err = stderr(&out);
    assert!(!err.contains("passes"), "{err}");
    assert!(err.contains("did not pass either"), "{err}");
    assert!(err.contains("raise workload.max_ops"), "{err}");

    let out = chaos(&[
        "shrink",
        "register-isolate",
        "--seed",
        "1",
        "--max-runs",
        "0",
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--max-runs 0"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("does not reproduce"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_host_fault_accepts_the_servers_group() {
    let text = "name = \"grp\"\n[target]\nsystem = \"kv\"\nreplicas = 3\n[simulation]\nduration = \"4s\"\n\
                [[faults.events]]\nkind = \"crash\"\nhost = \"servers\"\nat = \"1s\"\nduration = \"1s\"\n\
                [[faults.events]]\nkind = \"pause\"\nhost = \"servers\"\nat = \"3s\"\nduration = \"200ms\"\n\
                [[faults.events]]\nkind = \"isolate\"\nhost = \"servers\"\nat = \"2500ms\"\nduration = \"200ms\"\n";
    let file = scenario_file("groups", text);
    let reports = file.parent().unwrap().join("reports");
    let out = chaos(&[
        "replay",
        file.to_str().unwrap(),
        "--seed",
        "1",
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    assert!(code(&out) <= 1, "{}", stderr(&out));
    let report = read_json(&reports.join("grp/seed-1/report.json"));
    let events = report["plan"]["events"].as_array().unwrap();
    let crashed: Vec<&str> = events
        .iter()
        .filter(|e| e["action"] == "crash")
        .map(|e| e["host"].as_str().unwrap())
        .collect();
    assert_eq!(crashed, ["n1", "n2", "n3"], "{events:#?}");
    let paused = events.iter().filter(|e| e["action"] == "pause").count();
    assert_eq!(paused, 3, "{events:#?}");
}

// --- smaller

#[test]
fn sides_sharing_a_host_and_one_way_faults_to_themselves_are_refused() {
    assert_rejected(
        "sides",
        &format!(
            "{BASE}[[faults.events]]\nkind = \"partition\"\nat = \"1s\"\nsides = [[\"server\"], [\"server\"]]\n"
        ),
        &[
            "key `faults.events[0].sides[1]`",
            "host \"server\" is on sides 0 and 1",
        ],
    );
    assert_rejected(
        "oneway",
        &format!(
            "{BASE}[[faults.events]]\nkind = \"partition-oneway\"\nat = \"1s\"\nfrom = [\"server\"]\nto = [\"server\"]\n"
        ),
        &[
            "key `faults.events[0].to`",
            "a one-way fault needs a direction",
        ],
    );
}

#[test]
fn a_table_written_as_an_array_is_refused() {
    assert_rejected(
        "array-table",
        "name = \"a\"\nworkload = [7, 1, 3.5]\n[target]\nsystem = \"register\"\n",
        &["fg.toml:2:", "key `workload`", "expected a table"],
    );
    let out = chaos(&[
        "replay",
        "register-isolate",
        "--seed",
        "1",
        "--set",
        "workload=[7, 1, 3.5]",
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--set workload: expected a table"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_fault_as_long_as_the_cap_draws_a_bounded_timeline() {
    // The longest duration check accepts: the timeline's axis spans a
    // year, and its ticks and bands stay few.
    let text = format!(
        "{BASE}[[faults.events]]\nkind = \"isolate\"\nhost = \"server\"\nat = \"1s\"\nduration = \"8760h\"\n"
    );
    let file = scenario_file("year-fault", &text);
    let reports = file.parent().unwrap().join("reports");
    let out = chaos(&[
        "replay",
        file.to_str().unwrap(),
        "--seed",
        "1",
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    assert!(code(&out) <= 1, "{}", stderr(&out));
    let html = std::fs::metadata(reports.join("fg/seed-1/report.html")).unwrap();
    assert!(
        html.len() < 2_000_000,
        "report.html is {} bytes",
        html.len()
    );
}

// --- part A: runs and histories that test nothing are never green

#[test]
fn check_history_refuses_a_file_with_no_history_in_it() {
    let dir = scratch("no-history");
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let garbage = dir.join("garbage.txt");
    std::fs::write(&garbage, "garbage\n").unwrap();
    for model in ["register", "kv", "list-append"] {
        for file in [
            "README.md",
            empty.to_str().unwrap(),
            garbage.to_str().unwrap(),
        ] {
            let out = chaos(&["check-history", "--model", model, file]);
            assert_eq!(code(&out), 2, "{model} {file}: {}", stdout(&out));
            assert!(
                stderr(&out).contains("no history events found"),
                "{model} {file}: {}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn check_history_reads_at_most_max_input_bytes() {
    let out = chaos(&[
        "check-history",
        "--model",
        "kv",
        "--max-input-bytes",
        "4096",
        "/dev/zero",
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("larger than 4096 bytes; raise --max-input-bytes"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_run_of_no_seeds_is_an_error_and_a_huge_one_is_refused_before_it_allocates() {
    let dir = scratch("no-seeds");
    let report_dir = dir.to_str().unwrap();
    for (args, wanted) in [
        (vec!["--seeds", "0"], "no seeds to run"),
        (vec!["--seed-range", "5..5"], "empty range 5..5"),
        (
            vec!["--seeds", "99999999999"],
            "more than one run takes (1000000)",
        ),
        (
            vec!["--seeds", "1000001"],
            "more than one run takes (1000000)",
        ),
        (
            vec!["--seed-range", "0..18446744073709551615"],
            "more than one run takes (1000000)",
        ),
        (vec!["--seeds", "2", "--shard", "5/8"], "holds no seeds"),
    ] {
        let mut all = vec!["run", "register-isolate", "--report-dir", report_dir];
        all.extend(&args);
        let out = chaos(&all);
        assert_eq!(code(&out), 2, "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).contains(wanted), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_closed_pipe_ends_the_output_without_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // A trace is far longer than a pipe's buffer, so the writer is sure
    // to find the pipe closed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_chaos-e2e"))
        .args(["replay", "register-isolate", "--seed", "0", "--trace"])
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
}

#[test]
fn a_coverage_only_failure_is_red_in_junit_too() {
    let dir = scratch("coverage-junit");
    let out = chaos(&[
        "run",
        "tests/fixtures/register-coverage-unmet.toml",
        "--seeds",
        "3",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuites name=\"chaos\" tests=\"4\" failures=\"1\""),
        "{junit}"
    );
    assert!(junit.contains("<testsuite name=\"coverage\""), "{junit}");
    assert!(
        junit.contains("fault crash reached in 0% of 3 seeds"),
        "{junit}"
    );
}

#[test]
fn reports_that_cannot_be_written_are_errors() {
    let dir = scratch("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let file = file.to_str().unwrap();
    let run = chaos(&[
        "run",
        "register-isolate",
        "--seeds",
        "1",
        "--report-dir",
        file,
    ]);
    assert_eq!(code(&run), 2, "{}", stdout(&run));
    assert!(stderr(&run).contains("could not write"), "{}", stderr(&run));
    let replay = chaos(&[
        "replay",
        "register-isolate",
        "--seed",
        "0",
        "--report-dir",
        file,
    ]);
    assert_eq!(code(&replay), 2, "{}", stdout(&replay));
    assert!(
        stderr(&replay).contains("could not write the report"),
        "{}",
        stderr(&replay)
    );

    // summary.json a folder: an error, and no temporary file left behind.
    let reports = dir.join("reports");
    std::fs::create_dir_all(reports.join("summary.json")).unwrap();
    let out = chaos(&[
        "run",
        "register-isolate",
        "--seeds",
        "1",
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    let leftovers: Vec<_> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn merging_shards_that_disagree_on_a_seed_is_an_error_in_either_order() {
    let dir = scratch("merge-conflict");
    let good = dir.join("good");
    let out = chaos(&[
        "run",
        "register-isolate",
        "--seeds",
        "2",
        "--report-dir",
        good.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let conflicting = dir.join("conflicting");
    std::fs::create_dir_all(&conflicting).unwrap();
    let mut results = read_json(&good.join("results.json"));
    results["results"][0]["status"] = "fail".into();
    results["results"][0]["trace_hash"] = "0000000000000000".into();
    std::fs::write(
        conflicting.join("results.json"),
        serde_json::to_string_pretty(&results).unwrap(),
    )
    .unwrap();
    let merged = dir.join("merged");
    for order in [[&good, &conflicting], [&conflicting, &good]] {
        let out = chaos(&[
            "merge",
            order[0].to_str().unwrap(),
            order[1].to_str().unwrap(),
            "--report-dir",
            merged.to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 2, "{}", stdout(&out));
        assert!(
            stderr(&out).contains("the shards disagree on 1 seeds: register-isolate seed 0"),
            "{}",
            stderr(&out)
        );
    }
    // The same shard twice agrees with itself, but its recovery tallies
    // (folded per seed, without a copy of each seed's measures) would count
    // every seed twice: an error that says so, not a silent double count.
    let out = chaos(&[
        "merge",
        good.to_str().unwrap(),
        good.to_str().unwrap(),
        "--report-dir",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("two folders hold the same seeds of register-isolate"),
        "{}",
        stderr(&out)
    );
}
