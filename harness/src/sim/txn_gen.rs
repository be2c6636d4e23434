//! Transactions for a workload's `txn` weight: `[workload.txn]`'s shape
//! (see [`crate::scenario::TxnWorkloadSpec`]) drawn from the client's
//! workload stream.
//!
//! Keys are the integers `0 … keys-1` (Elle's convention; a target maps
//! them to its own names). Every write carries a value unique in the run,
//! so a value read names the transaction that wrote it. Reads are invoked
//! with `nil`; the target's completion fills in what they saw.

use crate::history::{MicroOp, Value};
use crate::scenario::{TxnModel, TxnWorkloadSpec};
use rand::Rng;

/// Draws one transaction's micro-operations. `unique` yields a fresh
/// value per write.
pub(super) fn generate(
    shape: &TxnWorkloadSpec,
    keys: u32,
    rng: &mut impl Rng,
    mut unique: impl FnMut() -> i64,
) -> Vec<MicroOp> {
    let count = rng.random_range(shape.min_ops..=shape.max_ops);
    (0..count)
        .map(|_| {
            let key = Value::Int(i64::from(rng.random_range(0..keys)));
            if rng.random_bool(shape.read_share) {
                MicroOp::read(key)
            } else {
                match shape.model {
                    TxnModel::ListAppend => MicroOp::append(key, unique()),
                    TxnModel::RwRegister => MicroOp::write(key, unique()),
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::MopKind;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn draw(shape: &TxnWorkloadSpec, seed: u64, n: usize) -> Vec<Vec<MicroOp>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut next = 0;
        (0..n)
            .map(|_| {
                generate(shape, 3, &mut rng, || {
                    next += 1;
                    next
                })
            })
            .collect()
    }

    #[test]
    fn transactions_keep_to_their_shape_and_write_unique_values() {
        let shape = TxnWorkloadSpec {
            min_ops: 2,
            max_ops: 5,
            ..TxnWorkloadSpec::default()
        };
        let txns = draw(&shape, 7, 500);
        let mut written = std::collections::BTreeSet::new();
        let mut reads = 0;
        for txn in &txns {
            assert!((2..=5).contains(&txn.len()), "{txn:?}");
            for mop in txn {
                let key = mop.key.as_int().unwrap();
                assert!((0..3).contains(&key));
                match mop.f {
                    MopKind::Read => {
                        assert!(mop.value.is_nil());
                        reads += 1;
                    }
                    MopKind::Append => assert!(written.insert(mop.value.as_int().unwrap())),
                    MopKind::Write => panic!("list-append writes append"),
                }
            }
        }
        let total: usize = txns.iter().map(Vec::len).sum();
        // read_share = 0.5: well within 40–60% over ~1,750 draws.
        assert!(
            (total * 2 / 5..=total * 3 / 5).contains(&reads),
            "{reads} of {total}"
        );
        // Same seed, same transactions.
        assert_eq!(draw(&shape, 7, 500), txns);
        assert_ne!(draw(&shape, 8, 500), txns);
    }

    #[test]
    fn rw_register_writes_and_the_read_share_extremes() {
        let registers = TxnWorkloadSpec {
            model: TxnModel::RwRegister,
            read_share: 0.0,
            ..TxnWorkloadSpec::default()
        };
        assert!(draw(&registers, 1, 50)
            .iter()
            .flatten()
            .all(|m| m.f == MopKind::Write));
        let readers = TxnWorkloadSpec {
            read_share: 1.0,
            ..TxnWorkloadSpec::default()
        };
        assert!(draw(&readers, 1, 50)
            .iter()
            .flatten()
            .all(|m| m.f == MopKind::Read));
    }
}
