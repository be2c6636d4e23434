//! Interning of variable-length states (strings, queue contents) so that
//! the search handles them as integers.

use crate::check::linearizability::memo::{FixedHasher, FixedMap};
use std::hash::{Hash, Hasher};

const NONE: u32 = u32::MAX;

/// Slices stored back to back in one arena, each with a small integer id;
/// equal slices get equal ids. Building a new slice (a concatenation, a
/// tail) goes through a reused scratch buffer, so interning allocates only
/// when the arena or the index grows.
#[derive(Clone, Debug)]
pub(super) struct SliceInterner<T> {
    items: Vec<T>,
    /// id -> (start, len) in `items`.
    spans: Vec<(usize, usize)>,
    /// hash -> the newest id with that hash; older ones chain via `older`.
    newest: FixedMap<u64, u32>,
    older: Vec<u32>,
    scratch: Vec<T>,
}

impl<T: Copy + Eq + Hash> SliceInterner<T> {
    pub fn new() -> SliceInterner<T> {
        SliceInterner {
            items: Vec::new(),
            spans: Vec::new(),
            newest: FixedMap::default(),
            older: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Bytes held (capacities, so growth shows at once).
    pub fn memory_bytes(&self) -> u64 {
        let item = std::mem::size_of::<T>();
        ((self.items.capacity() + self.scratch.capacity()) * item
            + self.spans.capacity() * 16
            + self.older.capacity() * 4
            + super::map_bytes(&self.newest)) as u64
    }

    pub fn get(&self, id: u32) -> &[T] {
        let (start, len) = self.spans[id as usize];
        &self.items[start..start + len]
    }

    pub fn intern(&mut self, slice: &[T]) -> u32 {
        let mut hasher = FixedHasher::default();
        slice.hash(&mut hasher);
        let hash = hasher.finish();
        let head = self.newest.get(&hash).copied().unwrap_or(NONE);
        let mut candidate = head;
        while candidate != NONE {
            if self.get(candidate) == slice {
                return candidate;
            }
            candidate = self.older[candidate as usize];
        }
        let id = self.spans.len() as u32;
        self.spans.push((self.items.len(), slice.len()));
        self.items.extend_from_slice(slice);
        self.older.push(head);
        self.newest.insert(hash, id);
        id
    }

    /// The id of `get(a)` followed by `get(b)`.
    pub fn concat(&mut self, a: u32, b: u32) -> u32 {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(self.get(a));
        scratch.extend_from_slice(self.get(b));
        let id = self.intern(&scratch);
        self.scratch = scratch;
        id
    }

    /// The id of `get(a)` followed by `item`.
    pub fn push(&mut self, a: u32, item: T) -> u32 {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(self.get(a));
        scratch.push(item);
        let id = self.intern(&scratch);
        self.scratch = scratch;
        id
    }

    /// The id of `get(a)` without its first item (empty stays empty).
    pub fn tail(&mut self, a: u32) -> u32 {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(self.get(a).get(1..).unwrap_or_default());
        let id = self.intern(&scratch);
        self.scratch = scratch;
        id
    }
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
}
