//! The corpus: the runs that reached something no earlier run had, and
//! how much of the search each of them gets next.
//!
//! Model: every entry has an energy. It starts at [`START_ENERGY`], or at
//! [`NEW_BEHAVIOUR_ENERGY`] if its run did something no run had done
//! before (a new behaviour, below, not just a new fault × state pair).
//! When a child of the entry reaches new coverage the entry gains
//! [`FIND_BONUS`] (up to [`MAX_ENERGY`]); when a child finds nothing new
//! it loses one (down to 1). At [`DEFAULT_MAX_CORPUS`] entries new
//! coverage is still counted but no entry is added.
//!
//! A parent is drawn one of two ways. By energy (probability proportional
//! to it), so the entries that found something recently get most of the
//! runs and none is forgotten. Or, with probability [`RARE_SHARE`], by
//! rarity: a *behaviour* is drawn with weight one over the number of runs
//! that reached it, then one of the entries that reached it by energy.
//! Behaviours are the features that name what the system did (a state it
//! reported, an assertion reached, held or broken, a margin bucket, a
//! role, a fault kind that applied, how the run ended), not the
//! fault-by-state pairs, which are too many to steer by. So a state one
//! run in ten reaches gets ten times the attention of one every run
//! reaches: its few entries are mutated until their neighbourhood is known.
//! A corrupted read that a restart then replays, a vote file rejected
//! after a crash — rare situations are where the rare bugs are.

use crate::scenario::FaultEventSpec;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Default cap on corpus entries.
pub const DEFAULT_MAX_CORPUS: usize = 1000;
/// Energy of a new entry.
pub const START_ENERGY: u32 = 8;
/// Energy of a new entry whose run reached a behaviour no run had.
pub const NEW_BEHAVIOUR_ENERGY: u32 = 32;
/// Energy a parent gains when a child reaches new coverage.
pub const FIND_BONUS: u32 = 8;
/// Cap on an entry's energy.
pub const MAX_ENERGY: u32 = 64;
/// Share of parents drawn by rarity rather than by energy.
pub const RARE_SHARE: f64 = 0.5;
/// A behaviour's rarity weight is this over the runs that reached it.
const RARITY_SCALE: u64 = 1 << 20;
/// How many of an entry's new features the report names.
const NEW_FEATURES_SHOWN: usize = 8;

/// One corpus entry.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub id: usize,
    /// The run (1-based, in search order) that added it.
    pub run: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<usize>,
    pub mutation: String,
    pub seed: u64,
    #[serde(skip)]
    pub events: Vec<FaultEventSpec>,
    pub fault_events: usize,
    #[serde(with = "crate::duration::serde_text")]
    pub jitter: Duration,
    /// How many features it reached first, and the first few of them.
    pub new_features: usize,
    pub first_new: Vec<String>,
    /// Runs made from it, and how many of those reached new coverage.
    pub children: usize,
    pub children_new: usize,
    #[serde(skip)]
    pub energy: u32,
}

/// Whether a feature names something the system did, and so is worth
/// steering the search towards when it is rare: every feature but the
/// `hit:` fault × role × state triples (thousands of them, most reached
/// once, so weighting by rarity would spread the search over all of them).
pub fn is_behaviour(feature: &str) -> bool {
    !feature.starts_with("hit:")
}

/// The corpus, in the order entries were added.
#[derive(Debug, Default)]
pub struct Corpus {
    pub entries: Vec<Entry>,
    pub max: usize,
    /// For every behaviour: how many runs reached it, and which entries.
    behaviours: BTreeMap<String, Reached>,
}

#[derive(Debug, Default)]
struct Reached {
    runs: u32,
    entries: Vec<usize>,
}

impl Corpus {
    pub fn new(max: usize) -> Corpus {
        Corpus {
            entries: Vec::new(),
            max,
            behaviours: BTreeMap::new(),
        }
    }

    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.max
    }

    /// Counts the behaviours of a run (every judged run, in the corpus or
    /// not): the denominator of rarity.
    pub fn observe(&mut self, features: &BTreeSet<String>) {
        for f in features.iter().filter(|f| is_behaviour(f)) {
            // Most behaviours were seen before: count without cloning.
            match self.behaviours.get_mut(f) {
                Some(reached) => reached.runs += 1,
                None => {
                    self.behaviours.insert(
                        f.clone(),
                        Reached {
                            runs: 1,
                            entries: Vec::new(),
                        },
                    );
                }
            }
        }
    }

    /// Adds an entry unless the corpus is full.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        run: usize,
        parent: Option<usize>,
        mutation: &str,
        seed: u64,
        events: Vec<FaultEventSpec>,
        jitter: Duration,
        new: &[String],
        features: &BTreeSet<String>,
    ) {
        if self.is_full() {
            return;
        }
        let id = self.entries.len();
        for b in features.iter().filter(|f| is_behaviour(f)) {
            self.behaviours
                .entry(b.clone())
                .or_default()
                .entries
                .push(id);
        }
        self.entries.push(Entry {
            id: self.entries.len(),
            run,
            parent,
            mutation: mutation.to_string(),
            seed,
            fault_events: events.len(),
            events,
            jitter,
            new_features: new.len(),
            first_new: new.iter().take(NEW_FEATURES_SHOWN).cloned().collect(),
            children: 0,
            children_new: 0,
            energy: if new.iter().any(|f| is_behaviour(f)) {
                NEW_BEHAVIOUR_ENERGY
            } else {
                START_ENERGY
            },
        });
    }

    /// Credits or debits the parent of a run.
    pub fn reward(&mut self, parent: usize, found_new: bool) {
        let entry = &mut self.entries[parent];
        entry.children += 1;
        if found_new {
            entry.children_new += 1;
            entry.energy = (entry.energy + FIND_BONUS).min(MAX_ENERGY);
        } else {
            entry.energy = entry.energy.saturating_sub(1).max(1);
        }
    }

    /// A parent: by rarity with probability [`RARE_SHARE`], else by energy.
    pub fn pick(&self, rng: &mut ChaCha8Rng) -> usize {
        if rng.random_bool(RARE_SHARE) {
            if let Some(id) = self.pick_rare(rng) {
                return id;
            }
        }
        self.pick_by_energy(rng, 0..self.entries.len())
    }

    /// An entry drawn with probability proportional to its energy, from
    /// `ids`.
    fn pick_by_energy(
        &self,
        rng: &mut ChaCha8Rng,
        ids: impl Iterator<Item = usize> + Clone,
    ) -> usize {
        let energy = |i: usize| u64::from(self.entries[i].energy);
        let total: u64 = ids.clone().map(energy).sum();
        let mut ticket = rng.random_range(0..total.max(1));
        let mut last = 0;
        for i in ids {
            if ticket < energy(i) {
                return i;
            }
            ticket -= energy(i);
            last = i;
        }
        last
    }

    /// A behaviour some entry reached, drawn with weight one over the runs
    /// that reached it, then one of its entries by energy.
    fn pick_rare(&self, rng: &mut ChaCha8Rng) -> Option<usize> {
        let held: Vec<&Reached> = self
            .behaviours
            .values()
            .filter(|r| !r.entries.is_empty())
            .collect();
        // Integer weights, so a draw is the same on every platform.
        let weight = |r: &Reached| RARITY_SCALE / u64::from(r.runs.max(1));
        let total: u64 = held.iter().map(|r| weight(r)).sum();
        if total == 0 {
            return None;
        }
        let mut ticket = rng.random_range(0..total);
        for r in &held {
            if ticket < weight(r) {
                return Some(self.pick_by_energy(rng, r.entries.iter().copied()));
            }
            ticket -= weight(r);
        }
        held.last()
            .map(|r| self.pick_by_energy(rng, r.entries.iter().copied()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn entries_that_find_more_are_picked_more_often() {
        let mut corpus = Corpus::new(10);
        for i in 0..2 {
            corpus.add(
                i + 1,
                None,
                "seed",
                i as u64,
                Vec::new(),
                Duration::ZERO,
                &[],
                &BTreeSet::new(),
            );
        }
        for _ in 0..4 {
            corpus.reward(1, true);
        }
        corpus.reward(0, false);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let ones = (0..1000).filter(|_| corpus.pick(&mut rng) == 1).count();
        assert!(
            ones > 800,
            "entry 1 has 40 of 47 energy, picked {ones} of 1000"
        );
        assert_eq!(corpus.entries[1].children_new, 4);
        assert_eq!(corpus.entries[0].energy, START_ENERGY - 1);
    }

    #[test]
    fn an_entry_that_reached_a_rare_behaviour_is_picked_more_often() {
        let mut corpus = Corpus::new(10);
        let common: BTreeSet<String> = ["state:kv: became leader".to_string()].into();
        let mut rare = common.clone();
        rare.insert("state:disk: corrupted a read".into());
        for _ in 0..99 {
            corpus.observe(&common);
        }
        corpus.observe(&rare);
        corpus.add(1, None, "seed", 1, Vec::new(), Duration::ZERO, &[], &common);
        corpus.add(2, None, "seed", 2, Vec::new(), Duration::ZERO, &[], &rare);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let rare_picks = (0..1000).filter(|_| corpus.pick(&mut rng) == 1).count();
        // Half the picks by energy (equal: ~250 each), half by rarity: the
        // rare behaviour has 100 of 101 parts of the weight (~495), and
        // the common one is shared by both (~2).
        assert!(
            (680..=820).contains(&rare_picks),
            "the rare entry was picked {rare_picks} of 1000 times"
        );
        // `hit:` triples are not behaviours: they never weigh a draw.
        assert!(!is_behaviour("hit:crash|leader|kv: became leader"));
        assert!(is_behaviour("state:disk: corrupted a read"));
    }
}
