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
use super::explain::explain_step;
use super::graph::{Graph, Masked, NonAdjacentRw, ALL, DATA, RT, RW, WR, WW};
use super::infer::Analysis;
use super::prepare::Prepared;
use super::scc::{tarjan, Components};
use super::{Consistency, Options};
use std::collections::{BTreeMap, VecDeque};

/// Seed edges tried per search.
const SEEDS_PER_CLASS: usize = 16;
/// Transactions named when a forbidden cycle has no example.
const COMPONENT_TXNS_SHOWN: usize = 12;

/// One edge of a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Step {
    pub from: u32,
    pub to: u32,
    pub label: u8,
    pub key: u32,
}

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
                explanation: cycle.iter().map(|s| explain_step(p, s)).collect(),
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
        explanation: vec![format!(
            "a forbidden cycle runs through these {} transactions{}; raise max_search_steps to see one",
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

/// Names a cycle by its edges, as Elle does: by the number of rw edges
/// (and whether two are adjacent), else by whether it has a wr edge; with
/// `-realtime` if it needs real-time order.
pub(super) fn classify(cycle: &[Step]) -> AnomalyKind {
    let count = |label: u8| cycle.iter().filter(|s| s.label == label).count();
    let adjacent_rw =
        (0..cycle.len()).any(|i| cycle[i].label == RW && cycle[(i + 1) % cycle.len()].label == RW);
    let data = match count(RW) {
        0 if count(WR) > 0 => AnomalyKind::G1c,
        0 => AnomalyKind::G0,
        1 => AnomalyKind::GSingle,
        _ if adjacent_rw => AnomalyKind::G2Item,
        _ => AnomalyKind::GNonadjacent,
    };
    if count(RT) > 0 {
        data.realtime()
    } else {
        data
    }
}

/// Gives each step the first of ww, wr, rw, rt that its two transactions
/// have an edge for.
fn relabel(g: &Graph, cycle: Vec<Step>) -> Vec<Step> {
    cycle
        .into_iter()
        .map(|s| match g.best_edge(s.from, s.to, &[WW, WR, RW, RT]) {
            Some(e) => Step {
                label: g.labels[e],
                key: g.keys[e],
                ..s
            },
            None => s,
        })
        .collect()
}

/// Cuts a closed walk whose rw edges are never adjacent (cyclically) down
/// to a simple cycle with the same property. Split at a repeated
/// transaction, the walk is two closed walks; if the first has rw edges
/// meeting at its seam, the edges around the second's seam are the
/// neighbours of those rw edges in the whole walk, so not rw: the second
/// is fine. Each cut shortens the walk, so this ends.
pub(super) fn simple_nonadjacent(mut walk: Vec<Step>) -> Vec<Step> {
    let fine =
        |w: &[Step]| (0..w.len()).all(|i| !(w[i].label == RW && w[(i + 1) % w.len()].label == RW));
    loop {
        let repeat = (0..walk.len()).find_map(|i| {
            (i + 1..walk.len())
                .find(|&j| walk[j].from == walk[i].from)
                .map(|j| (i, j))
        });
        let Some((i, j)) = repeat else {
            return walk;
        };
        let first: Vec<Step> = walk[i..j].to_vec();
        walk = if fine(&first) {
            first
        } else {
            walk[j..].iter().chain(&walk[..i]).copied().collect()
        };
    }
}

/// Which edges a search may take after its seed, and when it is done.
#[derive(Clone, Copy)]
enum Automaton {
    /// Any edge with a label in the mask.
    Plain(u8),
    /// ww, wr and rw edges, never an rw right after an rw (the seed is
    /// one), and back at the seed's tail by a non-rw edge. State 1: the
    /// last edge was rw.
    NonAdjacent,
}

impl Automaton {
    fn states(self) -> u32 {
        match self {
            Automaton::Plain(_) => 1,
            Automaton::NonAdjacent => 2,
        }
    }

    /// The state after the seed edge.
    fn start(self) -> u8 {
        match self {
            Automaton::Plain(_) => 0,
            Automaton::NonAdjacent => 1,
        }
    }

    fn step(self, state: u8, label: u8) -> Option<u8> {
        match self {
            Automaton::Plain(mask) => (label & mask != 0).then_some(0),
            Automaton::NonAdjacent => match label {
                RW if state == 0 => Some(1),
                WW | WR => Some(0),
                _ => None,
            },
        }
    }

    fn accept(self, state: u8) -> bool {
        match self {
            Automaton::Plain(_) => true,
            Automaton::NonAdjacent => state == 0,
        }
    }
}

/// Breadth-first search over (transaction, automaton state), with marks
/// reused between searches by a generation number.
struct Search<'g> {
    graph: &'g Graph,
    steps_left: u64,
    exhausted: bool,
    seen: Vec<u32>,
    /// For each reached (transaction, state): (previous one, edge taken).
    parent: Vec<(u32, u32)>,
    generation: u32,
    queue: VecDeque<u32>,
}

impl<'g> Search<'g> {
    fn new(graph: &'g Graph, max_steps: u64) -> Search<'g> {
        Search {
            graph,
            steps_left: max_steps,
            exhausted: false,
            seen: Vec::new(),
            parent: Vec::new(),
            generation: 0,
            queue: VecDeque::new(),
        }
    }

    /// A shortest walk that starts with the seed edge (leaving `from`) and
    /// returns to `from` within `region`, or `None` (no such walk, or the
    /// step budget ran out, after which every search answers `None`).
    fn run(
        &mut self,
        from: u32,
        seed: usize,
        automaton: Automaton,
        region: &dyn Fn(u32, u8) -> bool,
    ) -> Option<Vec<Step>> {
        if self.exhausted {
            return None;
        }
        let g = self.graph;
        let states = automaton.states();
        let size = g.node_count() * states as usize;
        if self.seen.len() < size {
            self.seen.resize(size, 0);
            self.parent.resize(size, (0, 0));
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        let generation = self.generation;
        let seed_to = g.targets[seed];
        let start = seed_to * states + u32::from(automaton.start());
        self.seen[start as usize] = generation;
        self.queue.clear();
        self.queue.push_back(start);
        while let Some(at) = self.queue.pop_front() {
            let (node, state) = (at / states, (at % states) as u8);
            for e in g.out(node) {
                if self.steps_left == 0 {
                    self.exhausted = true;
                    return None;
                }
                self.steps_left -= 1;
                let Some(next_state) = automaton.step(state, g.labels[e]) else {
                    continue;
                };
                let w = g.targets[e];
                if !region(w, next_state) {
                    continue;
                }
                let id = w * states + u32::from(next_state);
                if self.seen[id as usize] == generation {
                    continue;
                }
                self.seen[id as usize] = generation;
                self.parent[id as usize] = (at, e as u32);
                if w == from && automaton.accept(next_state) {
                    return Some(self.path(from, seed, start, id, states));
                }
                if w != from {
                    self.queue.push_back(id);
                }
            }
        }
        None
    }

    fn path(&self, from: u32, seed: usize, start: u32, end: u32, states: u32) -> Vec<Step> {
        let g = self.graph;
        let step = |from: u32, e: usize| Step {
            from,
            to: g.targets[e],
            label: g.labels[e],
            key: g.keys[e],
        };
        let mut back = Vec::new();
        let mut at = end;
        while at != start {
            let (previous, e) = self.parent[at as usize];
            back.push(step(previous / states, e as usize));
            at = previous;
        }
        std::iter::once(step(from, seed))
            .chain(back.into_iter().rev())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(from: u32, to: u32, label: u8) -> Step {
        Step {
            from,
            to,
            label,
            key: 0,
        }
    }

    #[test]
    fn cycles_are_named_by_their_edges() {
        assert_eq!(classify(&[s(0, 1, WW), s(1, 0, WW)]), AnomalyKind::G0);
        assert_eq!(classify(&[s(0, 1, WW), s(1, 0, WR)]), AnomalyKind::G1c);
        assert_eq!(classify(&[s(0, 1, RW), s(1, 0, WR)]), AnomalyKind::GSingle);
        assert_eq!(classify(&[s(0, 1, RW), s(1, 0, RW)]), AnomalyKind::G2Item);
        assert_eq!(
            classify(&[s(0, 1, RW), s(1, 2, WW), s(2, 3, RW), s(3, 0, WR)]),
            AnomalyKind::GNonadjacent
        );
        assert_eq!(
            classify(&[s(0, 1, RW), s(1, 0, RT)]),
            AnomalyKind::GSingleRealtime
        );
    }

    #[test]
    fn a_nonadjacent_walk_is_cut_to_a_simple_cycle_that_keeps_rw_apart() {
        // 0 -rw-> 1 -ww-> 2 -rw-> 1 -wr-> 0 revisits 1: the walk 1 -ww-> 2
        // -rw-> 1 keeps rw apart, and so is the cut.
        let walk = vec![s(0, 1, RW), s(1, 2, WW), s(2, 1, RW), s(1, 0, WR)];
        let cycle = simple_nonadjacent(walk);
        assert_eq!(cycle, vec![s(1, 2, WW), s(2, 1, RW)]);
        // Here the first part has its rw edges meet at the seam; the rest
        // is taken.
        let walk = vec![
            s(0, 1, RW),
            s(1, 2, WR),
            s(2, 0, RW),
            s(0, 3, WW),
            s(3, 0, WR),
        ];
        let cycle = simple_nonadjacent(walk);
        assert_eq!(cycle, vec![s(0, 3, WW), s(3, 0, WR)]);
    }
}
