//! The `assertions` verdict: whether the target's own `always` and
//! `unreachable` assertions held in a run (see [`crate::assertions`]).
//!
//! It appears only in runs that reached an assertion, and fails when one
//! was broken, with each broken assertion's message, the first failing
//! hit's simulated time, host, site and details as evidence.

use super::Verdict;
use crate::assertions::AssertionRecord;
use serde_json::{json, Value};
use std::time::Duration;

/// The verdict name.
pub const INVARIANT: &str = "assertions";

/// The verdict on a run's assertions, or `None` if it reached none.
pub fn check(records: &[AssertionRecord]) -> Option<Verdict> {
    if records.is_empty() {
        return None;
    }
    let hits: u64 = records.iter().map(|r| r.hits).sum();
    let mut broken: Vec<&AssertionRecord> = records.iter().filter(|r| r.violated()).collect();
    if broken.is_empty() {
        return Some(
            Verdict::pass(
                INVARIANT,
                format!(
                    "{} assertions reached ({hits} hits); no always failed, no unreachable was reached",
                    records.len()
                ),
            )
            .with_detail("assertions", records.len() as u64)
            .with_detail("hits", hits),
        );
    }
    // The earliest failure first: it is the one that explains the rest.
    broken.sort_by_key(|r| r.first_failure.as_ref().map(|f| (f.time_ns, f.hit)));
    let first = broken[0];
    let mut summary = describe(first);
    if broken.len() > 1 {
        summary.push_str(&format!("; {} more assertions broken", broken.len() - 1));
    }
    let evidence: Vec<Value> = broken.iter().map(|r| evidence(r)).collect();
    Some(
        Verdict::fail(INVARIANT, summary)
            .with_expected(
                "every always assertion holds each time it is reached, and no unreachable assertion is reached",
            )
            .with_detail("broken", evidence),
    )
}

/// `always "m" failed at 1.2s on n1 (2 of 40 hits)`.
fn describe(record: &AssertionRecord) -> String {
    let mut text = format!("{} \"{}\"", record.kind.as_str(), record.message);
    text.push_str(
        if record.kind == crate::assertions::AssertKind::Unreachable {
            " was reached"
        } else {
            " failed"
        },
    );
    if let Some(f) = &record.first_failure {
        text.push_str(&format!(
            " at {}",
            crate::duration::format_duration(Duration::from_nanos(f.time_ns))
        ));
        if let Some(host) = &f.host {
            text.push_str(&format!(" on {host}"));
        }
    }
    text.push_str(&format!(" ({} of {} hits)", record.failures, record.hits));
    text
}

fn evidence(record: &AssertionRecord) -> Value {
    let mut value = json!({
        "message": record.message,
        "kind": record.kind,
        "hits": record.hits,
        "failures": record.failures,
    });
    if let Some(f) = &record.first_failure {
        value["first_failure"] = json!({
            "time": crate::duration::format_duration(Duration::from_nanos(f.time_ns)),
            "time_ns": f.time_ns,
            "hit": f.hit,
            "host": f.host,
            "site": f.site,
            "details": f.details,
        });
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assertions::{AssertKind, Occurrence};

    fn record(message: &str, kind: AssertKind, passes: u64, failures: u64) -> AssertionRecord {
        AssertionRecord {
            message: message.into(),
            kind,
            sites: vec!["src/x.rs:1:1".into()],
            hits: passes + failures,
            passes,
            failures,
            first_pass: None,
            first_failure: (failures > 0 && kind.fails_seed()).then(|| Occurrence {
                time_ns: 1_500_000_000,
                hit: 1,
                host: Some("n2".into()),
                site: "src/x.rs:1:1".into(),
                details: json!({ "term": 4 }),
            }),
            extreme: None,
        }
    }

    #[test]
    fn no_assertions_no_verdict_and_sometimes_never_fail_a_seed() {
        assert!(check(&[]).is_none());
        let v = check(&[record("elected", AssertKind::Sometimes, 0, 9)]).unwrap();
        assert_eq!(v.status, super::super::Status::Pass, "{v:?}");
    }

    #[test]
    fn a_broken_always_fails_with_time_host_and_details() {
        let v = check(&[
            record("elected", AssertKind::Sometimes, 1, 0),
            record("one leader per term", AssertKind::Always, 7, 2),
            record("no stale read", AssertKind::Unreachable, 0, 1),
        ])
        .unwrap();
        assert_eq!(v.status, super::super::Status::Fail);
        assert_eq!(
            v.summary,
            "always \"one leader per term\" failed at 1500ms on n2 (2 of 9 hits); 1 more assertions broken"
        );
        let broken = v.details["broken"].as_array().unwrap();
        assert_eq!(broken.len(), 2);
        assert_eq!(broken[0]["first_failure"]["details"], json!({ "term": 4 }));
        assert_eq!(broken[1]["kind"], json!("unreachable"));
    }
}
