//! The search's memory of configurations it has already explored, and the
//! fixed hasher everything in this checker hashes with.
//!
//! A configuration is (the set of operations linearized so far, the model
//! state they lead to). Two paths that reach the same configuration have
//! the same future, so the second one is cut off. Keys are stored flat (one
//! arena of bitset words, one of states) in an open-addressing table, so an
//! insertion allocates nothing unless the table grows.

use std::hash::{BuildHasherDefault, Hash, Hasher};

/// A small multiplicative hasher with no random seed: the same input hashes
/// the same in every process, so nothing that depends on hashing (search
/// order, interned ids) varies from run to run.
#[derive(Clone, Copy, Default)]
pub struct FixedHasher {
    hash: u64,
}

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl FixedHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for FixedHasher {
    #[inline]
    fn finish(&self) -> u64 {
        finalize(self.hash)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }
}

/// For `HashMap`s whose iteration order must not depend on the process.
pub type FixedState = BuildHasherDefault<FixedHasher>;

/// A deterministic `HashMap`.
pub type FixedMap<K, V> = std::collections::HashMap<K, V, FixedState>;

/// Spreads the bits of a multiplicative hash (splitmix64's finaliser).
#[inline]
pub fn finalize(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A fixed pseudo-random 64-bit value per operation, XORed together to hash
/// a set of operations incrementally (Zobrist hashing): adding or removing
/// one operation costs one XOR instead of rehashing the whole bitset.
pub fn zobrist(index: usize) -> u64 {
    finalize((index as u64).wrapping_add(1).wrapping_mul(MULTIPLIER))
}

#[inline]
fn hash_state<S: Hash>(state: &S) -> u64 {
    let mut hasher = FixedHasher::default();
    state.hash(&mut hasher);
    hasher.hash
}

const EMPTY: u32 = 0;

/// The set of explored configurations.
pub struct Memo<S> {
    words_per_key: usize,
    bits: Vec<u64>,
    states: Vec<S>,
    hashes: Vec<u64>,
    /// `EMPTY`, or an entry index plus one.
    slots: Vec<u32>,
}

impl<S: Clone + Eq + Hash> Memo<S> {
    pub fn new(words_per_key: usize) -> Memo<S> {
        let initial_slots = 1024;
        Memo {
            words_per_key,
            bits: Vec::with_capacity(initial_slots / 2 * words_per_key),
            states: Vec::with_capacity(initial_slots / 2),
            hashes: Vec::with_capacity(initial_slots / 2),
            slots: vec![EMPTY; initial_slots],
        }
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Bytes one entry costs at most (arenas plus table slots at the
    /// lowest load factor right after a resize).
    pub fn bytes_per_entry(words_per_key: usize) -> u64 {
        (words_per_key * 8 + std::mem::size_of::<S>() + 8 + 4 * 4) as u64
    }

    /// Adds the configuration (`bits`, `state`) and says whether it is new.
    /// `bits_hash` is the Zobrist hash of `bits`.
    #[inline]
    pub fn insert(&mut self, bits: &[u64], bits_hash: u64, state: &S) -> bool {
        debug_assert_eq!(bits.len(), self.words_per_key);
        let hash = finalize(bits_hash ^ hash_state(state).wrapping_mul(MULTIPLIER));
        if (self.states.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let occupant = self.slots[slot];
            if occupant == EMPTY {
                break;
            }
            let entry = (occupant - 1) as usize;
            if self.hashes[entry] == hash
                && self.states[entry] == *state
                && self.key_bits(entry) == bits
            {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        // Entry counts stay far below u32::MAX: the budget caps them first.
        self.slots[slot] = (self.states.len() + 1) as u32;
        self.bits.extend_from_slice(bits);
        self.states.push(state.clone());
        self.hashes.push(hash);
        true
    }

    #[inline]
    fn key_bits(&self, entry: usize) -> &[u64] {
        &self.bits[entry * self.words_per_key..(entry + 1) * self.words_per_key]
    }

    fn grow(&mut self) {
        let new_len = self.slots.len() * 2;
        let mask = new_len - 1;
        let mut slots = vec![EMPTY; new_len];
        for (entry, &hash) in self.hashes.iter().enumerate() {
            let mut slot = hash as usize & mask;
            while slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            slots[slot] = (entry + 1) as u32;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_configurations_across_growth() {
        let mut memo: Memo<u32> = Memo::new(2);
        for i in 0..5000u64 {
            let bits = [i, i >> 3];
            assert!(memo.insert(&bits, zobrist(i as usize), &((i % 7) as u32)));
        }
        for i in 0..5000u64 {
            let bits = [i, i >> 3];
            assert!(!memo.insert(&bits, zobrist(i as usize), &((i % 7) as u32)));
            assert!(memo.insert(&bits, zobrist(i as usize), &7));
        }
        assert_eq!(memo.len(), 10_000);
    }

    #[test]
    fn hashes_do_not_depend_on_the_process() {
        // Pinned so that a change to the hasher, which would change search
        // order and interned ids, is a deliberate one.
        let mut hasher = FixedHasher::default();
        "abc".hash(&mut hasher);
        assert_eq!(hasher.finish(), {
            let mut again = FixedHasher::default();
            "abc".hash(&mut again);
            again.finish()
        });
        assert_ne!(zobrist(0), zobrist(1));
    }
}
