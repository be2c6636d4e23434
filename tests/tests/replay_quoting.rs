//! Printed replay commands paste into a shell as they are, even when the
//! scenario's path holds a space or a quote.

mod common;
use common::*;
use std::process::Command;

#[test]
fn a_replay_command_for_a_path_with_a_space_and_a_quote_runs_in_a_shell() {
    let dir = scratch("quoted-path");
    let folder = dir.join("it's a dir");
    std::fs::create_dir_all(&folder).unwrap();
    let scenario = folder.join("too strict.toml");
    std::fs::copy(
        repo_root().join("tests/fixtures/register-too-strict.toml"),
        &scenario,
    )
    .unwrap();
    let path = scenario.to_str().unwrap();
    let reports = dir.join("reports");
    let out = chaos(&["run", path, "--report-dir", reports.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}\n{}", stdout(&out), stderr(&out));
    let quoted = format!("'{}'", path.replace('\'', "'\\''"));
    assert!(
        quoted.contains("it'\\''s a dir/too strict.toml"),
        "{quoted}"
    );
    assert!(
        stdout(&out).contains(&format!("replay {quoted} --seed")),
        "{}",
        stdout(&out)
    );
    assert!(std::fs::read_to_string(reports.join("summary.md"))
        .unwrap()
        .contains(&format!("replay {quoted} --seed")));

    // The command as written in summary.json, run by a real shell.
    let summary = read_json(&reports.join("summary.json"));
    let failure = &summary["failures"][0];
    let replay = failure["replay"].as_str().unwrap();
    let seed = failure["seed"].as_u64().unwrap();
    let again_dir = dir.join("again");
    let line = format!(
        "'{}' {replay} --report-dir '{}'",
        env!("CARGO_BIN_EXE_chaos-e2e"),
        again_dir.display()
    );
    let again = Command::new("sh")
        .args(["-c", &line])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert_eq!(code(&again), 1, "{line}\n{}", stderr(&again));
    let first = read_json(&reports.join(format!("register-too-strict/seed-{seed}/report.json")));
    let second = read_json(&again_dir.join(format!("register-too-strict/seed-{seed}/report.json")));
    assert_eq!(first["verdicts"], second["verdicts"]);
    assert_eq!(first["trace_hash"], second["trace_hash"]);
    assert_eq!(second["scenario_file"], path);
}
