//! The search's memory of configurations it has already explored, and the
//! fixed hasher everything in this checker hashes with.
//!
//! A configuration is (the set of operations linearized so far, the model
//! state they lead to). Two paths that reach the same configuration have
//! the same future, so the second one is cut off. Keys are stored flat (one
//! arena of bitset words, one of states) in an open-addressing table, so an
//! insertion allocates nothing unless the table grows.

use std::hash::{BuildHasherDefault, Hash, Hasher};

/// A small multiplicative hasher with no random seed. The checker's output
/// never depends on hash values (its tables are looked up, never iterated;
/// interned ids follow insertion order), but a fixed hasher keeps even the
/// running time the same from run to run, and keeps any future iteration
/// from leaking a per-process order.
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

/// A table slot: `EMPTY`, or the top 32 bits of the entry's hash above the
/// entry's index plus one. Keeping part of the hash in the slot lets a probe
/// skip entries that cannot match without touching the entry arrays, which
/// is where the cache misses are.
const EMPTY: u64 = 0;

/// What [`Memo::insert`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    New,
    Seen,
    /// The configuration is new but the memo may not grow to hold it.
    Full,
}

/// The set of explored configurations.
pub struct Memo<S> {
    words_per_key: usize,
    bits: Vec<u64>,
    states: Vec<S>,
    /// Full hashes, read only when the table grows.
    hashes: Vec<u64>,
    slots: Vec<u64>,
    max_bytes: u64,
}

impl<S: Clone + Eq + Hash> Memo<S> {
    /// A memo for keys of `words_per_key` words, sized for about
    /// `expected_entries` to start with, that grows while it stays within
    /// `max_bytes`.
    pub fn new(words_per_key: usize, expected_entries: usize, max_bytes: u64) -> Memo<S> {
        let mut initial_slots = (expected_entries * 2)
            .next_power_of_two()
            .clamp(64, 1 << 12);
        // Wide keys (long histories) must not spend the budget up front.
        while initial_slots > 2 && Self::bytes_for(initial_slots, words_per_key) > max_bytes / 4 {
            initial_slots /= 2;
        }
        Memo {
            words_per_key,
            bits: Vec::with_capacity(initial_slots / 2 * words_per_key),
            states: Vec::with_capacity(initial_slots / 2),
            hashes: Vec::with_capacity(initial_slots / 2),
            slots: vec![EMPTY; initial_slots],
            max_bytes,
        }
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Changes the most bytes the memo may grow to.
    pub fn set_max_bytes(&mut self, max_bytes: u64) {
        self.max_bytes = max_bytes;
    }

    /// Bytes held now.
    pub fn bytes(&self) -> u64 {
        Self::bytes_for(self.slots.len(), self.words_per_key)
    }

    /// Bytes held with `slots` table slots (the arenas hold half as many
    /// entries: they grow with the table, to exactly that size).
    fn bytes_for(slots: usize, words_per_key: usize) -> u64 {
        let entry = words_per_key * 8 + std::mem::size_of::<S>() + 8;
        (slots * 8 + slots / 2 * entry) as u64
    }

    /// Adds the configuration (`bits`, `state`) unless it is already there.
    /// `bits_hash` is the Zobrist hash of `bits`.
    #[inline]
    pub fn insert(&mut self, bits: &[u64], bits_hash: u64, state: &S) -> Insert {
        debug_assert_eq!(bits.len(), self.words_per_key);
        // The Zobrist part is already well mixed; multiplying the state's
        // hash by an odd constant keeps distinct states distinct in the low
        // bits that pick the slot.
        let hash = bits_hash ^ hash_state(state).wrapping_mul(MULTIPLIER);
        let fragment = hash & 0xffff_ffff_0000_0000;
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let occupant = self.slots[slot];
            if occupant == EMPTY {
                break;
            }
            if occupant & 0xffff_ffff_0000_0000 == fragment {
                let entry = (occupant as u32 - 1) as usize;
                if self.states[entry] == *state && same_words(self.key_bits(entry), bits) {
                    return Insert::Seen;
                }
            }
            slot = (slot + 1) & mask;
        }
        if (self.states.len() + 1) * 2 > self.slots.len() {
            if !self.grow() {
                return Insert::Full;
            }
            // The table changed: find the new free slot.
            let mask = self.slots.len() - 1;
            slot = hash as usize & mask;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
        }
        // Entry counts stay far below u32::MAX: the budget caps them first.
        self.slots[slot] = fragment | (self.states.len() as u64 + 1);
        self.bits.extend_from_slice(bits);
        self.states.push(state.clone());
        self.hashes.push(hash);
        Insert::New
    }

    #[inline]
    fn key_bits(&self, entry: usize) -> &[u64] {
        &self.bits[entry * self.words_per_key..(entry + 1) * self.words_per_key]
    }

    /// Doubles the table, unless that would take it past `max_bytes`.
    fn grow(&mut self) -> bool {
        let new_len = self.slots.len() * 2;
        if Self::bytes_for(new_len, self.words_per_key) > self.max_bytes {
            return false;
        }
        // Exact reservations keep memory use what `bytes` says it is.
        let entries = new_len / 2;
        self.bits
            .reserve_exact(entries * self.words_per_key - self.bits.len());
        self.states.reserve_exact(entries - self.states.len());
        self.hashes.reserve_exact(entries - self.hashes.len());
        let mask = new_len - 1;
        let mut slots = vec![EMPTY; new_len];
        for (entry, &hash) in self.hashes.iter().enumerate() {
            let mut slot = hash as usize & mask;
            while slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            slots[slot] = (hash & 0xffff_ffff_0000_0000) | (entry as u64 + 1);
        }
        self.slots = slots;
        true
    }
}

/// Keys are a word or two: a plain loop beats a call to `memcmp`.
#[inline]
fn same_words(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_configurations_across_growth() {
        let mut memo: Memo<u32> = Memo::new(2, 10, u64::MAX);
        for i in 0..5000u64 {
            let bits = [i, i >> 3];
            let insert = memo.insert(&bits, zobrist(i as usize), &((i % 7) as u32));
            assert_eq!(insert, Insert::New);
        }
        for i in 0..5000u64 {
            let bits = [i, i >> 3];
            let key = zobrist(i as usize);
            assert_eq!(memo.insert(&bits, key, &((i % 7) as u32)), Insert::Seen);
            assert_eq!(memo.insert(&bits, key, &7), Insert::New);
        }
        assert_eq!(memo.len(), 10_000);
    }

    #[test]
    fn stops_growing_at_its_byte_limit() {
        let limit = 64 * 1024;
        let mut memo: Memo<u32> = Memo::new(1, 10, limit);
        let mut inserted = 0;
        for i in 0..100_000u64 {
            match memo.insert(&[i], zobrist(i as usize), &0) {
                Insert::New => inserted += 1,
                Insert::Full => break,
                Insert::Seen => panic!("{i} seen twice"),
            }
        }
        assert!(inserted > 1000, "{inserted}");
        assert!(memo.bytes() <= limit, "{} > {limit}", memo.bytes());
    }

    #[test]
    fn zobrist_keys_are_distinct_and_hashes_repeat() {
        let mut keys: Vec<u64> = (0..100_000).map(zobrist).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 100_000);
        let hash = |s: &str| {
            let mut hasher = FixedHasher::default();
            s.hash(&mut hasher);
            hasher.finish()
        };
        assert_eq!(hash("x 0 1 y"), hash("x 0 1 y"));
        assert_ne!(hash("x 0 1 y"), hash("x 0 1 z"));
    }
}
