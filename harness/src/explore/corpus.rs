//! The corpus: the runs that reached something no earlier run had, and
//! how much of the search each of them gets next.
//!
//! Model: every entry has an energy. It starts at [`START_ENERGY`]; when a
//! child of the entry reaches new coverage the entry gains
//! [`FIND_BONUS`] (up to [`MAX_ENERGY`]); when a child finds nothing new
//! it loses one (down to 1). Parents are drawn with probability
//! proportional to energy, so the entries that found something recently
//! get most of the runs and none is forgotten. At [`DEFAULT_MAX_CORPUS`]
//! entries new coverage is still counted but no entry is added.

use crate::scenario::FaultEventSpec;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::time::Duration;

/// Default cap on corpus entries.
pub const DEFAULT_MAX_CORPUS: usize = 1000;
/// Energy of a new entry.
pub const START_ENERGY: u32 = 8;
/// Energy a parent gains when a child reaches new coverage.
pub const FIND_BONUS: u32 = 8;
/// Cap on an entry's energy.
pub const MAX_ENERGY: u32 = 64;
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

/// The corpus, in the order entries were added.
#[derive(Debug, Default)]
pub struct Corpus {
    pub entries: Vec<Entry>,
    pub max: usize,
}

impl Corpus {
    pub fn new(max: usize) -> Corpus {
        Corpus {
            entries: Vec::new(),
            max,
        }
    }

    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.max
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
    ) {
        if self.is_full() {
            return;
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
            energy: START_ENERGY,
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

    /// An entry drawn with probability proportional to its energy.
    pub fn pick(&self, rng: &mut ChaCha8Rng) -> usize {
        let total: u64 = self.entries.iter().map(|e| u64::from(e.energy)).sum();
        let mut ticket = rng.random_range(0..total.max(1));
        for entry in &self.entries {
            let energy = u64::from(entry.energy);
            if ticket < energy {
                return entry.id;
            }
            ticket -= energy;
        }
        self.entries.len() - 1
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
}
