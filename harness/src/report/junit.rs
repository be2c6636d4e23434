//! JUnit XML: how a CI system learns which seeds failed.
//!
//! Each scenario is a `<testsuite>`, each seed a `<testcase>` named
//! `seed-N` in class `chaos.<scenario>`, so CI dashboards track a seed
//! across builds. A seed that did not pass carries a `<failure>` with the
//! violated invariants and the replay command; an `unknown` seed is a
//! failure too (of type `unknown`), never a pass. Output is deterministic:
//! wall-clock durations and timestamps would make two runs of the same
//! seeds differ, so every `time` is `0`.

use super::summary::SeedResult;
use super::{replay_command, RunReport};
use crate::assertions::sweep::{tally, AssertionTally, SeedAssertion, Tallies};
use crate::check::Status;
use std::fmt::Write;
use std::io;

/// One `<testcase>`.
struct Case {
    name: String,
    classname: String,
    status: Status,
    /// One line: the violated invariants.
    message: String,
    /// The full story: each problem, then the replay command.
    body: String,
}

/// A suite run: one `<testsuite>` per scenario, in the order the scenarios
/// first appear in `results`, each with its assertions' counts across its
/// seeds as `<properties>`.
pub fn render_suite(results: &[SeedResult]) -> String {
    let mut out = Vec::new();
    write_suite(&mut out, || results.iter().cloned(), &[]).expect("writing to memory");
    String::from_utf8(out).expect("the document is UTF-8")
}

/// One scenario's `<testsuite>`: its name, seeds, failures and assertion
/// tallies.
struct SuiteCounts {
    name: String,
    tests: usize,
    failed: usize,
    assertions: Tallies,
}

/// [`render_suite`] written to `out` as it goes: `results` is called once
/// for the counts and once more per scenario (only once if each
/// scenario's seeds are together), so no seed is held for long however
/// many a sweep ran. Each unmet coverage requirement is a failed test
/// case too, in a last suite named `coverage`, so that a sweep that failed
/// only its coverage is red in CI as it is on the command line.
pub fn write_suite<W: io::Write + ?Sized, I: Iterator<Item = SeedResult>>(
    out: &mut W,
    results: impl Fn() -> I,
    coverage_failures: &[String],
) -> io::Result<()> {
    write_suite_noting(out, results, coverage_failures, None)
}

/// [`write_suite`] for a run that stopped early: `interrupted` says why
/// (how many seeds finished and how many never started). It becomes a
/// failing test case `interrupted` in a suite `chaos.run` of its own, so a
/// CI system shows the run as not green even when every seed that
/// finished passed.
pub fn write_suite_noting<W: io::Write + ?Sized, I: Iterator<Item = SeedResult>>(
    out: &mut W,
    results: impl Fn() -> I,
    coverage_failures: &[String],
    interrupted: Option<&str>,
) -> io::Result<()> {
    // Each scenario with its seeds and failures, in order of appearance.
    let mut suites: Vec<SuiteCounts> = Vec::new();
    let mut together = true;
    for r in results() {
        let i = match suites.iter().position(|s| s.name == r.scenario) {
            Some(i) => {
                together &= i + 1 == suites.len();
                i
            }
            None => {
                suites.push(SuiteCounts {
                    name: r.scenario.clone(),
                    tests: 0,
                    failed: 0,
                    assertions: Tallies::default(),
                });
                suites.len() - 1
            }
        };
        suites[i].tests += 1;
        suites[i].failed += usize::from(r.status != Status::Pass);
        suites[i].assertions.add(&r.assertions);
    }
    let noted = usize::from(interrupted.is_some()) + coverage_failures.len();
    let tests: usize = suites.iter().map(|s| s.tests).sum::<usize>() + noted;
    let failed: usize = suites.iter().map(|s| s.failed).sum::<usize>() + noted;
    let suites: Vec<(SuiteCounts, Vec<(String, String)>)> = suites
        .into_iter()
        .map(|mut s| {
            let tallies = std::mem::take(&mut s.assertions).finish();
            (s, tallies.iter().map(property).collect())
        })
        .collect();
    out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
    writeln!(
        out,
        "<testsuites name=\"chaos\" tests=\"{tests}\" failures=\"{failed}\" errors=\"0\" time=\"0\">"
    )?;
    if together {
        let mut current: Option<String> = None;
        for r in results() {
            if current.as_deref() != Some(r.scenario.as_str()) {
                if current.is_some() {
                    out.write_all(b"  </testsuite>\n")?;
                }
                let (counts, properties) = suites
                    .iter()
                    .find(|s| s.0.name == r.scenario)
                    .expect("counted");
                suite_open(out, &counts.name, counts.tests, counts.failed, properties)?;
                current = Some(r.scenario.clone());
            }
            write_case(out, &case(&r))?;
        }
        if current.is_some() {
            out.write_all(b"  </testsuite>\n")?;
        }
    } else {
        for (counts, properties) in &suites {
            suite_open(out, &counts.name, counts.tests, counts.failed, properties)?;
            for r in results().filter(|r| r.scenario == counts.name) {
                write_case(out, &case(&r))?;
            }
            out.write_all(b"  </testsuite>\n")?;
        }
    }
    if !coverage_failures.is_empty() {
        let n = coverage_failures.len();
        suite_open(out, "coverage", n, n, &[])?;
        for (i, unmet) in coverage_failures.iter().enumerate() {
            let case = Case {
                name: format!("requirement-{i}"),
                classname: "chaos.coverage".to_string(),
                status: Status::Fail,
                message: unmet.clone(),
                body: format!("coverage requirement not met: {unmet}\n"),
            };
            write_case(out, &case)?;
        }
        out.write_all(b"  </testsuite>\n")?;
    }
    if let Some(reason) = interrupted {
        suite_open(out, "chaos.run", 1, 1, &[])?;
        write_case(
            out,
            &Case {
                name: "interrupted".into(),
                classname: "chaos.run".into(),
                status: Status::Unknown,
                message: reason.to_string(),
                body: format!("{reason}\n"),
            },
        )?;
        out.write_all(b"  </testsuite>\n")?;
    }
    out.write_all(b"</testsuites>\n")
}

fn case(r: &SeedResult) -> Case {
    Case {
        name: format!("seed-{}", r.seed),
        classname: format!("chaos.{}", r.scenario),
        status: r.status,
        message: if r.problems.is_empty() {
            format!("{} without a named problem", r.status.as_str())
        } else {
            r.problems.join("; ")
        },
        body: {
            let mut body: String = r.problems.iter().map(|p| format!("{p}\n")).collect();
            let _ = writeln!(body, "replay: {}", replay_command(&r.replay));
            if !r.trace_hash.is_empty() {
                let _ = writeln!(body, "trace: {}", r.trace_hash);
            }
            body
        },
    }
}

/// One assertion's counts as a property: named by kind and message, the
/// value says how it did (`seeds 10, held in 4, hits 31, …`).
fn property(t: &AssertionTally) -> (String, String) {
    let mut value = format!(
        "seeds {}, held in {}, hits {}, passes {}, failures {}",
        t.seeds, t.satisfied_seeds, t.hits, t.passes, t.failures
    );
    if t.kind.fails_seed() && t.violated_seeds > 0 {
        let _ = write!(value, ", broken in {} seeds", t.violated_seeds);
    } else if t.never_satisfied() {
        value.push_str(", never held");
    }
    (
        format!("assertion {} {}", t.kind.as_str(), t.message),
        value,
    )
}

/// A single run: one suite with one test case, named as in a suite run so
/// that a replay and a sweep report the same test.
pub fn render_run(report: &RunReport) -> String {
    let problems = report.failed_invariants();
    let mut body = String::new();
    for v in &problems {
        let _ = writeln!(
            body,
            "{} ({}): {}",
            v.invariant,
            v.status.as_str(),
            v.summary
        );
        if let Some(expected) = &v.expected {
            let _ = writeln!(body, "  expected: {expected}");
        }
        for e in &v.evidence {
            let _ = writeln!(body, "  {}", super::view::history_line(e));
        }
    }
    let _ = writeln!(body, "replay: {}", replay_command(&report.replay));
    let _ = writeln!(body, "trace: {}", report.trace_hash);
    let case = Case {
        name: format!("seed-{}", report.seed),
        classname: format!("chaos.{}", report.scenario.name),
        status: report.status,
        message: problems
            .iter()
            .map(|v| format!("{}: {}", v.invariant, v.summary))
            .collect::<Vec<_>>()
            .join("; "),
        body,
    };
    let properties: Vec<(String, String)> = report
        .assertions
        .iter()
        .map(|a| property(&tally([&[SeedAssertion::of(a)][..]])[0]))
        .collect();
    document(
        &[(report.scenario.name.as_str(), vec![case])],
        &[properties],
    )
}

fn failures(cases: &[Case]) -> usize {
    cases.iter().filter(|c| c.status != Status::Pass).count()
}

/// The XML: `properties[i]` belong to `suites[i]` (missing or empty: none).
fn document(suites: &[(&str, Vec<Case>)], properties: &[Vec<(String, String)>]) -> String {
    let tests: usize = suites.iter().map(|(_, cases)| cases.len()).sum();
    let failed: usize = suites.iter().map(|(_, cases)| failures(cases)).sum();
    let mut out = Vec::new();
    let mut write = || -> io::Result<()> {
        out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        io::Write::write_fmt(
            &mut out,
            format_args!(
                "<testsuites name=\"chaos\" tests=\"{tests}\" failures=\"{failed}\" errors=\"0\" time=\"0\">\n"
            ),
        )?;
        for (i, (name, cases)) in suites.iter().enumerate() {
            let props = properties.get(i).map_or(&[][..], Vec::as_slice);
            suite_open(&mut out, name, cases.len(), failures(cases), props)?;
            for case in cases {
                write_case(&mut out, case)?;
            }
            out.extend_from_slice(b"  </testsuite>\n");
        }
        out.extend_from_slice(b"</testsuites>\n");
        Ok(())
    };
    write().expect("writing to memory");
    String::from_utf8(out).expect("the document is UTF-8")
}

fn suite_open<W: io::Write + ?Sized>(
    out: &mut W,
    name: &str,
    tests: usize,
    failed: usize,
    properties: &[(String, String)],
) -> io::Result<()> {
    writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"0\">",
        escape_attr(name),
    )?;
    if properties.is_empty() {
        return Ok(());
    }
    out.write_all(b"    <properties>\n")?;
    for (key, value) in properties {
        writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            escape_attr(key),
            escape_attr(value)
        )?;
    }
    out.write_all(b"    </properties>\n")
}

fn write_case<W: io::Write + ?Sized>(out: &mut W, case: &Case) -> io::Result<()> {
    let open = format!(
        "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
        escape_attr(&case.name),
        escape_attr(&case.classname)
    );
    if case.status == Status::Pass {
        return writeln!(out, "{open}/>");
    }
    writeln!(out, "{open}>")?;
    writeln!(
        out,
        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
        case.status.as_str(),
        escape_attr(&case.message),
        escape_text(&case.body)
    )?;
    out.write_all(b"    </testcase>\n")
}

/// Escapes text for XML element content. Characters XML 1.0 cannot carry
/// at all (most control characters) become U+FFFD, so a stray byte in a
/// panic message cannot make the whole file unreadable.
fn escape_text(text: &str) -> String {
    escape(text, false)
}

/// Escapes an attribute value. Newlines and tabs become character
/// references too, since parsers would otherwise fold them into spaces.
fn escape_attr(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\r' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
        assert!(
            xml.contains("<failure type=\"fail\" message=\"availability: ok ratio 0.2 &lt; 0.9\">")
        );
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
}
