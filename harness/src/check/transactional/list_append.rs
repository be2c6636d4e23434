//! List-append: version orders from reads, and the anomalies a list shows
//! by itself.
//!
//! A read of a list shows every append to it so far, in order. So if the
//! appends really happened in one order, every read of a key is a prefix
//! of the longest read of it, and that longest read orders every element
//! it holds (*incompatible-order* when some read is not such a prefix;
//! *duplicate-elements* when a read repeats one). An append no read saw
//! must have come after every element some read saw, or that read would
//! show it: so it follows the longest read's last element.

use super::anomaly::AnomalyKind;
use super::facts::{Findings, VersionEdge};
use super::hashing::{pair, FxMap};
use super::prepare::{Mop, Prepared, Role, INIT};
use crate::history::{MopKind, Outcome};

pub(super) fn analyse(p: &Prepared, findings: &mut Findings) -> Vec<VersionEdge> {
    internal(p, findings);
    let longest = longest_reads(p, findings);
    incompatible_orders(p, &longest, findings);
    version_edges(p, &longest)
}

/// Known reads of committed transactions, in history order.
fn known_reads(p: &Prepared) -> impl Iterator<Item = (u32, &Mop)> {
    (0..p.txns.len() as u32)
        .filter(|&t| p.txns[t as usize].outcome == Outcome::Ok)
        .flat_map(move |t| {
            p.mops(t)
                .iter()
                .filter(|m| matches!(m.role, Role::ExternalRead | Role::InternalRead))
                .map(move |m| (t, m))
        })
}

/// The first longest read of each key, and duplicate elements on the way.
fn longest_reads<'p>(p: &'p Prepared, findings: &mut Findings) -> Vec<Option<(u32, &'p Mop)>> {
    let mut longest: Vec<Option<(u32, &Mop)>> = vec![None; p.keys.len()];
    // `stamp[value] == read number` while scanning one read.
    let mut stamp = vec![0u32; p.values.len()];
    for (number, (txn, mop)) in (1u32..).zip(known_reads(p)) {
        let seen = p.read(mop);
        if let Some(&twice) = seen
            .iter()
            .find(|&&v| std::mem::replace(&mut stamp[v as usize], number) == number)
        {
            findings.add(
                AnomalyKind::DuplicateElements,
                vec![txn],
                format!(
                    "{} read key {} and saw {} more than once",
                    p.name(txn),
                    p.key_name(mop.key),
                    p.value_name(twice)
                ),
            );
        }
        let slot = &mut longest[mop.key as usize];
        if slot.is_none_or(|(_, m)| p.read(m).len() < seen.len()) {
            *slot = Some((txn, mop));
        }
    }
    longest
}

fn incompatible_orders(p: &Prepared, longest: &[Option<(u32, &Mop)>], findings: &mut Findings) {
    for (txn, mop) in known_reads(p) {
        let Some((long_txn, long_mop)) = longest[mop.key as usize] else {
            continue;
        };
        let (seen, long) = (p.read(mop), p.read(long_mop));
        if !long.starts_with(seen) {
            findings.add(
                AnomalyKind::IncompatibleOrder,
                vec![long_txn, txn],
                format!(
                    "{} read key {} as {} and {} read it as {}: neither is a prefix of the other",
                    p.name(long_txn),
                    p.key_name(mop.key),
                    list_text(p, long),
                    p.name(txn),
                    list_text(p, seen)
                ),
            );
        }
    }
}

pub(super) fn list_text(p: &Prepared, values: &[u32]) -> String {
    let items: Vec<String> = values
        .iter()
        .map(|&v| p.values[v as usize].to_string())
        .collect();
    format!("[{}]", items.join(" "))
}

fn version_edges(p: &Prepared, longest: &[Option<(u32, &Mop)>]) -> Vec<VersionEdge> {
    let mut edges = Vec::new();
    let mut position: FxMap<u64, u32> = FxMap::default();
    // The last element of each key's order, or INIT.
    let mut last = vec![INIT; p.keys.len()];
    for (key, read) in longest.iter().enumerate() {
        let Some((_, mop)) = read else { continue };
        let key = key as u32;
        let mut previous = INIT;
        for &value in p.read(mop) {
            // A repeated element (already reported) keeps its first place.
            if position.insert(pair(key, value), 0).is_some() {
                continue;
            }
            edges.push(VersionEdge {
                key,
                from: previous,
                to: value,
            });
            previous = value;
        }
        last[key as usize] = previous;
    }
    for txn in 0..p.txns.len() as u32 {
        if !p.txns[txn as usize].possible() {
            continue;
        }
        for mop in p.mops(txn).iter().filter(|m| m.kind == MopKind::Append) {
            if !position.contains_key(&pair(mop.key, mop.arg)) {
                edges.push(VersionEdge {
                    key: mop.key,
                    from: last[mop.key as usize],
                    to: mop.arg,
                });
            }
        }
    }
    edges
}

/// What a transaction should see of a key, given its own earlier reads
/// and appends.
#[derive(Clone)]
enum Expected {
    /// Exactly this list.
    Exact(Vec<u32>),
    /// A list ending with these (its own appends, made before any read).
    EndsWith(Vec<u32>),
}

fn internal(p: &Prepared, findings: &mut Findings) {
    let mut expected: Vec<(u32, Expected)> = Vec::new();
    for txn in 0..p.txns.len() as u32 {
        if p.txns[txn as usize].outcome != Outcome::Ok {
            continue;
        }
        expected.clear();
        for mop in p.mops(txn) {
            let slot = expected.iter().position(|(k, _)| *k == mop.key);
            match mop.kind {
                MopKind::Append => match slot {
                    Some(i) => match &mut expected[i].1 {
                        Expected::Exact(list) | Expected::EndsWith(list) => list.push(mop.arg),
                    },
                    None => expected.push((mop.key, Expected::EndsWith(vec![mop.arg]))),
                },
                MopKind::Read => {
                    let seen = p.read(mop);
                    if let Some(i) = slot {
                        let (fits, wanted) = match &expected[i].1 {
                            Expected::Exact(list) => (seen == list.as_slice(), list_text(p, list)),
                            Expected::EndsWith(tail) => (
                                seen.ends_with(tail),
                                format!("a list ending in {}", list_text(p, tail)),
                            ),
                        };
                        if !fits {
                            findings.add(
                                AnomalyKind::Internal,
                                vec![txn],
                                format!(
                                    "{} read key {} as {}, but its own earlier reads and appends make it {}",
                                    p.name(txn),
                                    p.key_name(mop.key),
                                    list_text(p, seen),
                                    wanted
                                ),
                            );
                        }
                        expected[i].1 = Expected::Exact(seen.to_vec());
                    } else {
                        expected.push((mop.key, Expected::Exact(seen.to_vec())));
                    }
                }
                MopKind::Write => {}
            }
        }
    }
}
