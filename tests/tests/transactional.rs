//! The transactional checker end to end: `check-history --model
//! list-append|rw-register` on Elle's published histories and on
//! hand-written files, and `[invariants.transactional]` in scenarios.

mod common;
use common::*;

fn elle(file: &str) -> String {
    repo_root()
        .join("../shared/testdata/histories/elle")
        .join(file)
        .display()
        .to_string()
}

fn check_history(args: &[&str]) -> (i32, String) {
    let mut all = vec!["check-history"];
    all.extend(args);
    let out = chaos(&all);
    (code(&out), format!("{}{}", stdout(&out), stderr(&out)))
}

#[test]
fn elle_s_si_history_is_snapshot_isolated_but_not_repeatable_read() {
    let file = elle("si-without-g-single.edn");
    let (code, out) = check_history(&[
        "--model",
        "list-append",
        "--consistency",
        "snapshot-isolation",
        &file,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!("{file} snapshot-isolation (")),
        "{out}"
    );
    assert!(
        out.contains("found G2-item, which snapshot-isolation allows"),
        "{out}"
    );

    let (code, out) = check_history(&[
        "--model",
        "list-append",
        "--consistency",
        "repeatable-read",
        &file,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!("{file} not-repeatable-read (")),
        "{out}"
    );
    assert!(out.contains("): G2-item (T4 -> T6 -> T4)"), "{out}");
    // The cycle's steps, then its transactions as EDN.
    assert!(
        out.contains("T6 (process 9) read key 9 as [2], before T4 (process 7)'s append of 5"),
        "{out}"
    );
    assert!(
        out.contains(
            "{:process 9, :type :ok, :f :txn, :value [[:append 6 2] [:r 9 [2]]], :time 0}"
        ),
        "{out}"
    );
}

#[test]
fn the_elle_paper_example_parses_and_shows_its_cycle() {
    let (code, out) = check_history(&["--model", "list-append", &elle("paper-example.edn")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not-strict-serializable"), "{out}");
    assert!(out.contains("G-single (T2 -> T4 -> T6 -> T2)"), "{out}");
}

#[test]
fn hand_written_histories_in_both_models() {
    let dir = scratch("txn-histories");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let register_ok = write(
        "register-ok.edn",
        "{:process 0, :type :invoke, :f :txn, :value [[:w \"x\" 1]]}\n\
         {:process 0, :type :ok, :f :txn, :value [[:w \"x\" 1]]}\n\
         {:process 1, :type :invoke, :f :txn, :value [[:r \"x\" nil]]}\n\
         {:process 1, :type :ok, :f :txn, :value [[:r \"x\" 1]]}\n",
    );
    let lost = write(
        "register-lost-update.edn",
        "{:process 0, :type :invoke, :f :txn, :value [[:r \"x\" nil] [:w \"x\" 1]]}\n\
         {:process 1, :type :invoke, :f :txn, :value [[:r \"x\" nil] [:w \"x\" 2]]}\n\
         {:process 0, :type :ok, :f :txn, :value [[:r \"x\" nil] [:w \"x\" 1]]}\n\
         {:process 1, :type :ok, :f :txn, :value [[:r \"x\" nil] [:w \"x\" 2]]}\n",
    );
    let (code, out) = check_history(&["--model", "rw-register", &register_ok]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("strict-serializable ("), "{out}");
    let (code, out) = check_history(&[
        "--model",
        "rw-register",
        "--consistency",
        "snapshot-isolation",
        &lost,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("lost-update"), "{out}");
    let (code, out) = check_history(&[
        "--model",
        "rw-register",
        "--consistency",
        "read-committed",
        &lost,
    ]);
    assert_eq!(code, 0, "{out}");

    // Bad input names the file and line; a bad level names the choices.
    let broken = write(
        "broken.edn",
        "{:process 0, :type :invoke, :f :txn, :value [[:w \"x\" 1]]}\n\
         {:process 0, :type :ok, :f :txn, :value [[:frob \"x\" 1]]}\n",
    );
    let (code, out) = check_history(&["--model", "rw-register", &broken]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("broken.edn: line 2: micro-operation 1: expected [:append k v]"),
        "{out}"
    );
    let (code, out) = check_history(&[
        "--model",
        "list-append",
        "--consistency",
        "serialisable",
        &broken,
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(
            "unknown consistency model \"serialisable\": expected one of strict-serializable"
        ),
        "{out}"
    );
    // Flags of the other kind of model are refused.
    let (code, out) = check_history(&[
        "--model",
        "register",
        "--consistency",
        "serializable",
        &broken,
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("are for list-append and rw-register"), "{out}");
    let (code, out) = check_history(&["--model", "list-append", "--max-states", "5", &broken]);
    assert_eq!(code, 2, "{out}");
    // The wrong model for the file: unknown, naming the event.
    let (code, out) = check_history(&["--model", "list-append", &register_ok]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("unknown (") && out.contains("event 1 (process 0)"),
        "{out}"
    );
}

const SCENARIO: &str = r#"name = "txn-invariant"
[target]
system = "register"

[simulation]
duration = "2s"

[invariants.transactional]
model = "list-append"
consistency = "serializable"
"#;

#[test]
fn the_scenario_table_is_validated_and_checked_in_runs() {
    let dir = scratch("txn-scenario");
    let file = dir.join("txn.toml");
    let broken = SCENARIO.replace("\"serializable\"", "\"serialisable\"");
    std::fs::write(&file, &broken).unwrap();
    let out = chaos(&["check", file.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains(":10:") && err.contains("key `invariants.transactional.consistency`"),
        "{err}"
    );
    assert!(err.contains("snapshot-isolation"), "{err}");
    std::fs::write(
        &file,
        SCENARIO.replace("consistency", "max_edges = 0\nconsistency"),
    )
    .unwrap();
    let err = stderr(&chaos(&["check", file.to_str().unwrap()]));
    assert!(
        err.contains("key `invariants.transactional.max_edges`"),
        "{err}"
    );

    // The register target records no transactions: the invariant is
    // unknown, never a pass.
    std::fs::write(&file, SCENARIO).unwrap();
    let reports = dir.join("reports");
    let out = chaos(&[
        "run",
        file.to_str().unwrap(),
        "--seeds",
        "1",
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    let report = read_json(&reports.join("txn-invariant/seed-0/report.json"));
    let verdict = report["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["invariant"] == "transactional")
        .expect("a transactional verdict");
    assert_eq!(verdict["status"], "unknown");
    assert!(verdict["summary"]
        .as_str()
        .unwrap()
        .contains("no txn operations"));
}
