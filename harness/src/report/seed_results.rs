//! Every seed's result of a sweep ([`SeedResult`]), kept compactly.
//!
//! A sweep keeps each seed's [`SeedResult`] until it writes `results.json`
//! and the suite views; kept as it is, that is a dozen small heap strings a
//! seed (about 2 KB with the allocator's share), so a 10,000-seed sweep
//! would hold 20 MB it does not need. Almost all of it repeats: the
//! scenario name, the replay command but for the seed, the fault kinds and
//! reached states (from small per-scenario vocabularies, often in the same
//! combinations), and a hash that is 8 bytes written as 16 characters.
//! [`SeedResults`] keeps each of those once and a seed as a fixed-size
//! record of indices, about 40 bytes; a result that does not fit that shape
//! (problems to report, an unusual hash) is kept whole. Nothing is lost:
//! [`SeedResults::iter`] gives back exactly the results pushed (but for
//! their recovery measures, which are folded into per-scenario tallies of
//! fixed size, [`SeedResults::recovery`]), and the JSON form is that of a
//! list of them.

use super::recovery_tally::{RecoveryTallies, SeedRecovery};
use crate::assertions::sweep::{Margin, SeedAssertion};
use crate::assertions::AssertKind;
use crate::check::Status;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// What the suite keeps of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    pub scenario: String,
    pub seed: u64,
    pub status: Status,
    /// `invariant: summary` of every verdict that did not pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// The invariants whose verdict is `fail`: those of `problems` that are
    /// not merely `unknown` (`harness` if the run panicked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
    pub trace_hash: String,
    pub replay: String,
    /// Fault kinds this seed's plan applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fault_kinds: Vec<String>,
    /// States the target reported reaching (see [`crate::coverage`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reached: Vec<String>,
    /// The assertions the run reached, with their counts (see
    /// [`crate::assertions`]), sorted by message then kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<SeedAssertion>,
    /// The seed's per-fault recovery measures, on their way to the sweep's
    /// tallies: [`SeedResults::push`] folds them into
    /// [`SeedResults::recovery`] and keeps no copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<SeedRecovery>,
}

/// Seed results in push order (see the module docs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeedResults {
    records: Vec<Record>,
    /// Results kept whole, pointed to by [`Stored::Whole`].
    whole: Vec<SeedResult>,
    strings: Interner<String>,
    /// Lists of interned strings (fault kinds, reached states).
    lists: Interner<Vec<u32>>,
    /// Replay commands split around the seed: (before, after).
    replays: Interner<(u32, u32)>,
    /// Every compact record's assertions, one run after another.
    assertions: Vec<CompactAssertion>,
    /// The recovery measures of every seed pushed, folded per scenario.
    recovery: RecoveryTallies,
}

/// A [`SeedAssertion`] with its message interned.
#[derive(Clone, Copy, Debug, PartialEq)]
struct CompactAssertion {
    message: u32,
    kind: AssertKind,
    hits: u64,
    passes: u64,
    failures: u64,
    extreme: Option<Margin>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Record {
    scenario: u32,
    seed: u64,
    stored: Stored,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stored {
    Compact {
        status: Status,
        trace_hash: u64,
        replay: u32,
        fault_kinds: u32,
        reached: u32,
        /// `assertions[start..start + len]` of [`SeedResults`].
        assertions: (u32, u32),
    },
    Whole(u32),
}

/// Values stored once each, numbered in order of first appearance.
#[derive(Clone, Debug, PartialEq)]
struct Interner<T: Ord + Clone> {
    values: Vec<T>,
    index: BTreeMap<T, u32>,
}

impl<T: Ord + Clone> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            values: Vec::new(),
            index: BTreeMap::new(),
        }
    }
}

impl<T: Ord + Clone> Interner<T> {
    fn intern(&mut self, value: T) -> u32 {
        if let Some(&id) = self.index.get(&value) {
            return id;
        }
        let id = u32::try_from(self.values.len()).expect("fewer than 2^32 distinct values");
        self.values.push(value.clone());
        self.index.insert(value, id);
        id
    }

    fn get(&self, id: u32) -> &T {
        &self.values[id as usize]
    }
}

impl SeedResults {
    pub fn new() -> SeedResults {
        SeedResults::default()
    }

    /// Room for `seeds` results up front: a sweep knows its seed count, and
    /// a list grown by doubling holds up to twice what it needs, and both
    /// copies while it moves.
    pub fn with_capacity(seeds: usize) -> SeedResults {
        SeedResults {
            records: Vec::with_capacity(seeds),
            ..SeedResults::default()
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn push(&mut self, mut result: SeedResult) {
        // Folded, not kept: a sweep's memory must not grow with its faults.
        if let Some(recovery) = result.recovery.take() {
            self.recovery.add(&result.scenario, &recovery);
        }
        let scenario = self.string(&result.scenario);
        let seed = result.seed;
        let stored = match self.compact(&result) {
            Some(stored) => stored,
            None => {
                let index = u32::try_from(self.whole.len()).expect("fewer than 2^32 results");
                self.whole.push(result);
                Stored::Whole(index)
            }
        };
        self.records.push(Record {
            scenario,
            seed,
            stored,
        });
    }

    /// The compact form of `result`, if it has one that gives it back
    /// exactly.
    fn compact(&mut self, result: &SeedResult) -> Option<Stored> {
        // Named field by field so that a field added to `SeedResult` does
        // not compile here until this function (and `expand`) knows it.
        let SeedResult {
            scenario: _,
            seed: _,
            status: _,
            problems,
            failed,
            trace_hash: _,
            replay: _,
            fault_kinds: _,
            reached: _,
            assertions,
            // Taken by `push` before this.
            recovery: _,
        } = result;
        if !problems.is_empty() || !failed.is_empty() {
            return None;
        }
        let trace_hash = u64::from_str_radix(&result.trace_hash, 16).ok()?;
        if format!("{trace_hash:016x}") != result.trace_hash {
            return None;
        }
        let seed = format!(" --seed {}", result.seed);
        let at = result.replay.find(&seed)? + seed.len();
        let (before, after) = result.replay.split_at(at);
        let before = before.strip_suffix(&result.seed.to_string())?;
        let (before, after) = (self.string(before), self.string(after));
        let replay = self.replays.intern((before, after));
        let fault_kinds = self.list(&result.fault_kinds);
        let reached = self.list(&result.reached);
        let start = u32::try_from(self.assertions.len()).ok()?;
        let len = u32::try_from(assertions.len()).ok()?;
        for a in assertions {
            let message = self.string(&a.message);
            self.assertions.push(CompactAssertion {
                message,
                kind: a.kind,
                hits: a.hits,
                passes: a.passes,
                failures: a.failures,
                extreme: a.extreme,
            });
        }
        Some(Stored::Compact {
            status: result.status,
            trace_hash,
            replay,
            fault_kinds,
            reached,
            assertions: (start, len),
        })
    }

    fn string(&mut self, text: &str) -> u32 {
        match self.strings.index.get(text) {
            Some(&id) => id,
            None => self.strings.intern(text.to_string()),
        }
    }

    fn list(&mut self, items: &[String]) -> u32 {
        let ids = items.iter().map(|s| self.string(s)).collect();
        self.lists.intern(ids)
    }

    fn strings_of(&self, list: u32) -> Vec<String> {
        self.lists
            .get(list)
            .iter()
            .map(|&id| self.strings.get(id).clone())
            .collect()
    }

    fn expand(&self, record: &Record) -> SeedResult {
        match record.stored {
            Stored::Whole(index) => self.whole[index as usize].clone(),
            Stored::Compact {
                status,
                trace_hash,
                replay,
                fault_kinds,
                reached,
                assertions: (start, len),
            } => {
                let (before, after) = *self.replays.get(replay);
                SeedResult {
                    scenario: self.strings.get(record.scenario).clone(),
                    seed: record.seed,
                    status,
                    problems: Vec::new(),
                    failed: Vec::new(),
                    trace_hash: format!("{trace_hash:016x}"),
                    replay: format!(
                        "{}{}{}",
                        self.strings.get(before),
                        record.seed,
                        self.strings.get(after)
                    ),
                    fault_kinds: self.strings_of(fault_kinds),
                    reached: self.strings_of(reached),
                    assertions: self.assertions[start as usize..(start + len) as usize]
                        .iter()
                        .map(|a| SeedAssertion {
                            message: self.strings.get(a.message).clone(),
                            kind: a.kind,
                            hits: a.hits,
                            passes: a.passes,
                            failures: a.failures,
                            extreme: a.extreme,
                        })
                        .collect(),
                    recovery: None,
                }
            }
        }
    }

    /// The recovery tallies of every seed pushed, per scenario.
    pub fn recovery(&self) -> &RecoveryTallies {
        &self.recovery
    }

    /// The results, in their current order, each rebuilt whole.
    pub fn iter(&self) -> impl Iterator<Item = SeedResult> + '_ {
        self.records.iter().map(|r| self.expand(r))
    }

    /// Orders the results by `rank` of their scenario's name, then seed.
    pub fn sort_by_scenario(&mut self, rank: impl Fn(&str) -> Option<usize>) {
        let ranks: Vec<Option<usize>> = self.strings.values.iter().map(|s| rank(s)).collect();
        // In place: a stable sort would allocate scratch as large as the
        // records. Only equal keys could come out differently, and those
        // arrive in completion order, which is not deterministic anyway.
        self.records
            .sort_unstable_by_key(|r| (ranks[r.scenario as usize], r.seed));
    }
}

impl From<Vec<SeedResult>> for SeedResults {
    fn from(results: Vec<SeedResult>) -> SeedResults {
        let mut all = SeedResults::new();
        for r in results {
            all.push(r);
        }
        all
    }
}

impl Serialize for SeedResults {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for SeedResults {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SeedResults, D::Error> {
        Vec::<SeedResult>::deserialize(deserializer).map(SeedResults::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(scenario: &str, seed: u64, status: Status) -> SeedResult {
        SeedResult {
            scenario: scenario.into(),
            seed,
            status,
            problems: Vec::new(),
            failed: Vec::new(),
            trace_hash: format!("{:016x}", seed * 0x9e37_79b9_7f4a_7c15),
            replay: format!("replay scenarios/{scenario}.toml --seed {seed} --set a.b=1"),
            fault_kinds: vec!["crash".into(), "partition".into()],
            reached: vec![format!("kv: state {}", seed % 3)],
            assertions: (0..seed % 3)
                .map(|i| SeedAssertion {
                    message: format!("assertion {i}"),
                    kind: AssertKind::Sometimes,
                    hits: seed + i,
                    passes: seed % 2,
                    failures: 0,
                    extreme: (i == 1).then_some(Margin {
                        direction: crate::assertions::Direction::Minimize,
                        margin: seed as f64 / 3.0,
                    }),
                })
                .collect(),
            recovery: None,
        }
    }

    #[test]
    fn gives_back_exactly_what_was_pushed_in_any_shape() {
        let mut odd = result("kv-swarm", 7, Status::Fail);
        odd.problems = vec!["linearizable: stale read".into()];
        odd.failed = vec!["linearizable".into()];
        let mut empty_hash = result("kv-swarm", 8, Status::Fail);
        empty_hash.trace_hash = String::new();
        let mut seed_in_path = result("s", 12, Status::Pass);
        seed_in_path.replay = "replay dir --seed 12/s.toml --seed 12".into();
        let mut no_seed = result("s", 13, Status::Pass);
        no_seed.replay = "replay s.toml".into();
        let mut upper_hash = result("s", 14, Status::Pass);
        upper_hash.trace_hash = "00000000000000AB".into();
        let pushed: Vec<SeedResult> = (0..50)
            .map(|seed| result("kv-swarm", seed, Status::Pass))
            .chain([odd, empty_hash, seed_in_path, no_seed, upper_hash])
            .collect();
        let all = SeedResults::from(pushed.clone());
        assert_eq!(all.iter().collect::<Vec<_>>(), pushed);
        assert_eq!(all.len(), pushed.len());
    }

    #[test]
    fn passing_seeds_share_their_strings() {
        let all = SeedResults::from(
            (0..1000)
                .map(|seed| result("kv-swarm", seed, Status::Pass))
                .collect::<Vec<_>>(),
        );
        assert!(all.whole.is_empty());
        assert_eq!(
            all.lists.values.len(),
            4,
            "fault kinds and three reached sets"
        );
        // The scenario, the replay around the seed, two fault kinds, three
        // reached states and two assertion messages: ten, for 1000 seeds.
        assert_eq!(all.strings.values.len(), 10);
    }

    #[test]
    fn json_is_that_of_a_list_of_results() {
        let pushed: Vec<SeedResult> = (0..3).map(|s| result("a", s, Status::Pass)).collect();
        let all = SeedResults::from(pushed.clone());
        let json = serde_json::to_string_pretty(&all).unwrap();
        assert_eq!(json, serde_json::to_string_pretty(&pushed).unwrap());
        let back: SeedResults = serde_json::from_str(&json).unwrap();
        assert_eq!(back.iter().collect::<Vec<_>>(), pushed);
    }

    #[test]
    fn sorts_by_scenario_rank_then_seed() {
        let mut all = SeedResults::from(vec![
            result("b", 1, Status::Pass),
            result("a", 2, Status::Pass),
            result("b", 0, Status::Pass),
            result("a", 1, Status::Pass),
        ]);
        all.sort_by_scenario(|name| ["b", "a"].iter().position(|n| *n == name));
        let order: Vec<(String, u64)> = all.iter().map(|r| (r.scenario, r.seed)).collect();
        assert_eq!(
            order,
            [("b", 0), ("b", 1), ("a", 1), ("a", 2)].map(|(s, n)| (s.to_string(), n))
        );
    }
}
