//! The vendored turmoil (harness/vendor/turmoil) must simulate exactly what
//! turmoil 0.7.2 from crates.io simulates: its changes only make steps
//! cheaper. `fixtures/trace-hashes.txt` holds the trace hash of seeds 0..3
//! of every bundled scenario, recorded with the unpatched turmoil; this test
//! runs the same seeds with whatever turmoil the workspace builds and
//! compares.
//!
//! When a scenario or a target changes on purpose, its hashes change too,
//! and the file must be recorded again — with the *unpatched* turmoil, or it
//! proves nothing: comment out the `[patch.crates-io]` entry in the root
//! Cargo.toml, run
//! `CHAOS_RECORD_TRACE_HASHES=1 cargo test --release -p chaos-tests --test trace_hashes`,
//! restore the entry, and run the test again without the variable.

mod common;
use common::*;
use std::collections::BTreeMap;

const FIXTURE: &str = "tests/fixtures/trace-hashes.txt";
const SEEDS: &str = "3";

type Hashes = BTreeMap<(String, u64), String>;

fn parse(text: &str) -> Hashes {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 3, "{FIXTURE}: bad line {line:?}");
            let seed = fields[1]
                .parse()
                .unwrap_or_else(|_| panic!("{FIXTURE}: bad seed in {line:?}"));
            ((fields[0].to_string(), seed), fields[2].to_string())
        })
        .collect()
}

fn run_suite() -> Hashes {
    let dir = scratch("trace-hashes");
    let out = chaos(&[
        "run",
        "--seeds",
        SEEDS,
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    let results = read_json(&dir.join("results.json"));
    results["results"]
        .as_array()
        .expect("results.json lists results")
        .iter()
        .map(|r| {
            (
                (
                    r["scenario"].as_str().unwrap().to_string(),
                    r["seed"].as_u64().unwrap(),
                ),
                r["trace_hash"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_bundled_scenario_simulates_as_with_unpatched_turmoil() {
    let path = repo_root().join(FIXTURE);
    let observed = run_suite();
    if std::env::var_os("CHAOS_RECORD_TRACE_HASHES").is_some() {
        let header: String = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .take_while(|line| line.starts_with('#'))
            .map(|line| format!("{line}\n"))
            .collect();
        let rows: String = observed
            .iter()
            .map(|((scenario, seed), hash)| format!("{scenario} {seed} {hash}\n"))
            .collect();
        std::fs::write(&path, header + &rows).unwrap();
        return;
    }
    let expected = parse(&std::fs::read_to_string(&path).unwrap());
    let mut differences = Vec::new();
    for (key, hash) in &expected {
        match observed.get(key) {
            Some(seen) if seen == hash => {}
            Some(seen) => differences.push(format!(
                "{} seed {}: trace {seen}, unpatched turmoil gave {hash}",
                key.0, key.1
            )),
            None => differences.push(format!("{} seed {}: not run", key.0, key.1)),
        }
    }
    for key in observed.keys().filter(|k| !expected.contains_key(*k)) {
        differences.push(format!(
            "{} seed {}: no recorded hash (a new scenario? record the file again, see this test's docs)",
            key.0, key.1
        ));
    }
    assert!(
        differences.is_empty(),
        "{} of {} seeds differ from unpatched turmoil:\n{}",
        differences.len(),
        expected.len(),
        differences.join("\n")
    );
}
