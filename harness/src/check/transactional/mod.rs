//! Transactional consistency, checked the way Elle does (Kingsbury &
//! Alvaro, "Elle: Inferring Isolation Anomalies from Experimental
//! Observations", VLDB 2020).
//!
//! **Model.** Each `txn` operation is a transaction over keys (see
//! [`crate::history::txn`]). An `ok` transaction committed and its reads saw
//! what its completion says; a `fail` one certainly did not commit; an
//! `info` one may have committed, and its reads are unknown. Written values
//! are unique per key (each `[:append k v]` or `[:w k v]` names a `v` no
//! other write to `k` uses), so a value read names the write that produced
//! it. From the reads the checker infers, per key, a partial *version
//! order*, and from it Adya's dependency graph between transactions:
//!
//! - `ww` (T1 wrote a version, T2 wrote the next one),
//! - `wr` (T2 read the version T1 wrote),
//! - `rw` (T1 read a version, T2 wrote the next one: T1 did not see T2),
//! - and for strict serializability `rt` (T1 completed before T2 was
//!   invoked, in history order; a process's own order is part of it, since
//!   a process runs one operation at a time).
//!
//! A cycle in that graph is an anomaly, named by its edges (G0, G1c,
//! G-single, G-nonadjacent, G2-item, and `-realtime` variants); anomalies
//! visible without a graph are found directly (G1a aborted read, G1b
//! intermediate read, lost update, internal inconsistency, incompatible
//! orders, duplicate elements, garbage reads). Each anomaly rules out a set
//! of [`Consistency`] models ([`anomaly`]); the verdict fails when the
//! requested model is among them.
//!
//! **Version orders.** *list-append*: every read shows the whole list, so
//! the longest read of a key orders every element in it, and every other
//! read must be a prefix of it; an append no read saw came after all the
//! elements any read saw. *rw-register*: a read shows one value only, so
//! the checker knows that the initial (`nil`) version precedes every
//! written one, and that when a committed transaction read `a` and then
//! wrote `b` to a key, `a` precedes `b`. Missing order only hides anomalies;
//! it never invents one.
//!
//! **Decisions are exact, examples are searched.** Whether a model's
//! forbidden cycles exist in the inferred graph is decided by strongly
//! connected components (linear time). A short example cycle per anomaly
//! class is then looked for by breadth-first search from a few seed edges,
//! within [`Budget::max_search_steps`]; when none is found in time the
//! verdict still fails, naming the transactions among which a forbidden
//! cycle exists.
//!
//! **Budget.** More than [`Budget::max_txns`] transactions or
//! [`Budget::max_edges`] inferred edges gives `unknown`, never `pass`; so do
//! a truncated history, a history that breaks the unique-writes assumption,
//! and a history without transactions.
//!
//! **Determinism.** Everything runs on one thread in history order, with
//! fixed-hash tables that are never iterated; the same history gives the
//! same verdict and the same evidence bytes.

pub mod anomaly;
mod bfs;
mod cycle;
mod direct;
mod explain;
mod facts;
mod graph;
mod hashing;
mod infer;
mod list_append;
#[cfg(test)]
mod oracle_tests;
mod prepare;
mod report;
mod rw_register;
mod scc;
mod search;
pub mod synth;
#[cfg(test)]
mod tests;

pub use crate::scenario::{Consistency, TransactionalSpec, TxnModel};
pub use anomaly::AnomalyKind;

use crate::check::Verdict;
use crate::history::jepsen::{parse_history, ParseError};
use crate::history::History;

/// The invariant's name in scenarios and verdicts.
pub const INVARIANT: &str = "transactional";

/// Default [`Budget::max_txns`].
pub const DEFAULT_MAX_TXNS: u64 = 2_000_000;
/// Default [`Budget::max_edges`]: about 200 MB of graph at most.
pub const DEFAULT_MAX_EDGES: u64 = 10_000_000;
/// Default [`Budget::max_search_steps`]: a second or two of example search.
pub const DEFAULT_MAX_SEARCH_STEPS: u64 = 50_000_000;

/// How much a check may do before answering `unknown` (sizes) or giving up
/// on finding example cycles (search).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most `txn` operations checked.
    pub max_txns: u64,
    /// Most dependency edges inferred (ww, wr, rw and rt together).
    pub max_edges: u64,
    /// Most edges followed while looking for example cycles. Running out
    /// never turns a failure into a pass: forbidden cycles are decided
    /// before the search.
    pub max_search_steps: u64,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            max_txns: DEFAULT_MAX_TXNS,
            max_edges: DEFAULT_MAX_EDGES,
            max_search_steps: DEFAULT_MAX_SEARCH_STEPS,
        }
    }
}

/// What to check a history against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub model: TxnModel,
    pub consistency: Consistency,
    pub budget: Budget,
}

impl Options {
    pub fn new(model: TxnModel, consistency: Consistency) -> Options {
        Options {
            model,
            consistency,
            budget: Budget::default(),
        }
    }

    /// The options a scenario's `[invariants.transactional]` asks for.
    pub fn from_spec(spec: &TransactionalSpec) -> Options {
        let mut options = Options::new(spec.model, spec.consistency);
        let budget = &mut options.budget;
        budget.max_txns = spec.max_txns.unwrap_or(budget.max_txns);
        budget.max_edges = spec.max_edges.unwrap_or(budget.max_edges);
        budget.max_search_steps = spec.max_search_steps.unwrap_or(budget.max_search_steps);
        options
    }
}

/// Checks the `txn` operations of `history` (other operations are
/// ignored, and counted in the verdict's details).
pub fn check(history: &History, options: &Options) -> Verdict {
    if history.is_truncated() {
        return Verdict::unknown(
            INVARIANT,
            format!(
                "the history is truncated ({} events were dropped), so transactions cannot be checked; raise the history limit",
                history.dropped_events
            ),
        );
    }
    let operations = match history.operations() {
        Ok(operations) => operations,
        Err(malformed) => {
            return Verdict::unknown(INVARIANT, format!("malformed history: {malformed}"))
        }
    };
    let prepared = match prepare::prepare(operations, options) {
        Ok(prepared) => prepared,
        Err(why) => return Verdict::unknown(INVARIANT, why),
    };
    let analysis = match infer::analyse(&prepared, options) {
        Ok(analysis) => analysis,
        Err(why) => return Verdict::unknown(INVARIANT, why),
    };
    let found = search::find_anomalies(&prepared, &analysis, options);
    report::verdict(history, &prepared, &analysis, &found, options)
}

/// Parses a history in either Jepsen format and checks it: what
/// `chaos check-history --model list-append|rw-register FILE` does with
/// each file.
pub fn check_history_text(text: &str, options: &Options) -> Result<Verdict, ParseError> {
    let history = parse_history(text)?;
    Ok(check(&history, options))
}
