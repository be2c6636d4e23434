//! JUnit XML: how a CI system learns which seeds failed.
//!
//! Each scenario is a `<testsuite>`, each seed a `<testcase>` named
//! `seed-N` in class `chaos.<scenario>`, so CI dashboards track a seed
//! across builds. A seed that did not pass carries a `<failure>` with the
//! violated invariants and the replay command; an `unknown` seed is a
//! failure too (of type `unknown`), never a pass. Seeds never started are
//! skipped (see [`write_suite`]). Output is deterministic:
//! wall-clock durations and timestamps would make two runs of the same
//! seeds differ, so every `time` is `0`.

use super::summary::{SeedResult, SuiteSummary};
use super::{replay_command, RunReport};
use crate::assertions::sweep::{tally, AssertionTally, SeedAssertion, Tallies};
use crate::check::Status;
use std::collections::BTreeMap;
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
    write_suite(&mut out, || results.iter().cloned(), &SuiteNotes::default())
        .expect("writing to memory");
    String::from_utf8(out).expect("the document is UTF-8")
}

/// What a suite's JUnit file says beyond the seeds that ran.
#[derive(Clone, Copy, Debug, Default)]
pub struct SuiteNotes<'a> {
    /// Unmet coverage requirements, one failing case each.
    pub coverage_failures: &'a [String],
    /// Seeds of each scenario that were scheduled but never started.
    pub not_run: Option<&'a BTreeMap<String, u64>>,
    /// The run stopped before every seed ran: the name of the failing
    /// case that says so (`interrupted` or `time-budget`) and why.
    pub cut_short: Option<(&'a str, &'a str)>,
}

impl<'a> SuiteNotes<'a> {
    /// The notes of a suite summary: its coverage failures, its seeds not
    /// started, and why it stopped early.
    pub fn of(summary: &'a SuiteSummary, cut_short: Option<(&'a str, &'a str)>) -> SuiteNotes<'a> {
        SuiteNotes {
            coverage_failures: &summary.coverage_failures,
            not_run: Some(&summary.not_run_by_scenario),
            cut_short,
        }
    }
}

/// One scenario's `<testsuite>`: its name, seeds, failures, seeds not
/// started and assertion tallies.
struct SuiteCounts {
    name: String,
    tests: usize,
    failed: usize,
    skipped: u64,
    assertions: Tallies,
}

/// [`render_suite`] written to `out` as it goes: `results` is called once
/// for the counts and once more per scenario (only once if each
/// scenario's seeds are together), so no seed is held for long however
/// many a sweep ran.
///
/// Each unmet coverage requirement is a failed test case too, in a last
/// suite named `coverage`, so that a sweep that failed only its coverage
/// is red in CI as it is on the command line. A run cut short (`cut_short`)
/// becomes a failing case of a suite `chaos.run` for the same reason.
///
/// Seeds scheduled but never started count in their scenario's `skipped`
/// (and `tests`, which by JUnit's convention includes the skipped) and
/// are shown as one `<testcase name="not-started">` holding a `<skipped>`
/// that says how many: one case per seed would make a cut-short sweep of a
/// million seeds a file of a hundred megabytes about work not done.
pub fn write_suite<W: io::Write + ?Sized, I: Iterator<Item = SeedResult>>(
    out: &mut W,
    results: impl Fn() -> I,
    notes: &SuiteNotes,
) -> io::Result<()> {
    let coverage_failures = notes.coverage_failures;
    let interrupted = notes.cut_short;
    // Each scenario with its seeds and failures, in order of appearance.
    let mut suites: Vec<SuiteCounts> = Vec::new();
    let mut together = true;
    let empty = BTreeMap::new();
    let not_run = notes.not_run.unwrap_or(&empty);
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
                    skipped: not_run.get(&r.scenario).copied().unwrap_or(0),
                    assertions: Tallies::default(),
                });
                suites.len() - 1
            }
        };
        suites[i].tests += 1;
        suites[i].failed += usize::from(r.status != Status::Pass);
        suites[i].assertions.add(&r.assertions);
    }
    // Scenarios none of whose seeds started have a suite too, after the
    // others (in name order).
    let unstarted: Vec<(&String, u64)> = not_run
        .iter()
        .filter(|(name, n)| **n > 0 && !suites.iter().any(|s| &s.name == *name))
        .map(|(name, n)| (name, *n))
        .collect();
    let noted = usize::from(interrupted.is_some()) + coverage_failures.len();
    let skipped: u64 = not_run.values().sum();
    let tests = suites.iter().map(|s| s.tests).sum::<usize>() as u64 + noted as u64 + skipped;
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
        "<testsuites name=\"chaos\" tests=\"{tests}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">"
    )?;
    if together {
        let mut current: Option<String> = None;
        for r in results() {
            if current.as_deref() != Some(r.scenario.as_str()) {
                if let Some(name) = &current {
                    end_scenario(out, find(&suites, name), interrupted)?;
                }
                let (counts, properties) = suites
                    .iter()
                    .find(|s| s.0.name == r.scenario)
                    .expect("counted");
                suite_open(out, &Open::scenario(counts), properties)?;
                current = Some(r.scenario.clone());
            }
            write_case(out, &case(&r))?;
        }
        if let Some(name) = &current {
            end_scenario(out, find(&suites, name), interrupted)?;
        }
    } else {
        for (counts, properties) in &suites {
            suite_open(out, &Open::scenario(counts), properties)?;
            for r in results().filter(|r| r.scenario == counts.name) {
                write_case(out, &case(&r))?;
            }
            end_scenario(out, counts, interrupted)?;
        }
    }
    for (name, n) in unstarted {
        let counts = SuiteCounts {
            name: name.clone(),
            tests: 0,
            failed: 0,
            skipped: n,
            assertions: Tallies::default(),
        };
        suite_open(out, &Open::scenario(&counts), &[])?;
        end_scenario(out, &counts, interrupted)?;
    }
    if !coverage_failures.is_empty() {
        let n = coverage_failures.len();
        suite_open(out, &Open::noted("coverage", n), &[])?;
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
    if let Some((name, reason)) = interrupted {
        suite_open(out, &Open::noted("chaos.run", 1), &[])?;
        write_case(
            out,
            &Case {
                name: name.into(),
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

fn find<'s>(suites: &'s [(SuiteCounts, Vec<(String, String)>)], name: &str) -> &'s SuiteCounts {
    &suites.iter().find(|s| s.0.name == name).expect("counted").0
}

/// Closes a scenario's suite, after a `not-started` case for its seeds
/// that never ran, if any did not.
fn end_scenario<W: io::Write + ?Sized>(
    out: &mut W,
    counts: &SuiteCounts,
    cut_short: Option<(&str, &str)>,
) -> io::Result<()> {
    if counts.skipped > 0 {
        let why = match cut_short {
            Some(("interrupted", _)) => "the run was interrupted (SIGINT)",
            _ => "the time budget (--time-budget) ran out",
        };
        writeln!(
            out,
            "    <testcase name=\"not-started\" classname=\"chaos.{}\" time=\"0\">\n      \
             <skipped message=\"{} seeds were not started: {why}\"/>\n    </testcase>",
            escape_attr(&counts.name),
            counts.skipped
        )?;
    }
    out.write_all(b"  </testsuite>\n")
}

/// A `<testsuite>`'s name and counts.
struct Open<'a> {
    name: &'a str,
    tests: u64,
    failed: usize,
    skipped: u64,
}

impl<'a> Open<'a> {
    /// A scenario's suite: `tests` counts its seeds that ran and those that
    /// did not start.
    fn scenario(counts: &'a SuiteCounts) -> Open<'a> {
        Open {
            name: &counts.name,
            tests: counts.tests as u64 + counts.skipped,
            failed: counts.failed,
            skipped: counts.skipped,
        }
    }

    /// A suite of `n` notes, every one a failure.
    fn noted(name: &'a str, n: usize) -> Open<'a> {
        Open {
            name,
            tests: n as u64,
            failed: n,
            skipped: 0,
        }
    }
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
            let open = Open {
                name,
                tests: cases.len() as u64,
                failed: failures(cases),
                skipped: 0,
            };
            suite_open(&mut out, &open, props)?;
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
    open: &Open,
    properties: &[(String, String)],
) -> io::Result<()> {
    let Open {
        name,
        tests,
        failed,
        skipped,
    } = open;
    writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">",
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
mod tests;
