//! Breadth-first search for a shortest cycle through a seed edge, over
//! (transaction, automaton state) pairs.

use super::cycle::Step;
use super::graph::{Graph, RW, WR, WW};
use std::collections::VecDeque;

/// Which edges a search may take after its seed, and when it is done.
#[derive(Clone, Copy)]
pub(super) enum Automaton {
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
pub(super) struct Search<'g> {
    graph: &'g Graph,
    steps_left: u64,
    pub exhausted: bool,
    seen: Vec<u32>,
    /// For each reached (transaction, state): (previous one, edge taken).
    parent: Vec<(u32, u32)>,
    generation: u32,
    queue: VecDeque<u32>,
}

impl<'g> Search<'g> {
    pub fn new(graph: &'g Graph, max_steps: u64) -> Search<'g> {
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
    pub fn run(
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
