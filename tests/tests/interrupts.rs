//! Stopping `chaos run` from outside: Ctrl-C (SIGINT) once writes the
//! reports of what finished, marked interrupted, and exits 130; twice
//! exits at once; kill -9 at any moment leaves only whole files.
#![cfg(unix)]

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Long enough to stop for any test: far more seeds than run in a minute.
const MANY_SEEDS: &str = "100000";

/// Starts `chaos run` with stdout and stderr going to files in `dir`.
fn spawn_run(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chaos-e2e"))
        .arg("run")
        .args(args)
        .current_dir(repo_root())
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .expect("the chaos binary starts")
}

/// Waits until `ready` holds, failing the test after a minute.
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_exit(child: &mut Child) -> ExitStatus {
    let mut status = None;
    wait_for("the run to exit", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status.unwrap()
}

fn sigint(child: &Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -INT failed");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_first_sigint_lets_running_seeds_finish_and_reports_them_as_interrupted() {
    let dir = scratch("sigint-once");
    let reports = dir.join("reports");
    let mut child = spawn_run(
        &dir,
        &[
            "register-isolate",
            "--seeds",
            MANY_SEEDS,
            "--jobs",
            "2",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
    );
    wait_for("a few seeds to finish", || {
        reports
            .join("register-isolate/seed-3/report.json")
            .is_file()
    });
    sigint(&child);
    let status = wait_exit(&mut child);
    let (out, err) = (read(&dir.join("stdout")), read(&dir.join("stderr")));
    assert_eq!(status.code(), Some(130), "{out}\n{err}");
    assert!(err.contains("interrupted: no new seeds start"), "{err}");
    assert!(out.contains("interrupted: "), "{out}");
    assert!(out.contains("not a pass"), "{out}");

    let summary = read_json(&reports.join("summary.json"));
    assert_eq!(summary["interrupted"], true, "{summary}");
    let ran = summary["total"]["seeds"].as_u64().unwrap();
    let not_run = summary["not_run"].as_u64().unwrap();
    assert!(ran >= 4, "{summary}");
    assert_eq!(ran + not_run, MANY_SEEDS.parse::<u64>().unwrap());
    // Every seed that is reported finished: its report is on disk.
    let results = read_json(&reports.join("results.json"));
    assert_eq!(results["interrupted"], true);
    let seeds = results["results"].as_array().unwrap();
    assert_eq!(seeds.len() as u64, ran);
    for result in seeds {
        let seed = &result["seed"];
        let report = reports.join(format!("register-isolate/seed-{seed}/report.json"));
        assert_eq!(read_json(&report)["seed"], *seed);
    }
    let markdown = read(&reports.join("summary.md"));
    assert!(!markdown.contains("PASS"), "{markdown}");
    assert!(
        markdown.contains("Not green: the run was interrupted (SIGINT)"),
        "{markdown}"
    );
    let junit = read(&reports.join("junit.xml"));
    assert!(
        junit.contains("<testcase name=\"interrupted\" classname=\"chaos.run\""),
        "{junit}"
    );
    // Seeds never started are JUnit's skipped tests, counted in `tests`.
    assert!(
        junit.contains(&format!(
            "tests=\"{}\" failures=\"",
            MANY_SEEDS.parse::<u64>().unwrap() + 1
        )),
        "{junit}"
    );
    assert!(junit.contains(&format!("skipped=\"{not_run}\"")), "{junit}");
    assert!(
        junit.contains(&format!(
            "<skipped message=\"{not_run} seeds were not started: the run was interrupted (SIGINT)\"/>"
        )),
        "{junit}"
    );

    // A merge keeps the mark: an interrupted shard never makes a green total.
    let merged = dir.join("merged");
    let out = chaos(&[
        "merge",
        reports.to_str().unwrap(),
        "--report-dir",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(read_json(&merged.join("summary.json"))["interrupted"], true);
}

#[test]
fn a_second_sigint_exits_at_once() {
    let dir = scratch("sigint-twice");
    let reports = dir.join("reports");
    // Seeds that take a second or more each, so the first SIGINT still
    // has one running when the second arrives.
    let mut child = spawn_run(
        &dir,
        &[
            "register-isolate",
            "--seeds",
            "50",
            "--jobs",
            "1",
            "--set",
            "simulation.duration=1000s",
            "--set",
            "workload.keys=20",
            "--set",
            "workload.clients=20",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
    );
    // The "running …" line is printed after the handler is installed.
    wait_for("the sweep to start", || {
        read(&dir.join("stderr")).contains("running 50 seeds")
    });
    sigint(&child);
    wait_for("the first SIGINT to be seen", || {
        read(&dir.join("stderr")).contains("interrupted: no new seeds start")
    });
    sigint(&child);
    let status = wait_exit(&mut child);
    let err = read(&dir.join("stderr"));
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted again: exiting now"), "{err}");
    assert!(
        !reports.join("summary.json").exists(),
        "the second SIGINT came while the first seed ran: nothing was summarised"
    );
}

/// Every file a report folder holds, except the temporary files a killed
/// writer may leave (hidden, named `.<file>.tmp-…`, never read).
fn report_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if !entry.file_name().to_string_lossy().starts_with('.') {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn kill_9_at_any_moment_leaves_only_whole_files() {
    let dir = scratch("kill-9");
    let reports = dir.join("reports");
    let mut checked = 0;
    // Killed after more and more seeds, into the same folder: each kill
    // lands at a different point of some write.
    for seeds_before_kill in [2, 9, 25] {
        let mut child = spawn_run(
            &dir,
            &[
                "register-isolate",
                "--seeds",
                MANY_SEEDS,
                "--jobs",
                "2",
                "--report-dir",
                reports.to_str().unwrap(),
            ],
        );
        let marker = reports.join(format!("register-isolate/seed-{seeds_before_kill}"));
        wait_for("seeds to finish", || marker.is_dir());
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        for file in report_files(&reports) {
            let text = std::fs::read_to_string(&file).unwrap();
            match file.extension().and_then(|e| e.to_str()) {
                Some("json") => {
                    serde_json::from_str::<serde_json::Value>(&text)
                        .unwrap_or_else(|e| panic!("{} is not whole: {e}", file.display()));
                }
                Some("md") => assert!(text.ends_with('\n'), "{}", file.display()),
                Some("html") => assert!(text.trim_end().ends_with("</html>"), "{}", file.display()),
                Some("xml") => assert!(text.ends_with("</testsuites>\n"), "{}", file.display()),
                _ => panic!("unexpected file {}", file.display()),
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} files were written");
}
