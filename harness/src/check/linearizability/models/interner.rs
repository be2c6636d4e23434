//! Interning of variable-length states (strings, queue contents) so that
//! the search handles them as integers.
//!
//! Each slice's hash is a polynomial in its items, so the hash of a
//! concatenation, of a slice with one more item or of a slice without its
//! first item follows from the parts' hashes in a few multiplications:
//! building a new state never rehashes a long one (appends make the kv
//! model's strings hundreds of bytes long). Equal slices have equal hashes
//! however they were built, which is all interning needs; a collision only
//! costs a comparison.

use crate::check::linearizability::memo::FixedMap;

const NONE: u32 = u32::MAX;

/// The polynomial's base: odd, so that it has an inverse modulo 2^64
/// (for [`SliceInterner::tail`]).
const BASE: u64 = 0x9e37_79b9_7f4a_7c15;

/// `BASE`'s inverse modulo 2^64 (Newton's iteration doubles the correct
/// low bits each step: 1, 2, 4, ... 64 after six steps from `BASE`, which is
/// its own inverse modulo 8).
const BASE_INVERSE: u64 = {
    let mut inverse = BASE;
    let mut step = 0;
    while step < 6 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(BASE.wrapping_mul(inverse)));
        step += 1;
    }
    inverse
};

/// One slice in the arena.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    len: usize,
    /// Sum of `digit(item_i) * BASE^(len - 1 - i)`, wrapping.
    hash: u64,
    /// `BASE^len`, wrapping.
    power: u64,
}

/// `BASE^n`, wrapping (square and multiply).
fn base_power(mut n: u64) -> u64 {
    let (mut power, mut square) = (1u64, BASE);
    while n > 0 {
        if n & 1 == 1 {
            power = power.wrapping_mul(square);
        }
        square = square.wrapping_mul(square);
        n >>= 1;
    }
    power
}

/// An item as a digit of the polynomial (never zero, so that leading
/// zero items still count).
#[inline]
fn digit<T: Into<u64>>(item: T) -> u64 {
    item.into().wrapping_add(1)
}

/// Slices stored back to back in one arena, each with a small integer id;
/// equal slices get equal ids. A new slice (a concatenation, a tail) is
/// built at the end of the arena from the parts already there, and taken
/// back off if it turns out to be known, so interning allocates only when
/// the arena or the index grows.
#[derive(Clone, Debug)]
pub(super) struct SliceInterner<T> {
    items: Vec<T>,
    spans: Vec<Span>,
    /// hash -> the newest id with that hash; older ones chain via `older`.
    newest: FixedMap<u64, u32>,
    older: Vec<u32>,
}

impl<T: Copy + Eq + Into<u64>> SliceInterner<T> {
    pub fn new() -> SliceInterner<T> {
        SliceInterner {
            items: Vec::new(),
            spans: Vec::new(),
            newest: FixedMap::default(),
            older: Vec::new(),
        }
    }

    /// Bytes held (capacities, so growth shows at once).
    pub fn memory_bytes(&self) -> u64 {
        (self.items.capacity() * std::mem::size_of::<T>()
            + self.spans.capacity() * std::mem::size_of::<Span>()
            + self.older.capacity() * 4
            + super::map_bytes(&self.newest)) as u64
    }

    pub fn get(&self, id: u32) -> &[T] {
        let span = self.spans[id as usize];
        &self.items[span.start..span.start + span.len]
    }

    pub fn intern(&mut self, slice: &[T]) -> u32 {
        let hash = slice.iter().fold(0u64, |h, &item| {
            h.wrapping_mul(BASE).wrapping_add(digit(item))
        });
        if let Some(id) = self.find(hash, slice.len(), |known| known == slice) {
            return id;
        }
        let start = self.items.len();
        self.items.extend_from_slice(slice);
        self.add(start, hash, base_power(slice.len() as u64))
    }

    /// The id of `get(a)` followed by `get(b)`.
    pub fn concat(&mut self, a: u32, b: u32) -> u32 {
        let (x, y) = (self.spans[a as usize], self.spans[b as usize]);
        let start = self.items.len();
        self.items.extend_from_within(x.start..x.start + x.len);
        self.items.extend_from_within(y.start..y.start + y.len);
        let hash = x.hash.wrapping_mul(y.power).wrapping_add(y.hash);
        self.keep_built(start, hash, x.power.wrapping_mul(y.power))
    }

    /// The id of `get(a)` followed by `item`.
    pub fn push(&mut self, a: u32, item: T) -> u32 {
        let x = self.spans[a as usize];
        let start = self.items.len();
        self.items.extend_from_within(x.start..x.start + x.len);
        self.items.push(item);
        let hash = x.hash.wrapping_mul(BASE).wrapping_add(digit(item));
        self.keep_built(start, hash, x.power.wrapping_mul(BASE))
    }

    /// The id of `get(a)` without its first item (empty stays empty).
    pub fn tail(&mut self, a: u32) -> u32 {
        let x = self.spans[a as usize];
        if x.len == 0 {
            return a;
        }
        let power = x.power.wrapping_mul(BASE_INVERSE);
        let first = self.items[x.start];
        let hash = x.hash.wrapping_sub(digit(first).wrapping_mul(power));
        let start = self.items.len();
        self.items.extend_from_within(x.start + 1..x.start + x.len);
        self.keep_built(start, hash, power)
    }

    /// Interns the slice just built at `items[start..]`: the id of an equal
    /// slice already known (and the copy is taken back off), or a new id.
    fn keep_built(&mut self, start: usize, hash: u64, power: u64) -> u32 {
        let (known, built) = self.items.split_at(start);
        let spans = &self.spans;
        let found = find_in(&self.newest, &self.older, hash, |id| {
            let span = spans[id as usize];
            span.len == built.len() && known[span.start..span.start + span.len] == *built
        });
        match found {
            Some(id) => {
                self.items.truncate(start);
                id
            }
            None => self.add(start, hash, power),
        }
    }

    /// The id with this hash and length whose slice `equal` accepts.
    fn find(&self, hash: u64, len: usize, equal: impl Fn(&[T]) -> bool) -> Option<u32> {
        find_in(&self.newest, &self.older, hash, |id| {
            let span = self.spans[id as usize];
            span.len == len && equal(&self.items[span.start..span.start + len])
        })
    }

    /// A new id for the slice at `items[start..]`.
    fn add(&mut self, start: usize, hash: u64, power: u64) -> u32 {
        let id = self.spans.len() as u32;
        let head = self.newest.insert(hash, id).unwrap_or(NONE);
        self.spans.push(Span {
            start,
            len: self.items.len() - start,
            hash,
            power,
        });
        self.older.push(head);
        id
    }
}

/// Walks the ids with `hash`, newest first, for one that `matches`.
fn find_in(
    newest: &FixedMap<u64, u32>,
    older: &[u32],
    hash: u64,
    matches: impl Fn(u32) -> bool,
) -> Option<u32> {
    let mut candidate = newest.get(&hash).copied().unwrap_or(NONE);
    while candidate != NONE {
        if matches(candidate) {
            return Some(candidate);
        }
        candidate = older[candidate as usize];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_slices_share_an_id_however_they_were_built() {
        let mut interner = SliceInterner::new();
        let empty = interner.intern(b"");
        let ab = interner.intern(b"ab");
        let a = interner.intern(b"a");
        let b = interner.intern(b"b");
        assert_eq!(interner.concat(a, b), ab);
        assert_eq!(interner.push(a, b'b'), ab);
        assert_eq!(interner.tail(ab), b);
        assert_eq!(interner.tail(empty), empty);
        assert_eq!(interner.get(ab), b"ab");
        assert_eq!(interner.concat(empty, empty), empty);
    }

    #[test]
    fn powers_and_the_inverse_are_right() {
        assert_eq!(BASE.wrapping_mul(BASE_INVERSE), 1);
        let mut power = 1u64;
        for n in 0..300 {
            assert_eq!(base_power(n), power, "{n}");
            power = power.wrapping_mul(BASE);
        }
    }

    #[test]
    fn hashes_of_built_slices_match_hashes_of_whole_ones() {
        // Built in every way the models build states, then interned whole
        // in a fresh interner's order: the same slices, the same ids.
        let mut built = SliceInterner::<u32>::new();
        let mut whole = SliceInterner::<u32>::new();
        let empty = built.intern(&[]);
        assert_eq!(whole.intern(&[]), empty);
        let mut states = vec![empty];
        for round in 0u32..200 {
            let from = states[(round as usize * 7919) % states.len()];
            let other = states[(round as usize * 104_729) % states.len()];
            let short = built.get(from).len() + built.get(other).len() <= 12;
            let next = match round % 3 {
                0 => built.push(from, round % 5),
                2 if short => built.concat(from, other),
                _ => built.tail(from),
            };
            let slice = built.get(next).to_vec();
            assert_eq!(built.intern(&slice), next, "{slice:?}");
            let id = whole.intern(&slice);
            assert_eq!(whole.get(id), slice.as_slice());
            states.push(next);
        }
        // The arena holds each distinct slice once.
        let distinct: std::collections::BTreeSet<Vec<u32>> =
            states.iter().map(|&id| built.get(id).to_vec()).collect();
        let arena: usize = distinct.iter().map(Vec::len).sum();
        assert_eq!(built.items.len(), arena);
        assert_eq!(built.spans.len(), distinct.len());
    }
}
