//! Malformed scenario files are rejected with exit code 2 and a message
//! naming the file, the line and column, the key and what was expected.

mod common;
use common::*;

const VALID: &str = r#"name = "errors"
[target]
system = "register"

[simulation]
duration = "5s"

[[faults.events]]
kind = "partition"
at = "1s"
duration = "1s"
sides = [["server"], ["clients"]]
"#;

/// Writes `text` as a scenario file and runs `chaos check` on it.
fn check_text(test: &str, text: &str) -> (i32, String, String) {
    let dir = scratch(test);
    let file = dir.join("broken.toml");
    std::fs::write(&file, text).unwrap();
    let out = chaos(&["check", file.to_str().unwrap()]);
    (code(&out), stderr(&out), file.display().to_string())
}

fn assert_error(test: &str, text: &str, line: usize, key: &str, expected: &str) {
    let (code, err, file) = check_text(test, text);
    assert_eq!(code, 2, "{err}");
    let location = format!("{file}:{line}:");
    assert!(err.contains(&location), "expected {location} in: {err}");
    assert!(
        err.contains(&format!("key `{key}`")),
        "expected key `{key}` in: {err}"
    );
    assert!(err.contains(expected), "expected \"{expected}\" in: {err}");
}

#[test]
fn the_valid_base_passes() {
    let (code, err, _) = check_text("valid", VALID);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn unknown_key() {
    let text = VALID.replace("duration = \"5s\"", "duration = \"5s\"\ndurration = \"5s\"");
    assert_error(
        "unknown-key",
        &text,
        7,
        "simulation.durration",
        "unknown field `durration`",
    );
}

#[test]
fn unknown_key_in_target_settings() {
    let text = VALID.replace(
        "system = \"register\"",
        "system = \"register\"\nmax_attempt = 3",
    );
    assert_error(
        "unknown-setting",
        &text,
        4,
        "target.max_attempt",
        "unknown field `max_attempt`",
    );
}

#[test]
fn wrong_type() {
    let text = VALID.replace(
        "[simulation]",
        "[workload]\nclients = \"four\"\n\n[simulation]",
    );
    assert_error("wrong-type", &text, 6, "workload.clients", "expected u32");
}

#[test]
fn negative_duration() {
    let text = VALID.replace("duration = \"5s\"", "duration = \"-5s\"");
    assert_error(
        "negative",
        &text,
        6,
        "simulation.duration",
        "negative duration",
    );
}

#[test]
fn duration_without_unit() {
    let text = VALID.replace("duration = \"5s\"", "duration = 5");
    assert_error(
        "unitless",
        &text,
        6,
        "simulation.duration",
        "expected a duration such as",
    );
}

#[test]
fn unknown_host_in_a_partition() {
    let text = VALID.replace(
        "[[\"server\"], [\"clients\"]]",
        "[[\"server\"], [\"srv2\"]]",
    );
    assert_error(
        "unknown-host",
        &text,
        12,
        "faults.events[0].sides[1][0]",
        "unknown host \"srv2\"",
    );
}

#[test]
fn unknown_target() {
    let text = VALID.replace("system = \"register\"", "system = \"etcd\"");
    assert_error(
        "unknown-target",
        &text,
        3,
        "target.system",
        "unknown target \"etcd\": expected one of register",
    );
}

#[test]
fn unknown_fault_kind() {
    let text = VALID.replace("kind = \"partition\"", "kind = \"meteor\"");
    assert_error(
        "unknown-kind",
        &text,
        9,
        "faults.events[0].kind",
        "unknown variant `meteor`, expected one of `partition`",
    );
}

#[test]
fn out_of_range_ratio() {
    let text = format!("{VALID}\n[invariants.availability]\nmin_ok_ratio = 1.5\n");
    assert_error(
        "ratio",
        &text,
        15,
        "invariants.availability.min_ok_ratio",
        "expected a ratio in [0, 1]",
    );
}

#[test]
fn invalid_toml_syntax() {
    let (code, err, file) = check_text("syntax", "name = \"x\"\n[target\nsystem = 1\n");
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{file}:2:")), "{err}");
    assert!(err.contains("invalid TOML"), "{err}");
}

#[test]
fn run_refuses_a_malformed_scenario_before_running_anything() {
    let dir = scratch("run-malformed");
    let file = dir.join("bad.toml");
    std::fs::write(&file, VALID.replace("5s", "-5s")).unwrap();
    let out = chaos(&[
        "run",
        file.to_str().unwrap(),
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("negative duration"));
    assert!(!dir.join("summary.json").exists());
}
