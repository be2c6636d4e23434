//! JUnit view tests: counts, escaping, seeds not started.

use super::*;

fn result(scenario: &str, seed: u64, status: Status, problems: &[&str]) -> SeedResult {
    SeedResult {
        scenario: scenario.into(),
        seed,
        status,
        problems: problems.iter().map(|p| p.to_string()).collect(),
        failed: Vec::new(),
        trace_hash: format!("{seed:016x}"),
        replay: format!("replay scenarios/{scenario}.toml --seed {seed}"),
        fault_kinds: Vec::new(),
        reached: Vec::new(),
        assertions: Vec::new(),
        recovery: None,
    }
}

#[test]
fn one_suite_per_scenario_and_unknown_is_a_failure() {
    let xml = render_suite(&[
        result("a", 0, Status::Pass, &[]),
        result("a", 1, Status::Unknown, &["linearizable: out of budget"]),
        result("b", 0, Status::Fail, &["availability: ok ratio 0.2 < 0.9"]),
    ]);
    assert!(
        xml.contains("<testsuites name=\"chaos\" tests=\"3\" failures=\"2\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"a\" tests=\"2\" failures=\"1\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"b\" tests=\"1\" failures=\"1\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"seed-0\" classname=\"chaos.a\" time=\"0\"/>"));
    assert!(
        xml.contains(
            "<failure type=\"unknown\" message=\"linearizable: out of budget\">\
         linearizable: out of budget\nreplay: chaos replay scenarios/a.toml --seed 1\n"
        ),
        "{xml}"
    );
    assert!(xml.contains("<failure type=\"fail\" message=\"availability: ok ratio 0.2 &lt; 0.9\">"));
    assert_eq!(
        xml.matches("<testsuite ").count(),
        xml.matches("</testsuite>").count()
    );
    assert_eq!(xml.matches("<testcase ").count(), 3);
}

#[test]
fn scenarios_whose_seeds_are_apart_still_get_one_suite_each() {
    let xml = render_suite(&[
        result("a", 0, Status::Pass, &[]),
        result("b", 0, Status::Fail, &["jobs: lost"]),
        result("a", 1, Status::Pass, &[]),
    ]);
    let a = xml
        .find("<testsuite name=\"a\" tests=\"2\" failures=\"0\"")
        .unwrap();
    let b = xml
        .find("<testsuite name=\"b\" tests=\"1\" failures=\"1\"")
        .unwrap();
    assert!(a < b, "{xml}");
    let a_end = a + xml[a..].find("</testsuite>").unwrap();
    assert_eq!(xml[a..a_end].matches("<testcase ").count(), 2, "{xml}");
}

#[test]
fn a_failure_without_problems_still_says_something() {
    let xml = render_suite(&[result("a", 4, Status::Fail, &[])]);
    assert!(
        xml.contains("message=\"fail without a named problem\""),
        "{xml}"
    );
}

#[test]
fn escapes_markup_quotes_and_control_characters() {
    assert_eq!(
        escape_attr("<a href=\"x\">&'\n\u{1}"),
        "&lt;a href=&quot;x&quot;&gt;&amp;'&#10;\u{FFFD}"
    );
    assert_eq!(escape_text("a < b\n\"c\""), "a &lt; b\n\"c\"");
}

#[test]
fn no_wall_clock_leaks_in() {
    let xml = render_suite(&[result("a", 0, Status::Pass, &[])]);
    assert!(!xml.contains("timestamp"));
    assert!(xml.matches("time=\"0\"").count() == 3);
}

fn with_notes(results: &[SeedResult], notes: &SuiteNotes) -> String {
    let mut out = Vec::new();
    write_suite(&mut out, || results.iter().cloned(), notes).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn seeds_not_started_are_skipped_and_counted_in_tests() {
    let not_run: BTreeMap<String, u64> = [("a".to_string(), 7), ("c".to_string(), 3)]
        .into_iter()
        .collect();
    let reason = "10 scheduled seeds were not started: the time budget (--time-budget) ran out";
    let xml = with_notes(
        &[
            result("a", 0, Status::Pass, &[]),
            result("b", 0, Status::Pass, &[]),
        ],
        &SuiteNotes {
            coverage_failures: &[],
            not_run: Some(&not_run),
            cut_short: Some(("time-budget", reason)),
        },
    );
    // 2 seeds ran, 10 did not start, and the cut itself is a failure.
    assert!(
        xml.contains(
            "<testsuites name=\"chaos\" tests=\"13\" failures=\"1\" errors=\"0\" skipped=\"10\""
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"a\" tests=\"8\" failures=\"0\" errors=\"0\" skipped=\"7\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"b\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\""),
        "{xml}"
    );
    // A scenario none of whose seeds started still has its suite.
    assert!(
        xml.contains("<testsuite name=\"c\" tests=\"3\" failures=\"0\" errors=\"0\" skipped=\"3\""),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<testcase name=\"not-started\" classname=\"chaos.a\" time=\"0\">\n      \
             <skipped message=\"7 seeds were not started: the time budget (--time-budget) ran out\"/>"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase name=\"time-budget\" classname=\"chaos.run\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<skipped ").count(), 2, "{xml}");
    assert_eq!(
        xml.matches("<testsuite ").count(),
        xml.matches("</testsuite>").count()
    );
}

#[test]
fn an_interrupted_run_says_so_in_its_skipped_cases() {
    let not_run: BTreeMap<String, u64> = [("a".to_string(), 2)].into_iter().collect();
    let xml = with_notes(
        &[result("a", 0, Status::Pass, &[])],
        &SuiteNotes {
            coverage_failures: &[],
            not_run: Some(&not_run),
            cut_short: Some(("interrupted", "the run was interrupted")),
        },
    );
    assert!(
        xml.contains("message=\"2 seeds were not started: the run was interrupted (SIGINT)\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"interrupted\" classname=\"chaos.run\""));
}

#[test]
fn a_complete_run_skips_nothing() {
    let xml = render_suite(&[result("a", 0, Status::Pass, &[])]);
    assert!(xml.contains("skipped=\"0\""), "{xml}");
    assert!(!xml.contains("<skipped"), "{xml}");
    assert!(!xml.contains("not-started"), "{xml}");
}
