//! Assertions across a sweep: what the suite keeps of each seed's
//! assertions ([`SeedAssertion`]), and the per-scenario counts derived from
//! them ([`AssertionTally`]). Counted only from the seeds that ran: an
//! assertion no seed reached is absent unless a scenario requires it, and
//! then the requirement reports it as never reached.

use super::data::{AssertKind, AssertionRecord, Direction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A guided assertion's most extreme margin, without the moment.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Margin {
    pub direction: Direction,
    pub margin: f64,
}

impl Margin {
    /// The more extreme of two margins (the first on a tie or a NaN).
    fn best(a: Option<Margin>, b: Option<Margin>) -> Option<Margin> {
        match (a, b) {
            (Some(a), Some(b)) if a.direction.improves(b.margin, a.margin) => Some(b),
            (a, b) => a.or(b),
        }
    }
}

/// One assertion in one seed, as the suite keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedAssertion {
    pub message: String,
    pub kind: AssertKind,
    pub hits: u64,
    pub passes: u64,
    pub failures: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extreme: Option<Margin>,
}

impl SeedAssertion {
    pub fn of(record: &AssertionRecord) -> SeedAssertion {
        SeedAssertion {
            message: record.message.clone(),
            kind: record.kind,
            hits: record.hits,
            passes: record.passes,
            failures: record.failures,
            extreme: record.extreme.as_ref().map(|e| Margin {
                direction: e.direction,
                margin: e.margin,
            }),
        }
    }

    /// A run's records, in their (sorted) order.
    pub fn of_run(records: &[AssertionRecord]) -> Vec<SeedAssertion> {
        records.iter().map(SeedAssertion::of).collect()
    }
}

/// One assertion across the seeds of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssertionTally {
    pub message: String,
    pub kind: AssertKind,
    /// Seeds that reached it.
    pub seeds: u64,
    /// Seeds in which its condition held at least once.
    pub satisfied_seeds: u64,
    /// Seeds it failed (an `always` that did not hold, an `unreachable`
    /// that was reached).
    pub violated_seeds: u64,
    pub hits: u64,
    pub passes: u64,
    pub failures: u64,
    /// The most extreme margin of any seed, for the guided forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extreme: Option<Margin>,
}

impl AssertionTally {
    /// A `sometimes` that never held, or a `reachable` never reached (the
    /// latter cannot be tallied without being reached, so only a required
    /// one shows, through its requirement).
    pub fn never_satisfied(&self) -> bool {
        self.kind.wants_once() && self.satisfied_seeds == 0
    }
}

/// Adds up seeds' assertions into one tally per (message, kind), sorted.
pub fn tally<'a>(seeds: impl IntoIterator<Item = &'a [SeedAssertion]>) -> Vec<AssertionTally> {
    let mut tallies = Tallies::default();
    for seed in seeds {
        tallies.add(seed);
    }
    tallies.finish()
}

/// [`tally`] one seed at a time, for sweeps that stream their results and
/// never hold every seed's assertions at once.
#[derive(Clone, Debug, Default)]
pub struct Tallies {
    by_assertion: BTreeMap<(String, AssertKind), AssertionTally>,
}

impl Tallies {
    pub fn add(&mut self, seed: &[SeedAssertion]) {
        for a in seed {
            let t = self
                .by_assertion
                .entry((a.message.clone(), a.kind))
                .or_insert_with(|| AssertionTally {
                    message: a.message.clone(),
                    kind: a.kind,
                    seeds: 0,
                    satisfied_seeds: 0,
                    violated_seeds: 0,
                    hits: 0,
                    passes: 0,
                    failures: 0,
                    extreme: None,
                });
            t.seeds += 1;
            t.satisfied_seeds += u64::from(a.passes > 0);
            t.violated_seeds += u64::from(a.kind.fails_seed() && a.failures > 0);
            t.hits += a.hits;
            t.passes += a.passes;
            t.failures += a.failures;
            t.extreme = Margin::best(t.extreme, a.extreme);
        }
    }

    /// The tallies, sorted by message then kind.
    pub fn finish(self) -> Vec<AssertionTally> {
        self.by_assertion.into_values().collect()
    }
}

/// Seeds, of `seeds` run, in which the assertion named `message` held at
/// least once (whatever its kind; the best kind if several share it).
pub fn satisfied_seeds(tallies: &[AssertionTally], message: &str) -> Option<u64> {
    tallies
        .iter()
        .filter(|t| t.message == message)
        .map(|t| t.satisfied_seeds)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(message: &str, kind: AssertKind, passes: u64, failures: u64) -> SeedAssertion {
        SeedAssertion {
            message: message.into(),
            kind,
            hits: passes + failures,
            passes,
            failures,
            extreme: None,
        }
    }

    #[test]
    fn tallies_count_seeds_hits_and_violations_in_sorted_order() {
        let a = vec![
            seed("leader elected", AssertKind::Sometimes, 0, 3),
            seed("one leader", AssertKind::Always, 5, 0),
        ];
        let b = vec![
            seed("one leader", AssertKind::Always, 2, 1),
            seed("leader elected", AssertKind::Sometimes, 1, 0),
        ];
        let c = vec![seed("half-open", AssertKind::Sometimes, 0, 2)];
        let tallies = tally([a.as_slice(), b.as_slice(), c.as_slice()]);
        let names: Vec<&str> = tallies.iter().map(|t| t.message.as_str()).collect();
        assert_eq!(names, ["half-open", "leader elected", "one leader"]);
        let one = &tallies[2];
        assert_eq!(
            (
                one.seeds,
                one.satisfied_seeds,
                one.violated_seeds,
                one.hits,
                one.passes
            ),
            (2, 2, 1, 8, 7)
        );
        assert!(tallies[0].never_satisfied());
        assert!(!tallies[1].never_satisfied());
        assert_eq!(satisfied_seeds(&tallies, "leader elected"), Some(1));
        assert_eq!(satisfied_seeds(&tallies, "nothing"), None);
    }

    #[test]
    fn the_sweep_keeps_the_most_extreme_margin_in_its_direction() {
        let with = |margin| SeedAssertion {
            extreme: Some(Margin {
                direction: Direction::Minimize,
                margin,
            }),
            ..seed("gap", AssertKind::Always, 1, 0)
        };
        let seeds = [vec![with(4.0)], vec![with(-2.5)], vec![with(1.0)]];
        let tallies = tally(seeds.iter().map(Vec::as_slice));
        assert_eq!(tallies[0].extreme.unwrap().margin, -2.5);
    }
}
