//! `summary.html`: a snapshot of the suite page for a hand-made sweep with
//! known recovery measures (so the table's quantiles and the R(t) chart's
//! steps can be read off the snapshot), the page loads nothing from
//! anywhere, and `chaos run` writes it beside summary.json and summary.md.

mod common;
use common::*;

use harness::check::Status;
use harness::report::recovery_tally::{SeedFault, SeedRecovery};
use harness::report::summary::{SeedResult, SeedResults, SuiteResults};
use harness::report::{suite_html, HARNESS_VERSION};

fn seed(scenario: &str, seed: u64, status: Status, faults: Vec<SeedFault>) -> SeedResult {
    SeedResult {
        scenario: scenario.into(),
        seed,
        status,
        problems: if status == Status::Pass {
            Vec::new()
        } else {
            vec!["availability: recovered after 4.000s > 3s <max>".into()]
        },
        failed: if status == Status::Fail {
            vec!["availability".into()]
        } else {
            Vec::new()
        },
        trace_hash: format!("{seed:016x}"),
        replay: format!("replay scenarios/{scenario}.toml --seed {seed}"),
        fault_kinds: Vec::new(),
        reached: Vec::new(),
        assertions: Vec::new(),
        recovery: Some(SeedRecovery {
            ops: 100,
            ok: 90,
            ops_during_faults: 20,
            ok_during_faults: 12,
            faults,
        }),
    }
}

fn fault(kind: &str, detect_ms: Option<u64>, recover_ms: Option<u64>) -> SeedFault {
    SeedFault {
        kind: kind.into(),
        detect_ns: detect_ms.map(|m| m * 1_000_000),
        recover_ns: recover_ms.map(|m| m * 1_000_000),
        ops_during: 10,
        ok_during: 6,
    }
}

/// Two scenarios: crashes recovered after 1s, 2s, 3s and 4s (one not
/// detected), a partition that never recovered; isolations detected in
/// 150ms and recovered in 500ms and 700ms.
fn sweep() -> SuiteResults {
    let seeds = vec![
        seed(
            "kv-<crash>",
            0,
            Status::Pass,
            vec![
                fault("crash", Some(100), Some(1000)),
                fault("partition", Some(300), None),
            ],
        ),
        seed(
            "kv-<crash>",
            1,
            Status::Pass,
            vec![fault("crash", Some(200), Some(2000))],
        ),
        seed(
            "kv-<crash>",
            2,
            Status::Fail,
            vec![
                fault("crash", None, Some(3000)),
                fault("crash", Some(400), Some(4000)),
            ],
        ),
        seed(
            "register",
            0,
            Status::Pass,
            vec![fault("isolate", Some(150), Some(500))],
        ),
        seed(
            "register",
            1,
            Status::Unknown,
            vec![fault("isolate", Some(150), Some(700))],
        ),
    ];
    let mut results = SeedResults::default();
    for s in seeds {
        results.push(s);
    }
    SuiteResults {
        harness_version: HARNESS_VERSION.to_string(),
        requirements: Default::default(),
        not_run: 0,
        not_run_by_scenario: Default::default(),
        interrupted: false,
        recovery: results.recovery().clone(),
        results,
    }
}

#[test]
fn the_suite_page_of_a_known_sweep() {
    let summary = sweep().summary();
    let html = suite_html::render(&summary);
    assert_eq!(html, suite_html::render(&summary), "deterministic");
    for needle in [
        "<script", "<link", "src=", "url(", "@import", "http:", "https:",
    ] {
        assert!(!html.contains(needle), "found {needle}");
    }
    assert!(html.contains("kv-&lt;crash&gt;"), "names are escaped");
    assert!(!html.contains("kv-<crash>"));
    // Two charts, one line per kind.
    assert_eq!(html.matches("<svg class=\"curve\"").count(), 2);
    assert_eq!(html.matches("<path d=").count(), 3);
    insta::with_settings!({ snapshot_path => "../../reports/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("suite-summary.html", html);
    });
}

#[test]
fn run_writes_the_page_beside_the_other_summaries() {
    let dir = scratch("summary-html");
    let out = chaos(&[
        "run",
        "register-isolate",
        "--seeds",
        "2",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(code(&out) <= 1, "{}", stderr(&out));
    let html = std::fs::read_to_string(dir.join("summary.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("register-isolate"));
    assert!(dir.join("summary.json").exists() && dir.join("summary.md").exists());
    // No temporary file is left behind by the atomic write.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
