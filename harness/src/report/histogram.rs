//! A log-bucket histogram of durations, for quantiles across a sweep
//! without keeping every value.
//!
//! Model: a value `v` (nanoseconds) falls in a bucket of width
//! `2^(e-SUB_BITS)` where `e` is the position of its highest bit, so every
//! bucket is narrower than 1/256 of the values in it (values below 256 ns
//! have a bucket each). Buckets are kept sparse in a sorted map, so the
//! histogram is as large as the spread of its values, not their number,
//! and adding is commutative: the same values in any order (any `--jobs`,
//! any shard split) give the same histogram. A quantile is the upper edge
//! of the bucket that holds its nearest rank, clamped to the exact maximum
//! (over-estimating by less than 0.4%, never under).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bits of each value kept below its highest bit.
const SUB_BITS: u32 = 8;
const SUB: u64 = 1 << SUB_BITS;

/// Counts of durations by bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    pub count: u64,
    pub max_ns: u64,
    /// Bucket index → values in it.
    pub buckets: BTreeMap<u32, u64>,
}

fn bucket(v: u64) -> u32 {
    if v < SUB {
        return v as u32;
    }
    let e = 63 - v.leading_zeros();
    let shift = e - SUB_BITS;
    ((shift as u64 + 1) * SUB + ((v >> shift) - SUB)) as u32
}

/// The largest value bucket `i` holds.
fn upper(i: u32) -> u64 {
    let i = u64::from(i);
    if i < SUB {
        return i;
    }
    let shift = i / SUB - 1;
    let sub = i % SUB;
    ((SUB + sub + 1) << shift).saturating_sub(1)
}

impl Histogram {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn add(&mut self, v: u64) {
        self.count += 1;
        self.max_ns = self.max_ns.max(v);
        *self.buckets.entry(bucket(v)).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        self.count += other.count;
        self.max_ns = self.max_ns.max(other.max_ns);
        for (b, n) in &other.buckets {
            *self.buckets.entry(*b).or_default() += n;
        }
    }

    /// The nearest-rank `p`th percentile (0 < p ≤ 100), or `None` if empty.
    pub fn quantile(&self, p: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((p / 100.0) * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return Some(upper(*b).min(self.max_ns));
            }
        }
        Some(self.max_ns)
    }

    /// How many values exceed `t_ns` (counting whole buckets: a bucket
    /// counts as above `t_ns` unless its upper edge is at or below it).
    pub fn above(&self, t_ns: u64) -> u64 {
        self.buckets
            .iter()
            .filter(|(b, _)| upper(**b).min(self.max_ns) > t_ns)
            .map(|(_, n)| n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_narrow_and_quantiles_never_underestimate() {
        for v in [
            0,
            1,
            255,
            256,
            257,
            1_000,
            908_000_000,
            4_201_000_000,
            u64::MAX / 3,
        ] {
            let b = bucket(v);
            assert!(upper(b) >= v, "{v}");
            assert!(upper(b) - v <= v / 256, "{v}: bucket too wide");
            if b > 0 {
                assert!(upper(b - 1) < v, "{v}: buckets overlap");
            }
        }
        let mut h = Histogram::default();
        for ms in 1..=100u64 {
            h.add(ms * 1_000_000);
        }
        let p50 = h.quantile(50.0).unwrap();
        assert!(
            (50_000_000..=50_000_000 + 50_000_000 / 256).contains(&p50),
            "{p50}"
        );
        assert_eq!(h.quantile(100.0), Some(100_000_000));
        assert_eq!(h.above(90_500_000), 10);
        let mut one = Histogram::default();
        one.add(1_500_000_000);
        assert_eq!(
            one.quantile(50.0),
            Some(1_500_000_000),
            "a single value is exact"
        );
    }

    #[test]
    fn merging_in_any_order_gives_the_same_histogram() {
        let values: Vec<u64> = (0..500u64)
            .map(|i| (i * 7919) % 3_000 * 1_000_000)
            .collect();
        let mut all = Histogram::default();
        values.iter().for_each(|v| all.add(*v));
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for (i, v) in values.iter().rev().enumerate() {
            if i % 3 == 0 {
                a.add(*v)
            } else {
                b.add(*v)
            }
        }
        b.merge(&a);
        assert_eq!(b, all);
    }
}
