//! The dependency graph between transactions: labelled edges in
//! compressed sparse rows, and the views cycle searches walk.
//!
//! Each stored edge has one label and remembers one key that produced it
//! (the smallest, for determinism), so that parallel dependencies of
//! different kinds are separate edges and each step of a cycle can be
//! explained.

use super::scc::Successors;

pub(super) const WW: u8 = 1;
pub(super) const WR: u8 = 2;
pub(super) const RW: u8 = 4;
/// Real time: the first transaction completed before the second began.
pub(super) const RT: u8 = 8;
pub(super) const DATA: u8 = WW | WR | RW;
pub(super) const ALL: u8 = DATA | RT;

/// Marks an edge that no key produced (real-time order).
pub(super) const NO_KEY: u32 = u32::MAX;

pub(super) fn label_name(label: u8) -> &'static str {
    match label {
        WW => "ww",
        WR => "wr",
        RW => "rw",
        RT => "rt",
        _ => "?",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Edge {
    pub from: u32,
    pub to: u32,
    pub label: u8,
    pub key: u32,
}

/// Collects edges, counting distinct ones against a budget.
pub(super) struct EdgeBuilder {
    edges: Vec<Edge>,
    max_edges: u64,
    /// Size at which duplicates are next squeezed out.
    next_compaction: usize,
}

/// More distinct edges than the budget allows.
#[derive(Debug)]
pub(super) struct TooManyEdges;

impl EdgeBuilder {
    pub fn new(max_edges: u64) -> EdgeBuilder {
        EdgeBuilder {
            edges: Vec::new(),
            max_edges,
            next_compaction: COMPACTION_FLOOR,
        }
    }

    pub fn add(&mut self, from: u32, to: u32, label: u8, key: u32) -> Result<(), TooManyEdges> {
        if from == to {
            return Ok(());
        }
        if self.edges.len() >= self.next_compaction {
            self.compact()?;
            self.next_compaction = (self.edges.len() * 2).max(COMPACTION_FLOOR);
        }
        self.edges.push(Edge {
            from,
            to,
            label,
            key,
        });
        Ok(())
    }

    fn compact(&mut self) -> Result<(), TooManyEdges> {
        self.edges.sort_unstable();
        self.edges
            .dedup_by(|b, a| (a.from, a.to, a.label) == (b.from, b.to, b.label));
        if self.edges.len() as u64 > self.max_edges {
            return Err(TooManyEdges);
        }
        Ok(())
    }
}

/// Duplicates are left to pile up to at least this many edges.
const COMPACTION_FLOOR: usize = 1 << 20;

#[derive(Clone, Debug, Default)]
pub(super) struct Graph {
    offsets: Vec<u32>,
    pub targets: Vec<u32>,
    pub labels: Vec<u8>,
    pub keys: Vec<u32>,
}

impl Graph {
    /// A graph of `nodes` vertices; edges are sorted by (from, to, label),
    /// one per label, keeping the smallest key.
    pub fn build(nodes: usize, mut builder: EdgeBuilder) -> Result<Graph, TooManyEdges> {
        builder.compact()?;
        let edges = builder.edges;
        let mut offsets = vec![0u32; nodes + 1];
        for e in &edges {
            offsets[e.from as usize + 1] += 1;
        }
        for i in 0..nodes {
            offsets[i + 1] += offsets[i];
        }
        Ok(Graph {
            offsets,
            targets: edges.iter().map(|e| e.to).collect(),
            labels: edges.iter().map(|e| e.label).collect(),
            keys: edges.iter().map(|e| e.key).collect(),
        })
    }

    pub fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The edge indices leaving `node`.
    pub fn out(&self, node: u32) -> std::ops::Range<usize> {
        self.offsets[node as usize] as usize..self.offsets[node as usize + 1] as usize
    }

    pub fn count(&self, label: u8) -> u64 {
        self.labels.iter().filter(|&&l| l == label).count() as u64
    }

    /// The edge `from -> to` with the first of `preferred` labels it has.
    pub fn best_edge(&self, from: u32, to: u32, preferred: &[u8]) -> Option<usize> {
        let range = self.out(from);
        let start = range.start + self.targets[range.clone()].partition_point(|&t| t < to);
        let end = range.start + self.targets[range].partition_point(|&t| t <= to);
        preferred
            .iter()
            .find_map(|&label| (start..end).find(|&e| self.labels[e] == label))
    }
}

/// The graph restricted to some labels.
pub(super) struct Masked<'g> {
    pub graph: &'g Graph,
    pub mask: u8,
}

impl Successors for Masked<'_> {
    fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    fn next(&self, node: u32, cursor: u32) -> Option<(u32, u32)> {
        let range = self.graph.out(node);
        let mut e = range.start + cursor as usize;
        while e < range.end {
            if self.graph.labels[e] & self.mask != 0 {
                return Some((self.graph.targets[e], (e - range.start + 1) as u32));
            }
            e += 1;
        }
        None
    }
}

/// The graph where no two rw edges may follow each other: node `2v` is
/// "at v, last edge not rw", `2v + 1` is "at v, just took an rw edge".
/// A cycle here is a cycle of the data graph whose rw edges are never
/// adjacent (counting the wrap-around): what snapshot isolation forbids.
pub(super) struct NonAdjacentRw<'g> {
    pub graph: &'g Graph,
}

impl Successors for NonAdjacentRw<'_> {
    fn node_count(&self) -> usize {
        self.graph.node_count() * 2
    }

    fn next(&self, node: u32, cursor: u32) -> Option<(u32, u32)> {
        let (vertex, after_rw) = (node / 2, node % 2 == 1);
        let range = self.graph.out(vertex);
        let mut e = range.start + cursor as usize;
        while e < range.end {
            let target = self.graph.targets[e];
            let next = (e - range.start + 1) as u32;
            match self.graph.labels[e] {
                WW | WR => return Some((target * 2, next)),
                RW if !after_rw => return Some((target * 2 + 1, next)),
                _ => {}
            }
            e += 1;
        }
        None
    }
}
