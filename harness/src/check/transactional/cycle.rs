//! Cycles as lists of labelled steps: how they are named, and how a walk
//! that keeps rw edges apart becomes a simple cycle.

use super::anomaly::AnomalyKind;
use super::graph::{Graph, RT, RW, WR, WW};
use super::hashing::FxMap;

/// One edge of a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Step {
    pub from: u32,
    pub to: u32,
    pub label: u8,
    pub key: u32,
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
pub(super) fn relabel(g: &Graph, cycle: Vec<Step>) -> Vec<Step> {
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
    let mut first_seen: FxMap<u32, usize> = FxMap::default();
    loop {
        first_seen.clear();
        // The first step that returns to a transaction seen before.
        let repeat =
            (0..walk.len()).find_map(|j| first_seen.insert(walk[j].from, j).map(|i| (i, j)));
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
