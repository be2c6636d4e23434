//! Anomalies that need no dependency graph, the same for both data models:
//! aborted reads (G1a), intermediate reads (G1b), future reads, garbage
//! reads and lost updates. A list-append read shows every element it contains, a
//! register read one value; both are lists of value ids here.

use super::anomaly::AnomalyKind;
use super::facts::{Findings, Indexes};
use super::prepare::{Prepared, Role, INIT};
use crate::history::Outcome;

pub(super) fn find(p: &Prepared, indexes: &Indexes, findings: &mut Findings) {
    dirty_reads(p, indexes, findings);
    lost_updates(p, findings);
}

/// Reads by committed transactions of values a failed transaction wrote,
/// that a writer overwrote within its own transaction, that the reader
/// itself wrote only later, or that nobody wrote.
fn dirty_reads(p: &Prepared, indexes: &Indexes, findings: &mut Findings) {
    for txn in 0..p.txns.len() as u32 {
        if p.txns[txn as usize].outcome != Outcome::Ok {
            continue;
        }
        for mop in p.mops(txn) {
            if !matches!(mop.role, Role::ExternalRead | Role::InternalRead) {
                continue;
            }
            let seen = p.read(mop);
            for (position, &value) in seen.iter().enumerate() {
                let read = || format!("{} read key {}", p.name(txn), p.key_name(mop.key));
                match indexes.writer(mop.key, value) {
                    None => findings.add(
                        AnomalyKind::GarbageRead,
                        vec![txn],
                        format!(
                            "{} and saw {}, which no transaction wrote",
                            read(),
                            p.value_name(value)
                        ),
                    ),
                    // Before its own write to the key, it saw that write.
                    Some(w) if w.txn == txn && mop.role == Role::ExternalRead => findings.add(
                        AnomalyKind::FutureRead,
                        vec![txn],
                        format!(
                            "{} and saw {}, which it wrote only later",
                            read(),
                            p.value_name(value)
                        ),
                    ),
                    Some(w) if p.txns[w.txn as usize].outcome == Outcome::Fail => findings.add(
                        AnomalyKind::G1a,
                        vec![w.txn, txn],
                        format!(
                            "{} and saw {}, written by {}, which failed",
                            read(),
                            p.value_name(value),
                            p.name(w.txn)
                        ),
                    ),
                    // Only the version read (the last element) can be an
                    // intermediate state; earlier elements of a list are
                    // just history.
                    Some(w) if w.intermediate && w.txn != txn && position + 1 == seen.len() => {
                        findings.add(
                            AnomalyKind::G1b,
                            vec![w.txn, txn],
                            format!(
                                "{} and saw {}, which {} overwrote before it committed",
                                read(),
                                p.value_name(value),
                                p.name(w.txn)
                            ),
                        )
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

/// Committed transactions that read a version of a key (before writing
/// it) and then wrote that key, grouped by the version: two in one group
/// both updated the same state, and one update must be lost. Found
/// directly, because the version order is often too partial for the
/// G2-item cycle that a lost update is.
fn lost_updates(p: &Prepared, findings: &mut Findings) {
    // (key, version read, txn) for read-then-write transactions.
    let mut updates: Vec<(u32, u32, u32)> = Vec::new();
    for txn in 0..p.txns.len() as u32 {
        if p.txns[txn as usize].outcome != Outcome::Ok {
            continue;
        }
        let mops = p.mops(txn);
        for mop in mops.iter().filter(|m| m.role == Role::ExternalRead) {
            if mops.iter().any(|m| m.is_write() && m.key == mop.key) {
                updates.push((mop.key, p.read_version(mop), txn));
            }
        }
    }
    updates.sort_unstable();
    for group in updates.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        if group.len() < 2 {
            continue;
        }
        let (key, version) = (group[0].0, group[0].1);
        let txns: Vec<u32> = group.iter().map(|g| g.2).collect();
        let names: Vec<String> = txns.iter().map(|&t| p.name(t)).collect();
        let seen = if version == INIT {
            "the initial state".to_string()
        } else {
            format!("the version written with {}", p.value_name(version))
        };
        findings.add(
            AnomalyKind::LostUpdate,
            txns,
            format!(
                "{} all read {seen} of key {} and then wrote it",
                names.join(", "),
                p.key_name(key)
            ),
        );
    }
}
