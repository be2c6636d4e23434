//! Which cycles the graph holds, and a short example of each class.
//!
//! Whether a model's forbidden cycles exist is decided exactly from
//! strongly connected components, each in linear time:
//!
//! - read committed: a cycle of ww and wr edges;
//! - repeatable read and serializable: a cycle of ww, wr and rw edges;
//! - snapshot isolation: a cycle whose rw edges are never adjacent, that
//!   is, a cycle of the [`NonAdjacentRw`] product graph;
//! - strict serializable: a cycle once real-time edges are added.
//!
//! Examples come from breadth-first searches, each from one seed edge
//! `u -> v` back to `u` inside the seed's component, so each is a
//! shortest cycle through its seed (of the edges the search may take). A
//! seed inside a component with a cycle always yields one, so every
//! decided violation gets an example unless the step budget runs out.
//! Each example is named by its edges ([`classify`]) and the shortest per
//! class kept; a few seeds are tried per search. The search that keeps rw
//! edges apart walks (transaction, "was the last edge rw") states; its
//! walk can revisit a transaction, and is cut down to a simple cycle that
//! keeps rw edges apart (see [`simple_nonadjacent`]).

use super::anomaly::{AnomalyKind, Example, Found};
use super::bfs::{Automaton, Search};
use super::cycle::{classify, relabel, simple_nonadjacent, Step};
use super::explain::explain_step;
use super::graph::{Graph, Masked, NonAdjacentRw, ALL, DATA, RT, RW, WR, WW};
use super::infer::Analysis;
use super::prepare::Prepared;
use super::scc::{tarjan, Components};
use super::{Consistency, Options};
use std::collections::BTreeMap;

/// Seed edges tried per search.
const SEEDS_PER_CLASS: usize = 16;
/// Transactions named when a forbidden cycle has no example.
const COMPONENT_TXNS_SHOWN: usize = 12;
/// Steps of an example cycle explained one by one.
const EXPLAINED_STEPS: usize = 32;

pub(super) struct Cycles {
    pub found: Vec<Found>,
    /// The example search ran out of `max_search_steps`.
    pub exhausted: bool,
    /// Models whose forbidden cycles exist in the graph (decided exactly).
    pub violated: Vec<Consistency>,
}

pub(super) fn find_anomalies(p: &Prepared, a: &Analysis, options: &Options) -> Cycles {
    let g = &a.graph;
    let ww = tarjan(&Masked { graph: g, mask: WW });
    let ww_wr = tarjan(&Masked {
        graph: g,
        mask: WW | WR,
    });
    let data = tarjan(&Masked {
        graph: g,
        mask: DATA,
    });
    let si = tarjan(&NonAdjacentRw { graph: g });
    let all = a.realtime.then(|| {
        tarjan(&Masked {
            graph: g,
            mask: ALL,
        })
    });

    let mut violated = Vec::new();
    for level in Consistency::ALL {
        let has_cycle = match level {
            Consistency::ReadCommitted => ww_wr.has_cycle(),
            Consistency::RepeatableRead | Consistency::Serializable => data.has_cycle(),
            Consistency::SnapshotIsolation => si.has_cycle(),
            Consistency::StrictSerializable => {
                all.as_ref().map_or(data.has_cycle(), Components::has_cycle)
            }
        };
        if has_cycle {
            violated.push(level);
        }
    }

    let mut search = Search::new(g, options.budget.max_search_steps);
    let mut best: BTreeMap<AnomalyKind, Vec<Step>> = BTreeMap::new();
    let mut explore = |seeds: Vec<(u32, usize)>,
                       automaton: Automaton,
                       region: &dyn Fn(u32, u32, u8) -> bool| {
        for (u, edge) in seeds {
            let Some(walk) = search.run(u, edge, automaton, &|w, state| region(u, w, state)) else {
                continue;
            };
            let cycle = match automaton {
                Automaton::Plain(ALL) => relabel(g, walk),
                Automaton::Plain(_) => walk,
                Automaton::NonAdjacent => simple_nonadjacent(walk),
            };
            keep_shorter(&mut best, classify(&cycle), cycle);
        }
    };
    // Write cycles, then cycles through a wr edge: every component of the
    // ww+wr graph with a cycle has one or the other.
    explore(
        seeds(g, WW, |u, v| ww.same(u, v)),
        Automaton::Plain(WW),
        &|u, w, _| ww.same(w, u),
    );
    explore(
        seeds(g, WR, |u, v| ww_wr.same(u, v)),
        Automaton::Plain(WW | WR),
        &|u, w, _| ww_wr.same(w, u),
    );
    // One rw edge closed by ww and wr edges.
    explore(
        seeds(g, RW, |u, v| data.same(u, v)),
        Automaton::Plain(WW | WR),
        &|u, w, _| data.same(w, u),
    );
    // rw edges kept apart: every component of the product graph with a
    // cycle yields one (G-single or G-nonadjacent, or G0/G1c).
    let product =
        |node: u32, after_rw: bool| si.component[2 * node as usize + usize::from(after_rw)];
    explore(
        seeds(g, RW, |u, v| product(u, false) == product(v, true)),
        Automaton::NonAdjacent,
        &|u, w, state| product(w, state == 1) == product(u, false),
    );
    // Any data cycle through an rw edge (often G2-item).
    explore(
        seeds(g, RW, |u, v| data.same(u, v)),
        Automaton::Plain(DATA),
        &|u, w, _| data.same(w, u),
    );
    if let Some(all) = &all {
        // Cycles through real time, each step labelled with its most
        // telling dependency (data before real time).
        explore(
            seeds(g, RT, |u, v| all.same(u, v)),
            Automaton::Plain(ALL),
            &|u, w, _| all.same(w, u),
        );
    }

    let mut found: Vec<Found> = best
        .into_iter()
        .map(|(kind, cycle)| Found {
            kind,
            count: None,
            examples: vec![Example {
                txns: cycle.iter().map(|s| s.from).collect(),
                cycle: true,
                explanation: explain_cycle(p, &cycle),
            }],
        })
        .collect();
    // A decided violation of the requested model with no example in the
    // budget still fails, naming the component that holds the cycle.
    let level = options.consistency;
    if violated.contains(&level) && !found.iter().any(|f| f.kind.rules_out(level)) {
        let (components, width) = match level {
            Consistency::ReadCommitted => (&ww_wr, 1),
            Consistency::SnapshotIsolation => (&si, 2),
            Consistency::StrictSerializable => (all.as_ref().unwrap_or(&data), 1),
            _ => (&data, 1),
        };
        found.push(Found {
            kind: AnomalyKind::CycleExists(level),
            count: None,
            examples: vec![component_example(components, width, g.node_count())],
        });
    }
    found.sort_by_key(|f| f.kind);
    Cycles {
        found,
        exhausted: search.exhausted,
        violated,
    }
}

/// One line per step, the first [`EXPLAINED_STEPS`] of a long cycle.
fn explain_cycle(p: &Prepared, cycle: &[Step]) -> Vec<String> {
    let mut lines: Vec<String> = cycle
        .iter()
        .take(EXPLAINED_STEPS)
        .map(|s| explain_step(p, s))
        .collect();
    if cycle.len() > EXPLAINED_STEPS {
        lines.push(format!(
            "… and {} more steps",
            cycle.len() - EXPLAINED_STEPS
        ));
    }
    lines
}

/// The transactions of the smallest component holding a cycle (`width`
/// product nodes per transaction).
fn component_example(components: &Components, width: usize, txns: usize) -> Example {
    let smallest = (0..components.sizes.len())
        .filter(|&c| components.sizes[c] > 1)
        .min_by_key(|&c| (components.sizes[c], c))
        .expect("a violated model has a cycle") as u32;
    let members: Vec<u32> = (0..txns as u32)
        .filter(|&t| (0..width).any(|s| components.component[t as usize * width + s] == smallest))
        .collect();
    let shown: Vec<u32> = members.iter().copied().take(COMPONENT_TXNS_SHOWN).collect();
    Example {
        cycle: false,
        explanation: vec![format!(
            "a forbidden cycle runs through these {} transactions{}; raise max_search_steps (check-history --max-search-steps) to see one",
            members.len(),
            if members.len() > shown.len() { " (the first shown)" } else { "" }
        )],
        txns: shown,
    }
}

/// Keeps the shorter of two examples of a class (the earlier on a tie),
/// each turned to start at its lowest transaction.
fn keep_shorter(
    best: &mut BTreeMap<AnomalyKind, Vec<Step>>,
    kind: AnomalyKind,
    mut cycle: Vec<Step>,
) {
    if let Some(lowest) = (0..cycle.len()).min_by_key(|&i| cycle[i].from) {
        cycle.rotate_left(lowest);
    }
    match best.get(&kind) {
        Some(old) if old.len() <= cycle.len() => {}
        _ => {
            best.insert(kind, cycle);
        }
    }
}

/// Up to [`SEEDS_PER_CLASS`] edges with `label` that `inside` accepts, in
/// graph order: `(from, edge index)`.
fn seeds(g: &Graph, label: u8, inside: impl Fn(u32, u32) -> bool) -> Vec<(u32, usize)> {
    let mut out = Vec::new();
    for u in 0..g.node_count() as u32 {
        for e in g.out(u) {
            if g.labels[e] == label && inside(u, g.targets[e]) {
                out.push((u, e));
                if out.len() == SEEDS_PER_CLASS {
                    return out;
                }
            }
        }
    }
    out
}
