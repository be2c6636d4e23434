//! The linearizability checker against real histories with known verdicts
//! (`shared/testdata/histories`, see its README): Jepsen's etcd register
//! histories and multi-key kv histories.

use harness::check::linearizability::{check_history_text, Budget, ModelKind};
use harness::check::Status;
use std::path::{Path, PathBuf};

fn histories_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/histories");
    assert!(
        dir.is_dir(),
        "shared test histories not found at {}: this test needs the shared testdata folder next to the workspace",
        dir.display()
    );
    dir
}

/// `(file name, expected status)` for every line of a folder's `EXPECTED`.
fn expected(folder: &Path) -> Vec<(String, Status)> {
    let path = folder.join("EXPECTED");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let entries: Vec<(String, Status)> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next().unwrap_or_default().to_string();
            let status = match fields.next() {
                Some("linearizable") => Status::Pass,
                Some("not-linearizable") => Status::Fail,
                other => panic!("{}: unknown verdict {other:?} in {line:?}", path.display()),
            };
            (name, status)
        })
        .collect();
    assert!(!entries.is_empty(), "{} lists no files", path.display());
    entries
}

fn check_folder(name: &str, model: ModelKind) {
    let folder = histories_dir().join(name);
    let entries = expected(&folder);
    let budget = Budget::default();
    let mut wrong = Vec::new();
    for (file, want) in &entries {
        let path = folder.join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let verdict = check_history_text(&text, model, &budget)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if verdict.status != *want {
            wrong.push(format!(
                "{file}: expected {}, got {} ({})",
                want.as_str(),
                verdict.status.as_str(),
                verdict.summary
            ));
        }
        if verdict.status == Status::Fail {
            assert!(
                !verdict.evidence.is_empty(),
                "{file}: a failure without evidence"
            );
            assert!(
                verdict.expected.is_some(),
                "{file}: a failure without expectation"
            );
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} verdicts differ:\n{}",
        wrong.len(),
        entries.len(),
        wrong.join("\n")
    );
}

#[test]
fn jepsen_etcd_register_histories_get_their_expected_verdicts() {
    check_folder("jepsen-etcd", ModelKind::Register);
}

#[test]
fn kv_histories_get_their_expected_verdicts() {
    check_folder("kv", ModelKind::Kv);
}

#[test]
fn verdicts_are_byte_identical_across_runs() {
    let folder = histories_dir().join("kv");
    let text = std::fs::read_to_string(folder.join("c10-bad.txt")).expect("c10-bad.txt");
    let render = || {
        let verdict = check_history_text(&text, ModelKind::Kv, &Budget::default()).expect("parses");
        serde_json::to_string(&verdict).expect("serialises")
    };
    let first = render();
    for _ in 0..5 {
        assert_eq!(render(), first);
    }
}

/// Elle's published list-append histories (`elle/EXPECTED`: what Elle's own
/// tests assert). `anomalies=` lists every anomaly type reported, `not=` the
/// weakest models ruled out, `valid-under=` a model the history satisfies.
#[test]
fn elle_histories_get_the_anomalies_elle_reports() {
    use harness::check::transactional::{self, Consistency, Options, TxnModel};
    let folder = histories_dir().join("elle");
    let expected = std::fs::read_to_string(folder.join("EXPECTED")).expect("elle/EXPECTED");
    let mut checked = 0;
    for line in expected.lines().filter(|l| !l.trim().is_empty()) {
        let mut fields = line.split_whitespace();
        let file = fields.next().expect("a file name");
        let text = std::fs::read_to_string(folder.join(file)).expect("the history");
        let check = |level: Consistency| {
            transactional::check_history_text(&text, &Options::new(TxnModel::ListAppend, level))
                .unwrap_or_else(|e| panic!("{file}: {e}"))
        };
        let types = |v: &harness::check::Verdict| -> Vec<String> {
            v.details["anomalies"]
                .as_array()
                .expect("anomalies")
                .iter()
                .map(|a| a["type"].as_str().unwrap().to_string())
                .collect()
        };
        for field in fields {
            match field.split_once('=') {
                Some(("anomalies", list)) => {
                    let v = check(Consistency::Serializable);
                    let want: Vec<&str> = list.split(',').collect();
                    assert_eq!(types(&v), want, "{file}: {}", v.summary);
                }
                Some(("not", model)) => {
                    let level: Consistency = model.parse().expect("a model");
                    let v = check(level);
                    assert_eq!(v.status, Status::Fail, "{file}: {}", v.summary);
                    assert_eq!(v.details["not"], serde_json::json!([model]), "{file}");
                    assert!(!v.evidence.is_empty(), "{file}: a failure without evidence");
                }
                Some(("valid-under", model)) => {
                    let v = check(model.parse().expect("a model"));
                    assert_eq!(v.status, Status::Pass, "{file}: {}", v.summary);
                }
                None if field == "no-expected-verdict" => {
                    // Still a real history: it parses, has transactions and
                    // yields a dependency graph with every kind of edge.
                    let v = check(Consistency::Serializable);
                    assert_ne!(v.status, Status::Unknown, "{file}: {}", v.summary);
                    for label in ["ww", "wr", "rw"] {
                        assert!(
                            v.details["edges"][label].as_u64() > Some(0),
                            "{file}: no {label} edges"
                        );
                    }
                }
                _ => panic!("{file}: unknown field {field:?} in elle/EXPECTED"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "elle/EXPECTED checks too little");
}
