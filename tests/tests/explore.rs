//! `chaos explore` end to end: the same explore seed gives the same
//! report bytes whatever `--jobs`; a planted bug is found, written out as
//! a scenario file that replays the failure, and shrunk; undecided runs
//! are reported and never pass; bad flags are usage errors.

mod common;
use common::*;
use std::path::Path;

fn explore_dir(report_dir: &Path, scenario: &str) -> std::path::PathBuf {
    report_dir.join("explore").join(scenario)
}

#[test]
fn the_same_explore_seed_gives_the_same_report_bytes_with_one_or_two_jobs() {
    let dir = scratch("explore-jobs");
    let report = dir.to_str().unwrap();
    let mut reports = Vec::new();
    for jobs in ["1", "2"] {
        let out = chaos(&[
            "explore",
            "register-swarm",
            "--runs",
            "20",
            "--explore-seed",
            "7",
            "--jobs",
            jobs,
            "--report-dir",
            report,
        ]);
        assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
        assert!(
            stderr(&out).contains("explore register-swarm: 8 runs, corpus"),
            "progress after each generation: {}",
            stderr(&out)
        );
        let folder = explore_dir(&dir, "register-swarm");
        let json = std::fs::read(folder.join("explore.json")).unwrap();
        let md = std::fs::read(folder.join("explore.md")).unwrap();
        reports.push((json, md));
    }
    assert!(
        reports[0].0 == reports[1].0,
        "explore.json differs between --jobs 1 and 2"
    );
    assert!(
        reports[0].1 == reports[1].1,
        "explore.md differs between --jobs 1 and 2"
    );
    let json: serde_json::Value = serde_json::from_slice(&reports[0].0).unwrap();
    assert_eq!(json["runs"], 20);
    assert_eq!(json["stop"], "runs");
    let growth = json["growth"].as_array().unwrap();
    assert_eq!(growth.len(), 3, "20 runs are generations of 8, 8 and 4");
    assert_eq!(growth.last().unwrap()["features"], json["features"]);
    assert!(json["corpus"].as_array().unwrap().len() >= 2);
    let md = String::from_utf8(reports[0].1.clone()).unwrap();
    assert!(md.contains("## Coverage over runs"), "{md}");

    // A different explore seed searches differently.
    let out = chaos(&[
        "explore",
        "register-swarm",
        "--runs",
        "8",
        "--explore-seed",
        "8",
        "--report-dir",
        report,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let other = read_json(&explore_dir(&dir, "register-swarm").join("explore.json"));
    assert_ne!(other["corpus"][0]["seed"], json["corpus"][0]["seed"]);
}

#[test]
fn a_planted_bug_is_found_written_out_shrunk_and_replays() {
    let dir = scratch("explore-bug");
    let out = chaos(&[
        "explore",
        "queue-swarm",
        "--set",
        "target.bug=\"ack-on-receive\"",
        "--runs",
        "40",
        "--shrink-runs",
        "40",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("FAILED at run"), "{text}");
    let folder = explore_dir(&dir, "queue-swarm");
    let json = read_json(&folder.join("explore.json"));
    assert_eq!(json["stop"], "finding");
    let seed = json["finding"]["seed"].as_u64().unwrap().to_string();
    let finding = folder.join("finding.toml");
    let file = std::fs::read_to_string(&finding).unwrap();
    assert!(
        file.starts_with("# Found by `chaos explore queue-swarm --set"),
        "{file}"
    );
    assert!(
        !file.contains("[faults.random]"),
        "the plan is explicit: {file}"
    );
    assert!(
        json["finding_files"]["replay"]
            .as_str()
            .unwrap()
            .ends_with(&format!("finding.toml --seed {seed}")),
        "{json}"
    );
    // The written-out run fails again, with no --set: the bug is in the file.
    let replay = chaos(&[
        "replay",
        finding.to_str().unwrap(),
        "--seed",
        &seed,
        "--report-dir",
        dir.join("replay").to_str().unwrap(),
    ]);
    assert_eq!(code(&replay), 1, "{}", stdout(&replay));
    let failed = json["finding"]["failed"][0].as_str().unwrap();
    assert!(stdout(&replay).contains(failed), "{}", stdout(&replay));
    // And it was shrunk.
    let shrunk = folder.join("finding-shrunk.toml");
    assert!(shrunk.is_file(), "{}", json["finding_files"]);
    let replay = chaos(&[
        "replay",
        shrunk.to_str().unwrap(),
        "--seed",
        &seed,
        "--report-dir",
        dir.join("replay-shrunk").to_str().unwrap(),
    ]);
    assert_eq!(code(&replay), 1, "{}", stdout(&replay));
}

#[test]
fn undecided_runs_are_reported_and_the_search_is_not_green() {
    let dir = scratch("explore-unknown");
    // A linearizability budget of one state decides nothing.
    let out = chaos(&[
        "explore",
        "register-swarm",
        "--set",
        "invariants.linearizable={ model = \"register\", max_states = 1 }",
        "--runs",
        "8",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}\n{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("neither passed nor failed"),
        "{}",
        stdout(&out)
    );
    let folder = explore_dir(&dir, "register-swarm");
    let json = read_json(&folder.join("explore.json"));
    assert!(json["finding"].is_null(), "an undecided run is no finding");
    assert!(json["problem_runs"].as_u64().unwrap() > 0);
    assert_eq!(json["problems"][0]["verdict"], "unknown");
    let run = json["problems"][0]["run"].as_u64().unwrap();
    assert!(folder.join(format!("problem-run-{run}.toml")).is_file());
    let md = std::fs::read_to_string(folder.join("explore.md")).unwrap();
    assert!(md.contains("NOT a clean search"), "{md}");
}

#[test]
fn bad_explore_flags_are_usage_errors() {
    for args in [
        &["explore", "register-swarm", "--runs", "0"][..],
        &["explore", "register-swarm", "--batch", "0"][..],
        &["explore", "no-such-scenario"][..],
        &["explore", "register-swarm", "--check-determinism"][..],
    ] {
        let out = chaos(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn mutated_corpus_entries_keep_their_faults_inside_the_fault_window() {
    use harness::explore::{explore, Options};
    use harness::suite::LoadedScenario;
    let registry = target_sims::registry();
    // kv-swarm: its runs differ enough that mutations keep finding more.
    let file = repo_root().join("scenarios/kv-swarm.toml");
    let loaded = LoadedScenario::from_file(&file, &[], &registry).unwrap();
    let random = loaded.scenario.faults.random.clone().unwrap();
    let horizon = loaded.scenario.simulation.duration - random.recovery;
    let options = Options {
        explore_seed: 3,
        max_runs: 24,
        threads: 2,
        ..Options::default()
    };
    let mut generations = 0;
    let e = explore(&loaded, &registry, &options, |p| {
        generations += 1;
        assert_eq!(p.runs, generations * 8);
    });
    assert_eq!(e.runs, 24);
    let mutated: Vec<_> = e.corpus.iter().filter(|c| c.parent.is_some()).collect();
    assert!(!mutated.is_empty(), "some mutation reached new coverage");
    for entry in &mutated {
        for event in &entry.events {
            let end = event.at() + event.duration().unwrap_or_default();
            assert!(
                event.at() >= random.start && end <= horizon,
                "entry {} ({}): {event:?} outside {:?}..{horizon:?}",
                entry.id,
                entry.mutation,
                random.start
            );
        }
    }
    // Role-aimed faults stay aimed at the role in the corpus (kv-swarm aims
    // half its one-replica faults at whoever leads), so a mutant in which
    // another replica leads still hits the leader.
    assert!(
        e.corpus.iter().any(|c| c.events.iter().any(|event| {
            let mut event = event.clone();
            event.host_mut().is_some_and(|h| h.starts_with("role:"))
        })),
        "no corpus entry kept a role-aimed fault"
    );
    // Coverage only grows, one point per generation.
    let features: Vec<usize> = e.growth.iter().map(|g| g.features).collect();
    assert!(features.windows(2).all(|w| w[0] <= w[1]), "{features:?}");
    assert_eq!(features.last(), Some(&e.coverage.len()));
}
