//! From transactions to the dependency graph.
//!
//! The data model (list-append or rw-register) supplies per-key *version
//! edges* `a -> b` ("version `a` came before version `b`", where a version
//! is named by the value whose write produced it, or [`INIT`]). Because
//! written values are unique, each version has one writer, and each edge
//! gives Adya's dependencies:
//!
//! - `ww`: the writer of `a` -> the writer of `b`;
//! - `rw`: every transaction whose external read saw `a` -> the writer of `b`;
//!
//! and every external read of a version gives `wr`: its writer -> the
//! reader. Edges from `a` to a later but not necessarily next version `b`
//! are shortcuts of a path through the versions in between with the same
//! number of rw edges, so they never change which anomalies exist.

use super::anomaly::Found;
use super::facts::{Findings, Indexes, VersionEdge};
use super::graph::{EdgeBuilder, Graph, TooManyEdges, NO_KEY, RT, RW, WR, WW};
use super::prepare::{Prepared, INIT};
use super::{direct, list_append, rw_register, Consistency, Options, TxnModel};
use crate::history::Outcome;

pub(super) struct Analysis {
    pub graph: Graph,
    /// Direct anomalies, by class.
    pub direct: Vec<Found>,
    /// Whether the graph has real-time edges.
    pub realtime: bool,
}

pub(super) fn analyse(p: &Prepared, options: &Options) -> Result<Analysis, String> {
    let indexes = Indexes::build(p)?;
    let mut findings = Findings::default();
    direct::find(p, &indexes, &mut findings);
    let versions = match options.model {
        TxnModel::ListAppend => list_append::analyse(p, &mut findings),
        TxnModel::RwRegister => rw_register::analyse(p, &mut findings),
    };
    let realtime = options.consistency == Consistency::StrictSerializable;
    let too_many = |_: TooManyEdges| {
        format!(
            "the dependency graph has more than {} edges ([invariants.transactional] max_edges, check-history --max-edges); raise it or check a shorter history",
            options.budget.max_edges
        )
    };
    let mut edges = EdgeBuilder::new(options.budget.max_edges);
    dependencies(p, &indexes, &versions, &mut edges).map_err(too_many)?;
    if realtime {
        realtime_order(p, &mut edges).map_err(too_many)?;
    }
    let graph = Graph::build(p.txns.len(), edges).map_err(too_many)?;
    Ok(Analysis {
        graph,
        direct: findings.into_found(),
        realtime,
    })
}

/// The ww, rw and wr edges. Only transactions that may have committed
/// are vertices with edges; a failed writer's values lead nowhere (they
/// are G1a when read).
fn dependencies(
    p: &Prepared,
    indexes: &Indexes,
    versions: &[VersionEdge],
    edges: &mut EdgeBuilder,
) -> Result<(), TooManyEdges> {
    let possible_writer = |key: u32, value: u32| {
        indexes
            .writer(key, value)
            .filter(|w| p.txns[w.txn as usize].possible())
    };
    for v in versions {
        let Some(to) = possible_writer(v.key, v.to) else {
            continue;
        };
        if v.from != INIT {
            if let Some(from) = possible_writer(v.key, v.from) {
                edges.add(from.txn, to.txn, WW, v.key)?;
            }
        }
        for reader in indexes.readers(v.key, v.from) {
            edges.add(reader, to.txn, RW, v.key)?;
        }
    }
    for &(key_version, reader) in indexes.external_reads() {
        let (key, version) = ((key_version >> 32) as u32, key_version as u32);
        if version == INIT {
            continue;
        }
        if let Some(writer) = possible_writer(key, version) {
            edges.add(writer.txn, reader, WR, key)?;
        }
    }
    Ok(())
}

/// Real-time order, as few edges as keep its transitive closure: in
/// history order, a transaction's invocation gets an edge from each
/// committed transaction that completed before it and is not already
/// known to precede another such one (the *frontier*). A process runs one
/// operation at a time, so process order is part of real-time order.
/// `info` transactions never complete, so nothing follows them.
fn realtime_order(p: &Prepared, edges: &mut EdgeBuilder) -> Result<(), TooManyEdges> {
    // (event index, is completion, txn), in history order.
    let mut events = Vec::with_capacity(p.txns.len() * 2);
    for (txn, t) in p.txns.iter().enumerate() {
        if !t.possible() {
            continue;
        }
        let op = &p.operations[t.op as usize];
        events.push((op.invoke_index, false, txn as u32));
        if let (Outcome::Ok, Some(done)) = (t.outcome, op.complete_index) {
            events.push((done, true, txn as u32));
        }
    }
    events.sort_unstable();
    let mut frontier: Vec<u32> = Vec::new();
    // Each transaction's predecessors, as a range of `preds`.
    let mut preds: Vec<u32> = Vec::new();
    let mut pred_range = vec![(0u32, 0u32); p.txns.len()];
    // `mark[t] == stamp` while removing the predecessors of one completion.
    let mut mark = vec![0u32; p.txns.len()];
    for (stamp, &(_, completion, txn)) in (1u32..).zip(&events) {
        if !completion {
            let start = preds.len() as u32;
            for &before in &frontier {
                edges.add(before, txn, RT, NO_KEY)?;
                preds.push(before);
            }
            pred_range[txn as usize] = (start, preds.len() as u32);
        } else {
            let (start, end) = pred_range[txn as usize];
            for &before in &preds[start as usize..end as usize] {
                mark[before as usize] = stamp;
            }
            frontier.retain(|&t| mark[t as usize] != stamp);
            frontier.push(txn);
        }
    }
    Ok(())
}
