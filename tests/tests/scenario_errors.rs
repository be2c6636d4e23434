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

/// VALID plus one more fault event at line 14, its keys on lines 15-.
fn with_event(kind: &str, rest: &str) -> String {
    format!(
        "{VALID}\n[[faults.events]]\nkind = \"{kind}\"\nhost = \"server\"\nat = \"2s\"\n{rest}\n"
    )
}

#[test]
fn disk_and_clock_faults_are_valid_with_their_keys() {
    for (kind, rest) in [
        (
            "disk-error",
            "ops = [\"read\", \"sync\"]\nprobability = 0.5",
        ),
        ("disk-full", "capacity_bytes = 65536"),
        ("disk-corrupt", "probability = 0.5"),
        ("disk-slow", "latency = \"50ms\""),
        ("clock-jump", "offset = \"-5s\"\nduration = \"1s\""),
        ("clock-drift", "rate = -0.5"),
    ] {
        let (code, err, _) = check_text(kind, &with_event(kind, rest));
        assert_eq!(code, 0, "{kind}: {err}");
    }
}

#[test]
fn disk_fault_on_an_unknown_host() {
    let text = with_event("disk-error", "").replace("host = \"server\"\nat", "host = \"n9\"\nat");
    assert_error(
        "disk-unknown-host",
        &text,
        16,
        "faults.events[1].host",
        "unknown server \"n9\"",
    );
}

#[test]
fn disk_error_probability_out_of_range() {
    assert_error(
        "disk-probability",
        &with_event("disk-error", "probability = 1.5"),
        18,
        "faults.events[1].probability",
        "expected a probability in [0, 1], found 1.5",
    );
}

#[test]
fn disk_error_with_an_unknown_operation() {
    assert_error(
        "disk-ops",
        &with_event("disk-error", "ops = [\"fsync\"]"),
        18,
        "faults.events[1].ops",
        "unknown variant `fsync`, expected one of `read`, `write`, `sync`",
    );
}

#[test]
fn disk_slow_without_latency() {
    assert_error(
        "disk-slow-zero",
        &with_event("disk-slow", "latency = \"0s\""),
        18,
        "faults.events[1].latency",
        "expected a latency above zero",
    );
}

#[test]
fn clock_jump_with_a_bad_signed_offset() {
    assert_error(
        "clock-offset",
        &with_event("clock-jump", "offset = \"-5\""),
        18,
        "faults.events[1].offset",
        "\"-5\" is not a signed duration such as \"-5s\", \"+10s\" or \"300ms\"",
    );
}

#[test]
fn clock_drift_rate_out_of_range() {
    assert_error(
        "clock-rate",
        &with_event("clock-drift", "rate = 20.0"),
        18,
        "faults.events[1].rate",
        "expected a non-zero rate in [-1, 10]",
    );
}

#[test]
fn random_clock_drift_range_reversed() {
    let text =
        format!("{VALID}\n[faults.random]\nkinds = [\"clock-drift\"]\nrecovery = \"1s\"\nclock_drift = [0.5, -0.5]\n");
    assert_error(
        "random-drift",
        &text,
        17,
        "faults.random.clock_drift",
        "expected rates [low, high] within [-1, 10], found [0.5, -0.5]",
    );
}

#[test]
fn random_clock_skew_out_of_range() {
    let text =
        format!("{VALID}\n[faults.random]\nkinds = [\"crash\"]\nrecovery = \"1s\"\nclock_skew = [-2.0, 0.5]\n");
    assert_error(
        "random-skew",
        &text,
        17,
        "faults.random.clock_skew",
        "expected rates [low, high] within [-1, 10], found [-2, 0.5]",
    );
}

/// `VALID` with an `[invariants.linearizable]` table holding `rest`
/// (from line 16 on).
fn with_linearizable(rest: &str) -> String {
    format!("{VALID}\n[invariants.linearizable]\nmodel = \"register\"\n{rest}\n")
}

#[test]
fn linearizability_budgets_are_valid_with_their_keys() {
    let text = with_linearizable("max_states = 100000\nmax_memory_bytes = 67108864");
    let (code, err, _) = check_text("lin-budgets", &text);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn linearizability_state_budget_out_of_range() {
    assert_error(
        "lin-states",
        &with_linearizable("max_states = 0"),
        16,
        "invariants.linearizable.max_states",
        "expected a number of states per key from 1 to 2147483647, found 0",
    );
}

#[test]
fn linearizability_memory_budget_too_small_or_negative() {
    assert_error(
        "lin-memory",
        &with_linearizable("max_states = 10\nmax_memory_bytes = 512"),
        17,
        "invariants.linearizable.max_memory_bytes",
        "expected a number of bytes per key of at least 1048576 (1 MiB), found 512",
    );
    assert_error(
        "lin-memory-negative",
        &with_linearizable("max_memory_bytes = -1"),
        16,
        "invariants.linearizable.max_memory_bytes",
        "invalid value: integer `-1`, expected u64",
    );
    assert_error(
        "lin-memory-typo",
        &with_linearizable("max_memory = 5"),
        16,
        "invariants.linearizable.max_memory",
        "unknown field `max_memory`",
    );
}

#[test]
fn a_coverage_requirement_names_exactly_one_thing_and_an_assertion_has_a_message() {
    let both =
        format!("{VALID}\n[[coverage]]\nevent = \"x\"\nassertion = \"y\"\nmin_fraction = 0.5\n");
    assert_error(
        "coverage-two",
        &both,
        14,
        "coverage[0]",
        "give exactly one of `fault`, `event` or `assertion`",
    );
    let empty = format!("{VALID}\n[[coverage]]\nassertion = \" \"\nmin_fraction = 0.5\n");
    assert_error(
        "coverage-empty-assertion",
        &empty,
        15,
        "coverage[0].assertion",
        "expected the message of an assertion in the target's code",
    );
}
