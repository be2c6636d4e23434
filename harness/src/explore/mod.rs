//! Exploration: a coverage-guided search over fault plans and workload
//! seeds, for the bugs random seeds take hundreds of runs to hit.
//!
//! Model: the search runs in generations of [`DEFAULT_BATCH`] candidates.
//! The first generation is the scenario's own swarm seeds; every later
//! candidate is, with probability [`FRESH_SHARE`], another swarm seed, and
//! otherwise a mutation (`mutate.rs`) of a corpus entry drawn by energy
//! or by the rarity of what it reached (`corpus.rs`). A generation's
//! candidates are drawn from one ChaCha stream seeded by the explore seed,
//! run in parallel (`candidate.rs`), and judged in candidate order: a run
//! whose features (`features.rs`) include one no earlier run reached joins
//! the corpus as explicit fault events, its role-aimed faults still aimed
//! at the role (so a mutant in which someone else leads still hits the
//! leader). So the same explore seed gives the same corpus, findings and
//! report, whatever the thread count.
//!
//! The search stops at the first run that fails an invariant (a finding,
//! written as an explicit scenario file and shrunk by the caller), at its
//! run budget ([`DEFAULT_MAX_RUNS`]) or at a wall-clock time budget. A run
//! that neither passed nor failed — an undecided verdict, a panic in the
//! harness — is a problem: reported, never a finding and never a pass.
//! `report.rs` renders the result.

mod candidate;
mod corpus;
mod features;
mod mutate;
mod report;

pub use candidate::{Candidate, Faults, Verdict};
pub use corpus::{Corpus, Entry, DEFAULT_MAX_CORPUS};
pub use features::{of_run as features_of_run, MAX_FEATURES_PER_RUN};
pub use report::{
    finding_file, replay, to_json, to_markdown, write, FindingFiles, EXPLORE_JSON, EXPLORE_MD,
};

use crate::scenario::Scenario;
use crate::seed::Seed;
use crate::suite::{LoadedScenario, StopWhen};
use crate::target::Registry;
use mutate::Space;
use rand::Rng;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Default cap on runs.
pub const DEFAULT_MAX_RUNS: usize = 500;
/// Candidates per generation: fixed, so that the search does not depend
/// on the thread count.
pub const DEFAULT_BATCH: usize = 8;
/// Share of later candidates that are fresh swarm seeds rather than
/// mutations: keeps the search at least as broad as the swarm.
pub const FRESH_SHARE: f64 = 0.2;
/// Tries at a mutation that makes a valid scenario before the candidate
/// falls back to a fresh swarm seed.
const MUTATION_TRIES: usize = 4;
/// Cap on the distinct reasons for rejected mutations a report keeps.
pub const MAX_REJECTION_REASONS: usize = 16;
/// Cap on problem runs kept in the report (the rest are counted).
pub const MAX_PROBLEMS_KEPT: usize = 20;

/// How to search.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    pub explore_seed: u64,
    pub max_runs: usize,
    pub batch: usize,
    pub max_corpus: usize,
    pub threads: usize,
    /// Wall-clock budget and interrupt: checked between generations.
    pub stop: StopWhen<'a>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            explore_seed: 0,
            max_runs: DEFAULT_MAX_RUNS,
            batch: DEFAULT_BATCH,
            max_corpus: DEFAULT_MAX_CORPUS,
            threads: 1,
            stop: StopWhen::default(),
        }
    }
}

/// Why the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// A run failed an invariant.
    Finding,
    /// The run budget was spent.
    Runs,
    /// The time budget ran out or the search was interrupted.
    Time,
}

/// Coverage after a generation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Growth {
    pub runs: usize,
    pub features: usize,
    pub corpus: usize,
}

/// A run that failed an invariant.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub run: usize,
    pub seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<usize>,
    pub mutation: String,
    pub failed: Vec<String>,
    pub details: Vec<String>,
    /// The run as an explicit scenario: what the finding file holds.
    #[serde(skip)]
    pub scenario: Scenario,
}

/// A run that neither passed nor failed.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub run: usize,
    pub seed: u64,
    pub verdict: Verdict,
    pub mutation: String,
    pub details: Vec<String>,
    #[serde(skip)]
    pub scenario: Scenario,
}

/// What a search did.
#[derive(Clone, Debug, Serialize)]
pub struct Exploration {
    pub scenario: String,
    /// The `--set` overrides the scenario was explored with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    pub explore_seed: u64,
    pub max_runs: usize,
    pub batch: usize,
    pub runs: usize,
    pub generations: usize,
    pub stop: Stop,
    pub passed: usize,
    /// Mutations whose events did not make a valid scenario (retried).
    pub rejected_mutations: usize,
    /// Why, by the validation message (event indices left out), with how
    /// many rejections each; at most [`MAX_REJECTION_REASONS`] reasons,
    /// later new ones only counted above. A mutation that makes an invalid
    /// scenario is a gap between the mutator and validation: worth seeing.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rejection_reasons: BTreeMap<String, usize>,
    pub coverage: BTreeSet<String>,
    pub growth: Vec<Growth>,
    pub corpus: Vec<Entry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<Finding>,
    pub problem_runs: usize,
    pub problems: Vec<Problem>,
}

/// What progress sees after each generation.
pub struct Progress<'a> {
    pub runs: usize,
    pub corpus: usize,
    pub features: usize,
    pub new_features: usize,
    pub exploration: &'a Exploration,
}

/// Searches `base` (a validated scenario, overrides applied).
pub fn explore(
    base: &LoadedScenario,
    registry: &Registry,
    options: &Options,
    mut progress: impl FnMut(&Progress),
) -> Exploration {
    let mut rng = Seed(options.explore_seed).stream("explore");
    let mut space = Space::new(base);
    let mut corpus = Corpus::new(options.max_corpus.max(1));
    let batch = options.batch.max(1);
    let mut out = Exploration {
        scenario: base.scenario.name.clone(),
        overrides: base.overrides.clone(),
        explore_seed: options.explore_seed,
        max_runs: options.max_runs,
        batch,
        runs: 0,
        generations: 0,
        stop: Stop::Runs,
        passed: 0,
        rejected_mutations: 0,
        rejection_reasons: BTreeMap::new(),
        coverage: BTreeSet::new(),
        growth: Vec::new(),
        corpus: Vec::new(),
        finding: None,
        problem_runs: 0,
        problems: Vec::new(),
    };
    'search: while out.runs < options.max_runs {
        if options.stop.reached() {
            out.stop = Stop::Time;
            break;
        }
        let size = batch.min(options.max_runs - out.runs);
        let mut candidates = Vec::with_capacity(size);
        let mut loaded = Vec::with_capacity(size);
        for _ in 0..size {
            let (candidate, scenario) = draw(base, registry, &corpus, &space, &mut rng, &mut out);
            loaded.push((scenario, candidate.seed));
            candidates.push(candidate);
        }
        let outcomes = candidate::run_batch(&loaded, options.threads);
        out.generations += 1;
        let before = out.coverage.len();
        for ((candidate, outcome), (scenario, _)) in candidates.iter().zip(outcomes).zip(&loaded) {
            out.runs += 1;
            let new: Vec<String> = outcome
                .features
                .iter()
                .filter(|f| !out.coverage.contains(*f))
                .cloned()
                .collect();
            out.coverage.extend(new.iter().cloned());
            for role in new.iter().filter_map(|f| f.strip_prefix("role:")) {
                space.learn_role(role);
            }
            if let Some(parent) = candidate.parent {
                corpus.reward(parent, !new.is_empty());
            }
            if matches!(outcome.verdict, Verdict::Pass | Verdict::Fail) {
                corpus.observe(&outcome.features);
            }
            let explicit = explicit_scenario(&scenario.scenario, candidate, &outcome, out.runs);
            match outcome.verdict {
                Verdict::Pass => out.passed += 1,
                Verdict::Fail => {
                    out.finding = Some(Finding {
                        run: out.runs,
                        seed: candidate.seed,
                        parent: candidate.parent,
                        mutation: candidate.mutation.clone(),
                        failed: outcome.failed.clone(),
                        details: outcome.details.clone(),
                        scenario: explicit,
                    });
                    out.stop = Stop::Finding;
                    push_growth(&mut out, &corpus);
                    break 'search;
                }
                Verdict::Unknown | Verdict::HarnessError => {
                    out.problem_runs += 1;
                    if out.problems.len() < MAX_PROBLEMS_KEPT {
                        out.problems.push(Problem {
                            run: out.runs,
                            seed: candidate.seed,
                            verdict: outcome.verdict,
                            mutation: candidate.mutation.clone(),
                            details: outcome.details.clone(),
                            scenario: explicit,
                        });
                    }
                }
            }
            // Only a run that was judged joins the corpus: one whose
            // verdict is undecided may be the harness's limits, not the
            // system's behaviour.
            if !new.is_empty() && outcome.verdict == Verdict::Pass {
                if let (Ok(events), Ok((_, jitter))) = (&outcome.mutable, &outcome.explicit) {
                    corpus.add(
                        out.runs,
                        candidate.parent,
                        &candidate.mutation,
                        candidate.seed,
                        events.clone(),
                        *jitter,
                        &new,
                        &outcome.features,
                    );
                }
            }
        }
        push_growth(&mut out, &corpus);
        progress(&Progress {
            runs: out.runs,
            corpus: corpus.entries.len(),
            features: out.coverage.len(),
            new_features: out.coverage.len() - before,
            exploration: &out,
        });
    }
    out.corpus = corpus.entries;
    out
}

fn push_growth(out: &mut Exploration, corpus: &Corpus) {
    let point = Growth {
        runs: out.runs,
        features: out.coverage.len(),
        corpus: corpus.entries.len(),
    };
    if out.growth.last() != Some(&point) {
        out.growth.push(point);
    }
}

/// The next candidate and its loaded scenario.
fn draw(
    base: &LoadedScenario,
    registry: &Registry,
    corpus: &Corpus,
    space: &Space,
    rng: &mut rand_chacha::ChaCha8Rng,
    out: &mut Exploration,
) -> (Candidate, LoadedScenario) {
    let fresh = |rng: &mut rand_chacha::ChaCha8Rng| Candidate {
        seed: rng.random(),
        faults: Faults::Scenario,
        parent: None,
        mutation: "swarm-seed".into(),
    };
    if corpus.entries.is_empty() || rng.random_bool(FRESH_SHARE) {
        let candidate = fresh(rng);
        return (candidate, base.clone());
    }
    for _ in 0..MUTATION_TRIES {
        let parent = corpus.pick(rng);
        let other = corpus.pick(rng);
        let m = mutate::mutate(&corpus.entries[parent], &corpus.entries[other], space, rng);
        let candidate = Candidate {
            seed: m.seed,
            faults: Faults::Explicit {
                events: m.events,
                jitter: m.jitter,
            },
            parent: Some(parent),
            mutation: m.mutation,
        };
        match candidate.load(base, registry) {
            Ok(loaded) => return (candidate, loaded),
            Err(why) => {
                out.rejected_mutations += 1;
                count_rejection(&mut out.rejection_reasons, &why);
            }
        }
    }
    let candidate = fresh(rng);
    (candidate, base.clone())
}

/// Counts one rejected mutation under its reason; a reason beyond the
/// first [`MAX_REJECTION_REASONS`] is left to the total.
fn count_rejection(reasons: &mut BTreeMap<String, usize>, why: &str) {
    let reason = without_event_indices(why);
    if reasons.len() < MAX_REJECTION_REASONS || reasons.contains_key(&reason) {
        *reasons.entry(reason).or_default() += 1;
    }
}

/// A validation message with `[3]`-style indices as `[N]`, so the same
/// problem in different events is one reason.
fn without_event_indices(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(']') {
            out.push('N');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// A run as a scenario file can hold it: the explicit plan the run
/// applied (roles as the hosts they hit), or, if that cannot be written
/// out, the candidate's own events.
fn explicit_scenario(
    ran: &Scenario,
    candidate: &Candidate,
    outcome: &candidate::Outcome,
    run: usize,
) -> Scenario {
    let mut scenario = ran.clone();
    if let Ok((events, jitter)) = &outcome.explicit {
        scenario.faults.random = None;
        scenario.faults.events = events.clone();
        scenario.network.jitter = *jitter;
    }
    scenario.name = format!("{}-explore-run-{run}", ran.name);
    scenario.description = format!(
        "{}: explore run {run} (seed {}, {}), fault plan written out",
        ran.name, candidate.seed, candidate.mutation
    );
    scenario.seeds = 1;
    scenario
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_reasons_leave_out_which_event_it_was() {
        assert_eq!(
            without_event_indices("key `faults.events[12].between[0]`: an empty host set"),
            "key `faults.events[N].between[N]`: an empty host set"
        );
        assert_eq!(without_event_indices("[] [x] [7"), "[] [x] [7");
    }

    #[test]
    fn rejections_are_counted_by_reason_up_to_the_cap() {
        let mut reasons = BTreeMap::new();
        count_rejection(&mut reasons, "faults.events[1].at: too late");
        count_rejection(&mut reasons, "faults.events[7].at: too late");
        assert_eq!(reasons.get("faults.events[N].at: too late"), Some(&2));
        for i in 0..2 * MAX_REJECTION_REASONS {
            count_rejection(&mut reasons, &format!("reason {i}"));
        }
        assert_eq!(reasons.len(), MAX_REJECTION_REASONS);
        // A known reason is still counted once the cap is reached.
        count_rejection(&mut reasons, "faults.events[3].at: too late");
        assert_eq!(reasons.get("faults.events[N].at: too late"), Some(&3));
    }
}
