//! What a search leaves behind: `explore.json` (canonical), `explore.md`
//! (its view) and, for a finding, the run as a scenario file with its
//! fault plan written out. Nothing here reads the wall clock, so the same
//! search writes the same bytes.

use super::{Exploration, Finding, Problem, Stop};
use crate::report::{replay_program, shell_word, write_atomic};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const EXPLORE_JSON: &str = "explore.json";
pub const EXPLORE_MD: &str = "explore.md";
/// Most rows of the coverage-over-runs table in `explore.md` (the JSON
/// keeps every generation).
const GROWTH_ROWS: usize = 25;
/// Most corpus entries `explore.md` lists (the JSON keeps all).
const CORPUS_ROWS: usize = 20;

/// The files written for a finding, as the report names them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FindingFiles {
    /// The failing run with its plan written out.
    pub scenario: String,
    pub replay: String,
    /// The shrunk scenario and its replay, or why shrinking failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shrunk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shrunk_replay: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shrink: Option<String>,
}

/// The replay command of a scenario file and seed.
pub fn replay(file: &str, seed: u64) -> String {
    format!(
        "{} replay {} --seed {seed}",
        replay_program(),
        shell_word(file)
    )
}

/// A finding as a scenario file: a header saying where it came from and
/// how to replay it, then the scenario in TOML.
pub fn finding_file(
    exploration: &Exploration,
    finding: &Finding,
    out: &str,
) -> Result<String, String> {
    let body = toml::to_string(&finding.scenario).map_err(|e| format!("cannot write TOML: {e}"))?;
    Ok(format!(
        "# Found by `chaos explore {scenario}{sets} --explore-seed {explore}` at run {run}: it fails {failed}.\n\
         # Replay: {replay}\n\n{body}",
        scenario = exploration.scenario,
        sets = exploration
            .overrides
            .iter()
            .map(|o| format!(" --set {}", shell_word(o)))
            .collect::<String>(),
        explore = exploration.explore_seed,
        run = finding.run,
        failed = finding.failed.join(", "),
        replay = replay(out, finding.seed),
    ))
}

#[derive(Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    exploration: &'a Exploration,
    features: usize,
    features_by_kind: BTreeMap<&'a str, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finding_files: Option<&'a FindingFiles>,
}

fn by_kind(exploration: &Exploration) -> BTreeMap<&str, usize> {
    let mut kinds = BTreeMap::new();
    for f in &exploration.coverage {
        let kind = f.split(':').next().unwrap_or(f);
        *kinds.entry(kind).or_insert(0) += 1;
    }
    kinds
}

pub fn to_json(exploration: &Exploration, files: Option<&FindingFiles>) -> String {
    let json = Json {
        exploration,
        features: exploration.coverage.len(),
        features_by_kind: by_kind(exploration),
        finding_files: files,
    };
    serde_json::to_string_pretty(&json).expect("an exploration serialises") + "\n"
}

fn outcome(e: &Exploration) -> String {
    let problems = if e.problem_runs > 0 {
        format!(
            "; {} runs neither passed nor failed (see Problems): NOT a clean search",
            e.problem_runs
        )
    } else {
        String::new()
    };
    match e.stop {
        Stop::Finding => {
            let f = e.finding.as_ref().expect("a finding stopped it");
            format!("FAILED at run {}: {}", f.run, f.failed.join(", "))
        }
        Stop::Runs => format!("no failure in {} runs (the run budget){problems}", e.runs),
        Stop::Time => format!(
            "no failure in {} runs (stopped by the time budget or an interrupt){problems}",
            e.runs
        ),
    }
}

pub fn to_markdown(e: &Exploration, files: Option<&FindingFiles>, dir: &Path) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# explore {} (explore seed {})\n",
        e.scenario, e.explore_seed
    );
    let _ = writeln!(md, "**{}**\n", outcome(e));
    let _ = writeln!(
        md,
        "{} runs in {} generations of {}, {} passed; corpus {} entries; {} features reached; {} mutations rejected as invalid scenarios.\n",
        e.runs,
        e.generations,
        e.batch,
        e.passed,
        e.corpus.len(),
        e.coverage.len(),
        e.rejected_mutations
    );
    if !e.rejection_reasons.is_empty() {
        let _ = writeln!(md, "Why mutations were rejected:\n");
        for (reason, n) in &e.rejection_reasons {
            let _ = writeln!(md, "- {n}× {reason}");
        }
        md.push('\n');
    }
    if let Some(f) = &e.finding {
        let _ = writeln!(md, "## Finding\n");
        let _ = writeln!(
            md,
            "Run {} (seed {}, {}{}) failed:\n",
            f.run,
            f.seed,
            f.mutation,
            f.parent
                .map_or(String::new(), |p| format!(" of corpus entry {p}"))
        );
        for d in &f.details {
            let _ = writeln!(md, "- {d}");
        }
        if let Some(files) = files {
            let _ = writeln!(
                md,
                "\nScenario file: `{}`  \nReplay: `{}`",
                files.scenario, files.replay
            );
            if let (Some(s), Some(r)) = (&files.shrunk, &files.shrunk_replay) {
                let _ = writeln!(md, "\nShrunk: `{s}`  \nReplay: `{r}`");
            }
            if let Some(why) = &files.shrink {
                let _ = writeln!(md, "\nShrink: {why}");
            }
        }
        md.push('\n');
    }
    problems(&mut md, e, dir);
    let _ = writeln!(
        md,
        "## Coverage over runs\n\n| runs | features | corpus |\n|---:|---:|---:|"
    );
    let step = e.growth.len().div_ceil(GROWTH_ROWS).max(1);
    for (i, g) in e.growth.iter().enumerate() {
        if i % step == 0 || i + 1 == e.growth.len() {
            let _ = writeln!(md, "| {} | {} | {} |", g.runs, g.features, g.corpus);
        }
    }
    let _ = writeln!(
        md,
        "\n## Features by kind\n\n| kind | features |\n|---|---:|"
    );
    for (kind, n) in by_kind(e) {
        let _ = writeln!(md, "| {kind} | {n} |");
    }
    let _ = writeln!(
        md,
        "\n## Corpus (the {} entries that reached the most first)\n\n| entry | run | from | mutation | seed | faults | new features | children (new) |\n|---:|---:|---|---|---:|---:|---:|---:|",
        CORPUS_ROWS.min(e.corpus.len())
    );
    let mut entries: Vec<_> = e.corpus.iter().collect();
    entries.sort_by_key(|c| (std::cmp::Reverse(c.new_features), c.id));
    for c in entries.into_iter().take(CORPUS_ROWS) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} ({}) |",
            c.id,
            c.run,
            c.parent.map_or("-".into(), |p| p.to_string()),
            c.mutation,
            c.seed,
            c.fault_events,
            c.new_features,
            c.children,
            c.children_new
        );
    }
    md
}

fn problems(md: &mut String, e: &Exploration, dir: &Path) {
    if e.problem_runs == 0 {
        return;
    }
    let _ = writeln!(
        md,
        "## Problems\n\n{} runs neither passed nor failed; they are not findings and not passes (the first {} are listed, each written as `problem-run-N.toml`).\n",
        e.problem_runs,
        e.problems.len()
    );
    for p in &e.problems {
        let _ = writeln!(
            md,
            "- run {} (seed {}, {}, {:?}): {}",
            p.run,
            p.seed,
            p.mutation,
            p.verdict,
            p.details.join("; ")
        );
        let file = dir.join(problem_name(p)).display().to_string();
        let _ = writeln!(md, "  replay: `{}`", replay(&file, p.seed));
    }
    md.push('\n');
}

fn problem_name(p: &Problem) -> String {
    format!("problem-run-{}.toml", p.run)
}

/// Writes `explore.json`, `explore.md` and the problem runs' scenario
/// files into `dir`, each atomically; returns the JSON's path. Problem
/// files are named relative to `dir` in the report.
pub fn write(
    dir: &Path,
    exploration: &Exploration,
    files: Option<&FindingFiles>,
) -> Result<PathBuf, String> {
    let fail = |path: &Path, e: std::io::Error| format!("cannot write {}: {e}", path.display());
    for p in &exploration.problems {
        let path = dir.join(problem_name(p));
        let body = toml::to_string(&p.scenario).map_err(|e| format!("cannot write TOML: {e}"))?;
        let text = format!(
            "# Explore run {} of {} neither passed nor failed: {}\n\n{body}",
            p.run,
            exploration.scenario,
            p.details.join("; ")
        );
        write_atomic(&path, text.as_bytes()).map_err(|e| fail(&path, e))?;
    }
    let md = dir.join(EXPLORE_MD);
    write_atomic(&md, to_markdown(exploration, files, dir).as_bytes()).map_err(|e| fail(&md, e))?;
    let json = dir.join(EXPLORE_JSON);
    write_atomic(&json, to_json(exploration, files).as_bytes()).map_err(|e| fail(&json, e))?;
    Ok(json)
}
