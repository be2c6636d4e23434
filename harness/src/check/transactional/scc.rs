//! Strongly connected components by Tarjan's algorithm, iteratively (an
//! explicit stack instead of recursion, so a path of a million
//! transactions cannot overflow the thread's stack).

/// A directed graph walked one successor at a time.
pub(super) trait Successors {
    fn node_count(&self) -> usize;
    /// The successor of `node` at `cursor` (0 for the first) and the
    /// cursor of the one after it, or `None` when there are no more.
    fn next(&self, node: u32, cursor: u32) -> Option<(u32, u32)>;
}

/// Which component each node is in.
pub(super) struct Components {
    pub component: Vec<u32>,
    pub sizes: Vec<u32>,
}

impl Components {
    pub fn same(&self, a: u32, b: u32) -> bool {
        self.component[a as usize] == self.component[b as usize]
    }

    /// Components of more than one node: only they hold cycles, since
    /// the graphs have no self-loops.
    pub fn has_cycle(&self) -> bool {
        self.sizes.iter().any(|&s| s > 1)
    }

    #[cfg(test)]
    pub fn size_of(&self, node: u32) -> u32 {
        self.sizes[self.component[node as usize] as usize]
    }
}

const UNVISITED: u32 = u32::MAX;

struct Tarjan {
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    /// The explicit call stack: (node, cursor of its next successor).
    calls: Vec<(u32, u32)>,
    next_index: u32,
}

impl Tarjan {
    fn visit(&mut self, v: u32) {
        self.index[v as usize] = self.next_index;
        self.low[v as usize] = self.next_index;
        self.next_index += 1;
        self.stack.push(v);
        self.on_stack[v as usize] = true;
        self.calls.push((v, 0));
    }
}

pub(super) fn tarjan<G: Successors>(graph: &G) -> Components {
    let n = graph.node_count();
    let mut t = Tarjan {
        index: vec![UNVISITED; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        calls: Vec::new(),
        next_index: 0,
    };
    let mut component = vec![UNVISITED; n];
    let mut sizes = Vec::new();
    for root in 0..n as u32 {
        if t.index[root as usize] != UNVISITED {
            continue;
        }
        t.visit(root);
        while let Some(&(v, cursor)) = t.calls.last() {
            if let Some((w, next)) = graph.next(v, cursor) {
                t.calls.last_mut().expect("a call is open").1 = next;
                if t.index[w as usize] == UNVISITED {
                    t.visit(w);
                } else if t.on_stack[w as usize] {
                    t.low[v as usize] = t.low[v as usize].min(t.index[w as usize]);
                }
                continue;
            }
            t.calls.pop();
            if let Some(&(parent, _)) = t.calls.last() {
                t.low[parent as usize] = t.low[parent as usize].min(t.low[v as usize]);
            }
            if t.low[v as usize] == t.index[v as usize] {
                let id = sizes.len() as u32;
                let mut size = 0;
                loop {
                    let w = t.stack.pop().expect("v is on the stack");
                    t.on_stack[w as usize] = false;
                    component[w as usize] = id;
                    size += 1;
                    if w == v {
                        break;
                    }
                }
                sizes.push(size);
            }
        }
    }
    Components { component, sizes }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lists(Vec<Vec<u32>>);

    impl Successors for Lists {
        fn node_count(&self) -> usize {
            self.0.len()
        }
        fn next(&self, node: u32, cursor: u32) -> Option<(u32, u32)> {
            self.0[node as usize]
                .get(cursor as usize)
                .map(|&w| (w, cursor + 1))
        }
    }

    #[test]
    fn finds_components() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 4 -> 3, 5 alone
        let g = Lists(vec![vec![1], vec![2], vec![0, 3], vec![4], vec![3], vec![]]);
        let c = tarjan(&g);
        assert!(c.same(0, 1) && c.same(1, 2));
        assert!(c.same(3, 4) && !c.same(2, 3));
        assert_eq!(c.size_of(5), 1);
        assert_eq!(c.size_of(0), 3);
        assert!(c.has_cycle());
        assert!(!tarjan(&Lists(vec![vec![1], vec![2], vec![]])).has_cycle());
    }

    #[test]
    fn a_long_path_and_a_long_cycle_do_not_overflow_the_stack() {
        let n = 1_000_000u32;
        let path = Lists(
            (0..n)
                .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
                .collect(),
        );
        assert!(!tarjan(&path).has_cycle());
        let ring = Lists((0..n).map(|i| vec![(i + 1) % n]).collect());
        assert_eq!(tarjan(&ring).sizes, vec![n]);
    }
}
