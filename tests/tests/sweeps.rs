//! Sweeps at scale: shards that merge into the report one machine would
//! write, time budgets, and coverage requirements.

mod common;
use common::*;

#[test]
fn merged_shards_equal_a_single_run() {
    let single = scratch("shard-single");
    let a = scratch("shard-a");
    let b = scratch("shard-b");
    let merged = scratch("shard-merged");
    let base = ["run", "register-isolate", "register-swarm", "--seeds", "5"];
    for (dir, shard) in [(&single, None), (&a, Some("1/2")), (&b, Some("2/2"))] {
        let mut args: Vec<&str> = base.to_vec();
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        args.extend(["--report-dir", dir.to_str().unwrap()]);
        let out = chaos(&args);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let part = read_json(&a.join("summary.json"));
    assert_eq!(part["total"]["seeds"], 5, "shard 1/2 of 10 pairs");

    let out = chaos(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--report-dir",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for file in ["summary.json", "results.json"] {
        let one = std::fs::read(single.join(file)).unwrap();
        let two = std::fs::read(merged.join(file)).unwrap();
        assert!(
            one == two,
            "{file} of the merged shards differs from a single run"
        );
    }
}

#[test]
fn a_time_budget_stops_starting_seeds_and_says_how_many_ran() {
    let dir = scratch("budget");
    let out = chaos(&[
        "run",
        "register-swarm",
        "--seeds",
        "50",
        "--time-budget",
        "0s",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    // Seeds that never ran are not a pass.
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("time budget: 0 seeds ran, 50 were not started: not a pass"),
        "{}",
        stdout(&out)
    );
    assert_eq!(read_json(&dir.join("summary.json"))["not_run"], 50);
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        md.contains("**Not green: 50 scheduled seeds were not started"),
        "{md}"
    );
    assert!(!md.contains("PASS"), "{md}");
    // In JUnit the seeds not started are skipped, and the cut is a failure.
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(
        junit.contains(
            "<testsuites name=\"chaos\" tests=\"51\" failures=\"1\" errors=\"0\" skipped=\"50\""
        ),
        "{junit}"
    );
    assert!(
        junit.contains(
            "<testsuite name=\"register-swarm\" tests=\"50\" failures=\"0\" errors=\"0\" skipped=\"50\""
        ),
        "{junit}"
    );
    assert!(
        junit.contains("<skipped message=\"50 seeds were not started: the time budget (--time-budget) ran out\"/>"),
        "{junit}"
    );
    assert!(
        junit.contains("<testcase name=\"time-budget\" classname=\"chaos.run\""),
        "{junit}"
    );
    assert_eq!(
        read_json(&dir.join("results.json"))["not_run_by_scenario"]["register-swarm"],
        50
    );
}

#[test]
fn a_time_budget_cut_merges_its_skipped_counts() {
    let dir = scratch("budget-merge");
    let (a, b, merged) = (dir.join("a"), dir.join("b"), dir.join("merged"));
    for (shard, out_dir) in [("1/2", &a), ("2/2", &b)] {
        let out = chaos(&[
            "run",
            "register-swarm",
            "--seeds",
            "10",
            "--shard",
            shard,
            "--time-budget",
            "0s",
            "--report-dir",
            out_dir.to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
    }
    let out = chaos(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--report-dir",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let junit = std::fs::read_to_string(merged.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuite name=\"register-swarm\" tests=\"10\" failures=\"0\" errors=\"0\" skipped=\"10\""),
        "{junit}"
    );
}

#[test]
fn unmet_coverage_requirements_fail_the_suite() {
    let dir = scratch("coverage");
    let out = chaos(&[
        "run",
        "tests/fixtures/register-coverage-unmet.toml",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("coverage requirements not met"), "{text}");
    assert!(
        text.contains("fault crash reached in 0% of 4 seeds, required 50%"),
        "{text}"
    );
    assert!(
        !text.contains("event \"server listening\""),
        "that one is met: {text}"
    );
    let summary = read_json(&dir.join("summary.json"));
    assert_eq!(summary["total"]["failed"], 0, "every seed passed");
    assert_eq!(
        summary["coverage"]["register-coverage-unmet"]["states"]
            ["register: server listening; registers empty"]["seeds"],
        4
    );
}
