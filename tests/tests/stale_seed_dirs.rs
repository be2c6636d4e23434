//! A report folder used again: seed folders an earlier run left for the
//! scenarios being run are removed first, so none can pass for this run's.

mod common;
use common::*;

#[test]
fn a_reused_report_dir_keeps_only_the_seed_folders_this_run_produced() {
    let dir = scratch("stale-seeds");
    let reports = dir.join("reports");
    let run = |args: &[&str]| {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.extend(["--report-dir", reports.to_str().unwrap()]);
        chaos(&all)
    };
    let first = run(&["register-isolate", "--seeds", "5"]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let other = run(&["register-crash-restart", "--seeds", "2"]);
    assert_eq!(code(&other), 0, "{}", stderr(&other));
    // Not seed folders: left alone.
    std::fs::write(reports.join("register-isolate/notes.txt"), "mine").unwrap();
    std::fs::create_dir_all(reports.join("register-isolate/seed-old")).unwrap();

    let second = run(&["register-isolate", "--seed-range", "3..5"]);
    assert_eq!(code(&second), 0, "{}", stderr(&second));
    assert!(
        stderr(&second).contains("removed 5 seed folders an earlier run left in"),
        "{}",
        stderr(&second)
    );
    let mut left: Vec<String> = std::fs::read_dir(reports.join("register-isolate"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["notes.txt", "seed-3", "seed-4", "seed-old"]);
    // Another scenario's folders are not this run's business.
    for seed in 0..2 {
        assert!(reports
            .join(format!("register-crash-restart/seed-{seed}/report.json"))
            .is_file());
    }
    let summary = read_json(&reports.join("summary.json"));
    assert_eq!(summary["total"]["seeds"], 2);

    // A fresh folder: nothing to remove, nothing said.
    let fresh = dir.join("fresh");
    let out = chaos(&[
        "run",
        "register-isolate",
        "--seeds",
        "1",
        "--report-dir",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("removed"), "{}", stderr(&out));
}
