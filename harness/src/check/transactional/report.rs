//! The verdict: which anomalies were found, which models they rule out,
//! and the transactions that show it.

use super::anomaly::{forbidden_by, implies, Found};
use super::graph::{RT, RW, WR, WW};
use super::infer::Analysis;
use super::prepare::Prepared;
use super::search::Cycles;
use super::{Consistency, Options, INVARIANT};
use crate::check::Verdict;
use crate::history::{Event, History};
use serde_json::{json, Value as Json};

/// Most events in a verdict's evidence.
const MAX_EVIDENCE_EVENTS: usize = 40;

pub(super) fn verdict(
    history: &History,
    p: &Prepared,
    analysis: &Analysis,
    cycles: &Cycles,
    options: &Options,
) -> Verdict {
    let level = options.consistency;
    if p.txns.is_empty() {
        return Verdict::unknown(
            INVARIANT,
            format!(
                "the history has no txn operations to check ({} other operations)",
                p.ignored
            ),
        );
    }
    let mut all: Vec<&Found> = analysis.direct.iter().chain(&cycles.found).collect();
    all.sort_by_key(|f| f.kind);
    let (failing, allowed): (Vec<&Found>, Vec<&Found>) =
        all.iter().partition(|f| f.kind.rules_out(level));
    debug_assert!(!cycles.violated.contains(&level) || !failing.is_empty());

    let g = &analysis.graph;
    let mut edges = json!({ "ww": g.count(WW), "wr": g.count(WR), "rw": g.count(RW) });
    if analysis.realtime {
        edges["rt"] = json!(g.count(RT));
    }
    let impossible: Vec<Consistency> = Consistency::ALL
        .into_iter()
        .filter(|&m| all.iter().any(|f| f.kind.rules_out(m)))
        .collect();
    let weakest: Vec<&str> = impossible
        .iter()
        .filter(|&&m| !impossible.iter().any(|&o| o != m && implies(m, o)))
        .map(|m| m.as_str())
        .collect();
    let also: Vec<&str> = impossible
        .iter()
        .map(|m| m.as_str())
        .filter(|m| !weakest.contains(m))
        .collect();
    let with_details = |verdict: Verdict| {
        let mut v = verdict
            .with_detail("model", p.model.as_str())
            .with_detail("consistency", level.as_str())
            .with_detail("transactions", p.txns.len() as u64)
            .with_detail("edges", edges.clone())
            .with_detail(
                "anomalies",
                Json::Array(all.iter().map(|f| anomaly_json(p, f)).collect()),
            )
            .with_detail("not", weakest.clone())
            .with_detail("also_not", also.clone());
        if p.ignored > 0 {
            v = v.with_detail("ignored_operations", p.ignored as u64);
        }
        if cycles.exhausted {
            v = v.with_detail("search_exhausted", true);
        }
        v
    };
    let model = p.model.as_str();
    let n = p.txns.len();
    if failing.is_empty() {
        let mut summary = format!("{n} transactions are {level} ({model})");
        if !allowed.is_empty() {
            let names: Vec<String> = allowed.iter().map(|f| f.kind.name()).collect();
            summary.push_str(&format!(
                "; found {}, which {level} allows",
                names.join(", ")
            ));
        }
        return with_details(Verdict::pass(INVARIANT, summary));
    }

    let shown: Vec<String> = failing
        .iter()
        .map(|f| format!("{} ({})", f.kind, short_example(p, f)))
        .collect();
    let mut summary = format!(
        "{n} transactions are not {level} ({model}): {}",
        shown.join(", ")
    );
    if cycles.exhausted {
        summary.push_str(
            " (the example search ran out of max_search_steps, check-history --max-search-steps)",
        );
    }
    let forbidden: Vec<String> = forbidden_by(level).iter().map(|k| k.name()).collect();
    let expected = format!(
        "a {level} history, which has none of: {}",
        forbidden.join(", ")
    );
    with_details(
        Verdict::fail(INVARIANT, summary)
            .with_expected(expected)
            .with_evidence(evidence(history, p, &failing)),
    )
}

fn short_name(p: &Prepared, txn: u32) -> String {
    format!(
        "T{}",
        p.operations[p.txns[txn as usize].op as usize].invoke_index
    )
}

/// Transactions named in a summary.
const SUMMARY_TXNS: usize = 8;
/// Transactions named per example in the details.
const DETAIL_TXNS: usize = 32;

/// A cycle as `T3 -> T7 -> T3`, or the transactions involved.
fn short_example(p: &Prepared, found: &Found) -> String {
    let Some(example) = found.examples.first() else {
        return String::new();
    };
    let mut names: Vec<String> = example
        .txns
        .iter()
        .take(SUMMARY_TXNS)
        .map(|&t| short_name(p, t))
        .collect();
    if example.txns.len() > SUMMARY_TXNS {
        names.push(format!("… ({} transactions)", example.txns.len()));
    } else if example.cycle {
        names.push(names[0].clone());
    }
    names.join(if example.cycle { " -> " } else { ", " })
}

fn anomaly_json(p: &Prepared, found: &Found) -> Json {
    let examples: Vec<Json> = found
        .examples
        .iter()
        .map(|e| {
            let mut example = json!({
                "transactions": e.txns.iter().take(DETAIL_TXNS).map(|&t| p.name(t)).collect::<Vec<_>>(),
                "explanation": e.explanation,
            });
            if e.txns.len() > DETAIL_TXNS {
                example["transactions_in_all"] = json!(e.txns.len());
            }
            example
        })
        .collect();
    let mut out = json!({
        "type": found.kind.name(),
        "meaning": found.kind.meaning(),
        "not": found.kind.weakest_ruled_out().iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        "rules_out": found.kind.ruled_out().iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        "examples": examples,
    });
    if let Some(count) = found.count {
        out["count"] = json!(count);
    }
    out
}

/// The events of every failing anomaly's first example, in that order,
/// each transaction once.
fn evidence(history: &History, p: &Prepared, failing: &[&Found]) -> Vec<Event> {
    let mut indices: Vec<usize> = Vec::new();
    for found in failing {
        let Some(example) = found.examples.first() else {
            continue;
        };
        for &txn in &example.txns {
            let op = &p.operations[p.txns[txn as usize].op as usize];
            for index in std::iter::once(op.invoke_index).chain(op.complete_index) {
                if !indices.contains(&index) {
                    indices.push(index);
                }
            }
        }
    }
    indices
        .into_iter()
        .take(MAX_EVIDENCE_EVENTS)
        .map(|i| history.events[i].clone())
        .collect()
}
