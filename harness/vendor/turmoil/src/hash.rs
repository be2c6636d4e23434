//! A fixed, fast hasher for the simulator's internal maps.
//!
//! Those maps are keyed by addresses, ports and sequence numbers that the
//! simulation chooses itself, so they need no defence against chosen keys,
//! and SipHash (the std default) was a measurable share of every step.
//! `IndexMap` iterates in insertion order whatever its hasher, so the choice
//! of hasher changes no iteration order and no simulated behaviour.

use std::hash::{BuildHasherDefault, Hasher};

/// An insertion-ordered map with the fast hasher.
pub(crate) type IndexMap<K, V> = indexmap::IndexMap<K, V, BuildHasherDefault<FastHasher>>;

/// Multiply-and-rotate word hashing, in the manner of the Fx hash used by
/// rustc: a few instructions per word, good enough spread for small maps.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher {
    state: u64,
}

/// An odd constant with well-mixed bits (from the golden ratio).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl FastHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.mix(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(last));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.mix(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves its best-mixed bits at the top, and hash
        // tables index by the bottom ones: fold the top half down.
        self.state ^ (self.state >> 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn addresses_differing_in_one_octet_land_in_different_buckets() {
        let build = BuildHasherDefault::<FastHasher>::default();
        let mut low_bits = std::collections::BTreeSet::new();
        for last in 1..=64u8 {
            let addr = IpAddr::V4(Ipv4Addr::new(192, 168, 0, last));
            let mut hasher = build.build_hasher();
            addr.hash(&mut hasher);
            low_bits.insert(hasher.finish() & 0x3f);
        }
        // 64 addresses into 64 buckets: far from all in one.
        assert!(low_bits.len() > 32, "{} distinct buckets", low_bits.len());
    }
}
