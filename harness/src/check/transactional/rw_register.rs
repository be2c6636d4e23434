//! rw-register: the version order a register history shows, and internal
//! consistency.
//!
//! A read shows one value, so reads alone order nothing. What is known:
//! the initial version (`nil`) precedes every written one; and when a
//! committed transaction read `a` from a key and then wrote `b` to it,
//! `a` precedes `b` (its write was installed after the version it read:
//! true under every model checked here, since each lets a transaction read
//! only versions installed before it commits, and versions are ordered by
//! installation). Elle calls the second rule "writes follow reads".

use super::anomaly::AnomalyKind;
use super::facts::{Findings, VersionEdge};
use super::prepare::{Prepared, Role, INIT};
use crate::history::{MopKind, Outcome};

pub(super) fn analyse(p: &Prepared, findings: &mut Findings) -> Vec<VersionEdge> {
    internal(p, findings);
    let mut edges = Vec::new();
    for txn in 0..p.txns.len() as u32 {
        let t = &p.txns[txn as usize];
        if !t.possible() {
            continue;
        }
        let mops = p.mops(txn);
        for mop in mops.iter().filter(|m| m.kind == MopKind::Write) {
            edges.push(VersionEdge {
                key: mop.key,
                from: INIT,
                to: mop.arg,
            });
        }
        if t.outcome != Outcome::Ok {
            continue;
        }
        for read in mops.iter().filter(|m| m.role == Role::ExternalRead) {
            let version = p.read_version(read);
            if version == INIT {
                continue;
            }
            for write in mops
                .iter()
                .filter(|m| m.role == Role::FinalWrite && m.key == read.key)
            {
                edges.push(VersionEdge {
                    key: read.key,
                    from: version,
                    to: write.arg,
                });
            }
        }
    }
    edges
}

fn internal(p: &Prepared, findings: &mut Findings) {
    // (key, the value this transaction must see next: INIT for nil).
    let mut expected: Vec<(u32, u32)> = Vec::new();
    for txn in 0..p.txns.len() as u32 {
        if p.txns[txn as usize].outcome != Outcome::Ok {
            continue;
        }
        expected.clear();
        for mop in p.mops(txn) {
            let value = match mop.kind {
                MopKind::Read => p.read_version(mop),
                _ => mop.arg,
            };
            match expected.iter_mut().find(|(k, _)| *k == mop.key) {
                Some((_, wanted)) => {
                    if mop.kind == MopKind::Read && *wanted != value {
                        findings.add(
                            AnomalyKind::Internal,
                            vec![txn],
                            format!(
                                "{} read key {} as {}, but its own earlier reads and writes make it {}",
                                p.name(txn),
                                p.key_name(mop.key),
                                register_text(p, value),
                                register_text(p, *wanted)
                            ),
                        );
                    }
                    *wanted = value;
                }
                None => expected.push((mop.key, value)),
            }
        }
    }
}

fn register_text(p: &Prepared, value: u32) -> String {
    if value == INIT {
        "nil".to_string()
    } else {
        p.values[value as usize].to_string()
    }
}
