//! Command-line conventions (issue 14, item 7): the progress bar's ETA,
//! PASS/FAIL colour on a terminal only (NO_COLOR, CLICOLOR_FORCE),
//! `--format json` for run, replay, bugs and check-history, shell
//! completions, `list` without a scenarios folder, and `--jobs` bounds.
//!
//! A terminal is given by util-linux's `script`, which runs a command on a
//! pseudo-terminal of its own.

mod common;
use common::*;
use std::process::{Command, Output};

const BOLD_GREEN: &str = "\x1b[1;32m";

fn chaos_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chaos-e2e"));
    command.args(args).current_dir(repo_root());
    command.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the chaos binary runs")
}

/// Runs the binary on a pseudo-terminal (stdout and stderr both), with
/// `env` set; returns everything the terminal showed.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut line = String::from(env!("CARGO_BIN_EXE_chaos-e2e"));
    for a in args {
        line.push(' ');
        line.push_str(&harness::report::shell_word(a));
    }
    let mut command = Command::new("script");
    command
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .current_dir(repo_root())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command
        .output()
        .expect("util-linux `script` runs (it gives the command a terminal)");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn the_progress_bar_shows_an_eta_and_status_words_are_coloured_on_a_terminal() {
    let dir = scratch("pty");
    let seen = on_a_terminal(
        &[
            "run",
            "register-isolate",
            "--seeds",
            "12",
            "--jobs",
            "1",
            "--report-dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    assert!(seen.contains("12 seeds, ETA "), "{seen}");
    assert!(
        seen.contains(&format!("{BOLD_GREEN}PASS\x1b[0m: 12 of 12 seeds passed")),
        "{seen}"
    );

    let plain = on_a_terminal(
        &[
            "replay",
            "register-isolate",
            "--seed",
            "1",
            "--report-dir",
            dir.to_str().unwrap(),
        ],
        &[("NO_COLOR", "1")],
    );
    assert!(plain.contains("PASS register-isolate seed 1"), "{plain}");
    assert!(
        !plain.contains('\x1b'),
        "NO_COLOR still coloured: {plain:?}"
    );
}

#[test]
fn piped_output_has_no_colour_unless_forced() {
    let dir = scratch("colour");
    let args = [
        "replay",
        "register-isolate",
        "--seed",
        "1",
        "--report-dir",
        dir.to_str().unwrap(),
    ];
    let piped = chaos_env(&args, &[]);
    assert_eq!(code(&piped), 0, "{}", stderr(&piped));
    assert!(stdout(&piped).starts_with("PASS register-isolate seed 1"));
    assert!(!stdout(&piped).contains('\x1b'));

    let forced = chaos_env(&args, &[("CLICOLOR_FORCE", "1")]);
    assert!(
        stdout(&forced).starts_with(&format!("{BOLD_GREEN}PASS\x1b[0m register-isolate")),
        "{}",
        stdout(&forced)
    );
    // NO_COLOR wins over a forced colour; CLICOLOR_FORCE=0 forces nothing.
    for env in [
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")][..],
        &[("CLICOLOR_FORCE", "0")][..],
    ] {
        let out = chaos_env(&args, env);
        assert!(!stdout(&out).contains('\x1b'), "{env:?}: {}", stdout(&out));
    }
    // A failing history's verdict word is red.
    let history = dir.join("bad.edn");
    std::fs::write(
        &history,
        "{:process 0, :type :invoke, :f :write, :value 1}\n\
         {:process 0, :type :ok, :f :write, :value 1}\n\
         {:process 1, :type :invoke, :f :read, :value nil}\n\
         {:process 1, :type :ok, :f :read, :value 2}\n",
    )
    .unwrap();
    let out = chaos_env(
        &[
            "check-history",
            "--model",
            "register",
            history.to_str().unwrap(),
        ],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("\x1b[1;31mnot-linearizable\x1b[0m"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn run_format_json_prints_summary_json_and_nothing_else() {
    let dir = scratch("json-run");
    let out = chaos(&[
        "run",
        "register-isolate",
        "--seeds",
        "2",
        "--format",
        "json",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let file = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert_eq!(stdout(&out), file, "stdout is summary.json, byte for byte");
    let summary: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(summary["total"]["passed"], 2);

    // A failing run is still one JSON document, its exit code 1.
    let out = chaos(&[
        "run",
        "register-isolate",
        "--seeds",
        "1",
        "--set",
        "target.retry_unsafe=true",
        "--format",
        "json",
        "--report-dir",
        dir.join("b").to_str().unwrap(),
    ]);
    let parsed: serde_json::Value =
        serde_json::from_str(&stdout(&out)).expect("stdout is one JSON document");
    assert_eq!(parsed["total"]["seeds"], 1);
    assert!(code(&out) <= 1, "{}", stderr(&out));
}

#[test]
fn replay_format_json_has_the_documented_fields() {
    let dir = scratch("json-replay");
    let out = chaos(&[
        "replay",
        "register-isolate",
        "--seed",
        "1",
        "--trace",
        "--perfetto",
        dir.join("trace.json").to_str().unwrap(),
        "--format",
        "json",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON document");
    assert_eq!(v["format"], "chaos.replay/1");
    let perfetto = std::path::PathBuf::from(v["perfetto"].as_str().unwrap());
    assert_eq!(perfetto, dir.join("trace.json"));
    assert!(perfetto.is_file());
    assert_eq!(v["scenario"], "register-isolate");
    assert_eq!(v["seed"], 1);
    assert_eq!(v["status"], "pass");
    assert!(v["operations"].as_u64().unwrap() > 0);
    assert_eq!(v["trace_hash"].as_str().unwrap().len(), 16);
    let verdicts = v["verdicts"].as_array().unwrap();
    assert!(verdicts.iter().any(|v| v["invariant"] == "linearizable"));
    assert!(v["replay"].as_str().unwrap().contains("replay "));
    let report_dir = std::path::PathBuf::from(v["report_dir"].as_str().unwrap());
    assert!(report_dir.join("report.json").is_file());
    // The timeline went to stderr, out of the JSON's way.
    assert!(!stderr(&out).is_empty());
}

#[test]
fn bugs_and_check_history_format_json() {
    let out = chaos(&[
        "bugs",
        "--target",
        "register",
        "--max-seeds",
        "40",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON document");
    assert_eq!(v["format"], "chaos.bugs/1");
    assert_eq!(v["max_seeds"], 40);
    let bugs = v["bugs"].as_array().unwrap();
    assert!(!bugs.is_empty());
    assert!(bugs.iter().all(|b| b["target"] == "register"));
    assert_eq!(code(&out), if v["all_caught"] == true { 0 } else { 1 });

    let dir = scratch("json-history");
    let file = dir.join("h.edn");
    std::fs::write(
        &file,
        "{:process 0, :type :invoke, :f :write, :value 1}\n\
         {:process 0, :type :ok, :f :write, :value 1}\n\
         {:process 1, :type :invoke, :f :read, :value nil}\n\
         {:process 1, :type :ok, :f :read, :value 1}\n",
    )
    .unwrap();
    let out = chaos(&[
        "check-history",
        "--model",
        "register",
        "--format",
        "json",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["format"], "chaos.check-history/1");
    assert_eq!(v["model"], "register");
    assert_eq!(v["files"][0]["status"], "pass");
    assert_eq!(v["files"][0]["verdict"], "linearizable");
    assert!(v["files"][0]["elapsed_ms"].is_number());
    assert_eq!(v["files"][0]["details"]["operations"], 2);
    assert!(
        v["files"][0]["details"]["states_explored"]
            .as_u64()
            .unwrap()
            > 0
    );

    let append = dir.join("a.edn");
    std::fs::write(
        &append,
        "{:index 0 :type :invoke :value [[:append 1 1] [:r 1 nil]]}\n\
         {:index 1 :type :ok :value [[:append 1 1] [:r 1 [1]]]}\n",
    )
    .unwrap();
    let out = chaos(&[
        "check-history",
        "--model",
        "list-append",
        "--format",
        "json",
        append.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["model"], "list-append");
    assert_eq!(v["consistency"], "strict-serializable");
    assert_eq!(v["files"][0]["verdict"], "strict-serializable");
}

#[test]
fn completions_for_bash_zsh_and_fish_name_every_command() {
    let dir = scratch("completions");
    for shell in ["bash", "zsh", "fish"] {
        let out = chaos(&["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for command in ["run", "replay", "check-history", "bugs", "completions"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
        // fish spells a long flag `-l seed`.
        assert!(
            script.contains("--seed") || script.contains("-l seed"),
            "{shell} lacks --seed"
        );
        let file = dir.join(format!("chaos.{shell}"));
        std::fs::write(&file, &script).unwrap();
        if shell == "bash" {
            // The bash script at least parses.
            let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
            assert!(check.status.success(), "{}", stderr(&check));
        }
    }
    let out = chaos(&["completions", "tcsh"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("possible values"), "{}", stderr(&out));
}

#[test]
fn list_shows_the_targets_where_there_is_no_scenarios_folder() {
    let dir = scratch("no-scenarios");
    let out = Command::new(env!("CARGO_BIN_EXE_chaos-e2e"))
        .arg("list")
        .current_dir(&dir)
        .env("CHAOS_E2E_WITHOUT_BUNDLED", "1")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("no scenarios: there is no ./scenarios folder here"),
        "{text}"
    );
    assert!(text.contains("new NAME --target TARGET"), "{text}");
    assert!(text.contains("targets:"), "{text}");
    for target in ["register", "kv", "queue", "chain"] {
        assert!(text.contains(&format!("  {target} ")), "{target}: {text}");
    }
}

#[test]
fn jobs_outside_one_to_the_cap_is_a_usage_error() {
    for (jobs, says) in [("0", "at least 1"), ("99999", "more than 1024")] {
        for command in [
            &["run", "register-isolate", "--seeds", "1"][..],
            &["bugs", "--target", "register"][..],
        ] {
            let mut args = command.to_vec();
            args.extend(["--jobs", jobs]);
            let out = chaos(&args);
            assert_eq!(code(&out), 2, "{args:?}");
            assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        }
    }
}

#[test]
fn seed_and_the_other_flags_are_described_in_help() {
    // Every argument having help text is checked on the declarations
    // (harness/src/cli/tests.rs); here, that it reaches the user.
    let out = chaos(&["replay", "--help"]);
    assert_eq!(code(&out), 0);
    let help = stdout(&out);
    for text in [
        "--seed <SEED>",
        "The seed to run",
        "--format <FORMAT>",
        "--report-dir",
        "Scenario file or name",
    ] {
        assert!(help.contains(text), "replay --help lacks {text}: {help}");
    }
    let out = chaos(&["run", "--help"]);
    assert!(stdout(&out).contains("Worker threads (default: every core; at most 1024)"));
}

#[test]
fn a_binary_under_its_own_name_is_named_alike_in_the_terminal_reports_and_shrunk_files() {
    let dir = scratch("own-name");
    let shrunk = dir.join("shrunk.toml");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chaos-e2e"))
            .args(args)
            .current_dir(repo_root())
            .env("CHAOS_E2E_OWN_NAME", "1")
            // Outside cargo, as a user's installed binary runs.
            .env_remove("CARGO_MANIFEST_DIR")
            .output()
            .unwrap()
    };
    let report_dir = dir.to_str().unwrap();
    let replay = run(&[
        "replay",
        "register-lost-replies",
        "--seed",
        "0",
        "--set",
        "target.retry_unsafe=true",
        "--report-dir",
        report_dir,
    ]);
    let expected = "chaos-e2e replay scenarios/register-lost-replies.toml --seed 0";
    assert!(stdout(&replay).contains(expected), "{}", stdout(&replay));
    let md = std::fs::read_to_string(dir.join("register-lost-replies/seed-0/report.md")).unwrap();
    assert!(md.contains(expected), "{md}");
    let out = run(&[
        "shrink",
        "register-lost-replies",
        "--seed",
        "0",
        "--set",
        "target.retry_unsafe=true",
        "--max-runs",
        "2",
        "--out",
        shrunk.to_str().unwrap(),
    ]);
    assert!(
        stdout(&out).contains("replay: chaos-e2e replay"),
        "{}",
        stdout(&out)
    );
    let file = std::fs::read_to_string(&shrunk).unwrap();
    assert!(file.contains("# Replay: chaos-e2e replay"), "{file}");
}
