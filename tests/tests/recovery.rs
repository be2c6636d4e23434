//! Recovery per fault across a sweep: the summary's per-kind table, the
//! same tallies whatever the number of threads, and a too-strict
//! `max_time_to_recover` failing seeds.

mod common;
use common::*;

#[test]
fn a_sweep_summary_shows_recovery_per_fault_kind_the_same_for_any_jobs() {
    let one = scratch("recovery-jobs-1");
    let two = scratch("recovery-jobs-2");
    for (dir, jobs) in [(&one, "1"), (&two, "2")] {
        let out = chaos(&[
            "run",
            "kv-leader-isolate",
            "--seeds",
            "3",
            "--jobs",
            jobs,
            "--report-dir",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let summary = read_json(&one.join("summary.json"));
    let kv = &summary["recovery"]["kv-leader-isolate"];
    assert_eq!(kv["seeds"], 3);
    let partition = &kv["kinds"]["partition"];
    // Three partitions a seed; kv notices each (an isolated replica or its
    // peers stand for election) and comes back.
    assert_eq!(partition["faults"], 9, "{partition}");
    assert_eq!(partition["time_to_detect"]["count"], 9, "{partition}");
    assert!(partition["time_to_detect"]["max_ms"].as_f64().unwrap() > 0.0);
    assert!(partition["time_to_recover"]["count"].as_u64().unwrap() > 0);
    assert_eq!(partition["reliability"][0], serde_json::json!([0.0, 1.0]));
    let md = std::fs::read_to_string(one.join("summary.md")).unwrap();
    assert!(md.contains("### Recovery per fault kind"), "{md}");
    assert!(
        md.contains("| kv-leader-isolate | partition | 9 | 9 |"),
        "{md}"
    );
    for file in ["summary.json", "results.json", "summary.md"] {
        assert!(
            std::fs::read(one.join(file)).unwrap() == std::fs::read(two.join(file)).unwrap(),
            "{file} differs between --jobs 1 and --jobs 2"
        );
    }
    // Each seed's report has the per-fault rows.
    let report = read_json(&one.join("kv-leader-isolate/seed-0/report.json"));
    let faults = report["recovery"]["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 3);
    assert_eq!(faults[0]["detected"]["signal"], "role:candidate");
}

#[test]
fn a_too_strict_max_time_to_recover_fails_the_seeds() {
    let dir = scratch("recovery-strict");
    let out = chaos(&[
        "run",
        "kv-leader-isolate",
        "--seeds",
        "2",
        "--set",
        "invariants.availability.max_time_to_recover=1ms",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let summary = read_json(&dir.join("summary.json"));
    assert_eq!(summary["total"]["failed"], 2, "{summary}");
    let problems = summary["failures"][0]["problems"].to_string();
    assert!(problems.contains("> max_time_to_recover 1ms"), "{problems}");
    // A bound on another kind leaves these partitions alone.
    let other = scratch("recovery-other-kind");
    let out = chaos(&[
        "run",
        "kv-leader-isolate",
        "--seeds",
        "1",
        "--set",
        "invariants.availability.max_time_to_recover={ crash = \"1ms\" }",
        "--report-dir",
        other.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn max_time_to_detect_needs_signals_and_names_the_knob() {
    let dir = scratch("recovery-no-signals");
    let out = chaos(&[
        "run",
        "register-isolate",
        "--seeds",
        "1",
        "--set",
        "invariants.availability.max_time_to_detect=1s",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invariants.availability.detection_signals"),
        "{}",
        stderr(&out)
    );
}
