//! What inference steps share before the graph exists: who wrote each
//! value, who read each version, the version edges a data model derives,
//! and the anomalies found along the way without a cycle.

use super::anomaly::{AnomalyKind, Example, Found};
use super::hashing::{pair, FxMap};
use super::prepare::{Prepared, Role};
use crate::history::Outcome;
use std::collections::BTreeMap;

/// Who wrote a value to a key.
#[derive(Clone, Copy, Debug)]
pub(super) struct Writer {
    pub txn: u32,
    /// The writer overwrote (or appended after) it in the same transaction.
    pub intermediate: bool,
}

/// Lookups every inference step needs.
pub(super) struct Indexes {
    writers: FxMap<u64, Writer>,
    /// `(pair(key, version), reader)` for every external read of a
    /// committed transaction, sorted.
    external_reads: Vec<(u64, u32)>,
}

impl Indexes {
    /// Indexes every write and every committed external read.
    pub fn build(p: &Prepared) -> Result<Indexes, String> {
        let mut writers: FxMap<u64, Writer> = FxMap::default();
        let mut external_reads = Vec::new();
        for txn in 0..p.txns.len() as u32 {
            let committed = p.txns[txn as usize].outcome == Outcome::Ok;
            for mop in p.mops(txn) {
                match mop.role {
                    Role::FinalWrite | Role::IntermediateWrite => {
                        let writer = Writer {
                            txn,
                            intermediate: mop.role == Role::IntermediateWrite,
                        };
                        if let Some(other) = writers.insert(pair(mop.key, mop.arg), writer) {
                            return Err(format!(
                                "{} and {} both write {} to key {}; the checker needs every write to a key to use a value no other write uses",
                                p.name(other.txn),
                                p.name(txn),
                                p.value_name(mop.arg),
                                p.key_name(mop.key)
                            ));
                        }
                    }
                    Role::ExternalRead if committed => {
                        external_reads.push((pair(mop.key, p.read_version(mop)), txn));
                    }
                    _ => {}
                }
            }
        }
        external_reads.sort_unstable();
        Ok(Indexes {
            writers,
            external_reads,
        })
    }

    pub fn writer(&self, key: u32, value: u32) -> Option<Writer> {
        self.writers.get(&pair(key, value)).copied()
    }

    /// Every `(pair(key, version), reader)` external read, sorted.
    pub fn external_reads(&self) -> &[(u64, u32)] {
        &self.external_reads
    }

    /// Committed transactions whose external read of `key` saw `version`.
    pub fn readers(&self, key: u32, version: u32) -> impl Iterator<Item = u32> + '_ {
        let wanted = pair(key, version);
        let start = self.external_reads.partition_point(|&(p, _)| p < wanted);
        self.external_reads[start..]
            .iter()
            .take_while(move |&&(p, _)| p == wanted)
            .map(|&(_, txn)| txn)
    }
}

/// `key`: version `from` came before version `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct VersionEdge {
    pub key: u32,
    pub from: u32,
    pub to: u32,
}

/// Anomalies found without the graph, a few examples of each.
#[derive(Default)]
pub(super) struct Findings {
    found: BTreeMap<AnomalyKind, Found>,
}

/// Examples kept per direct anomaly class (all are counted).
const EXAMPLES_PER_CLASS: usize = 3;

impl Findings {
    /// The classes found, in class order.
    pub fn into_found(self) -> Vec<Found> {
        self.found.into_values().collect()
    }

    pub fn add(&mut self, kind: AnomalyKind, txns: Vec<u32>, explanation: String) {
        let found = self.found.entry(kind).or_insert_with(|| Found {
            kind,
            count: Some(0),
            examples: Vec::new(),
        });
        found.count = found.count.map(|c| c + 1);
        if found.examples.len() < EXAMPLES_PER_CLASS {
            found.examples.push(Example {
                txns,
                cycle: false,
                explanation: vec![explanation],
            });
        }
    }
}
