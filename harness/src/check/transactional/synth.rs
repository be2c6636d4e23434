//! Synthetic transactional histories, for benchmarks and tests at scale.
//!
//! Clients run transactions against an in-memory store that executes each
//! one atomically at the moment it completes, so the history is strict
//! serializable unless [`SynthOptions::stale_read_ratio`] makes some reads
//! return the state before the key's last write. Keys are used like
//! Elle's generator uses them: a few are active at a time, and a key that
//! has taken `max_writes_per_key` writes is retired for a fresh one, which
//! keeps lists short. Everything derives from the seed.

use super::TxnModel;
use crate::history::{Event, EventType, History, MicroOp, MopKind, Op, OpKind, Value};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct SynthOptions {
    pub model: TxnModel,
    pub txns: usize,
    /// Clients with a transaction in flight at once.
    pub concurrency: u32,
    /// Keys in use at any time.
    pub active_keys: u32,
    pub max_writes_per_key: u32,
    /// Micro-operations per transaction, inclusive.
    pub min_mops: u32,
    pub max_mops: u32,
    /// Fraction of micro-operations that read.
    pub read_ratio: f64,
    /// Fraction of transactions that end `info` (half of them applied).
    pub info_ratio: f64,
    /// Fraction that end `fail` (never applied).
    pub fail_ratio: f64,
    /// Fraction of reads that miss the key's latest write.
    pub stale_read_ratio: f64,
    pub seed: u64,
}

impl SynthOptions {
    /// A list-append workload shaped like Elle's defaults.
    pub fn list_append(txns: usize, seed: u64) -> SynthOptions {
        SynthOptions {
            model: TxnModel::ListAppend,
            txns,
            concurrency: 10,
            active_keys: 10,
            max_writes_per_key: 32,
            min_mops: 1,
            max_mops: 4,
            read_ratio: 0.5,
            info_ratio: 0.01,
            fail_ratio: 0.01,
            stale_read_ratio: 0.0,
            seed,
        }
    }

    pub fn rw_register(txns: usize, seed: u64) -> SynthOptions {
        SynthOptions {
            model: TxnModel::RwRegister,
            ..SynthOptions::list_append(txns, seed)
        }
    }
}

/// Each key's state: the list (a register is its last element) and the
/// length before the last write, for stale reads.
#[derive(Default)]
struct Store {
    keys: BTreeMap<i64, (Vec<i64>, usize)>,
}

impl Store {
    fn apply(
        &mut self,
        model: TxnModel,
        mops: &[MicroOp],
        rng: &mut ChaCha8Rng,
        stale: f64,
    ) -> Vec<MicroOp> {
        mops.iter()
            .map(|mop| {
                let Value::Int(key) = mop.key else {
                    unreachable!("synthetic keys are integers")
                };
                let (list, before_last) = self.keys.entry(key).or_default();
                match mop.f {
                    MopKind::Read => {
                        let seen = if stale > 0.0 && rng.random_bool(stale) {
                            &list[..*before_last]
                        } else {
                            &list[..]
                        };
                        let value = match model {
                            _ if seen.is_empty() => Value::Nil,
                            TxnModel::ListAppend => Value::from(seen.to_vec()),
                            TxnModel::RwRegister => Value::Int(*seen.last().expect("not empty")),
                        };
                        MicroOp::read_saw(key, value)
                    }
                    MopKind::Append | MopKind::Write => {
                        let Value::Int(v) = mop.value else {
                            unreachable!("synthetic values are integers")
                        };
                        *before_last = list.len();
                        list.push(v);
                        mop.clone()
                    }
                }
            })
            .collect()
    }
}

struct InFlight {
    process: u64,
    mops: Vec<MicroOp>,
}

/// A history of `options.txns` transactions.
pub fn history(options: &SynthOptions) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut store = Store::default();
    let mut history = History::new();
    let mut slots: Vec<i64> = (0..i64::from(options.active_keys.max(1))).collect();
    let mut writes: BTreeMap<i64, u32> = BTreeMap::new();
    let mut next_key = slots.len() as i64;
    let mut next_value = 0i64;
    let mut clients: Vec<Option<InFlight>> =
        (0..options.concurrency.max(1)).map(|_| None).collect();
    let mut processes: Vec<u64> = (0..clients.len() as u64).collect();
    let mut next_process = clients.len() as u64;
    let mut invoked = 0usize;
    let write_kind = match options.model {
        TxnModel::ListAppend => MopKind::Append,
        TxnModel::RwRegister => MopKind::Write,
    };
    let push = |history: &mut History, process: u64, kind: EventType, value: Value| {
        let time_ns = history.len() as u64 * 1_000_000;
        history.push(Event {
            time_ns,
            process,
            kind,
            op: Op {
                f: OpKind::Txn,
                key: None,
                value,
            },
            attempts: 0,
            degraded: false,
            error: None,
        });
    };
    loop {
        let busy = clients.iter().filter(|c| c.is_some()).count();
        if invoked == options.txns && busy == 0 {
            return history;
        }
        let c = rng.random_range(0..clients.len());
        match clients[c].take() {
            None if invoked < options.txns => {
                let count =
                    rng.random_range(options.min_mops..=options.max_mops.max(options.min_mops));
                let mops: Vec<MicroOp> = (0..count)
                    .map(|_| {
                        let slot = rng.random_range(0..slots.len());
                        let key = slots[slot];
                        if rng.random_bool(options.read_ratio) {
                            return MicroOp::read(key);
                        }
                        let taken = writes.entry(key).or_insert(0);
                        *taken += 1;
                        if *taken >= options.max_writes_per_key {
                            slots[slot] = next_key;
                            next_key += 1;
                        }
                        next_value += 1;
                        MicroOp {
                            f: write_kind,
                            key: Value::Int(key),
                            value: Value::Int(next_value),
                        }
                    })
                    .collect();
                push(
                    &mut history,
                    processes[c],
                    EventType::Invoke,
                    Value::Txn(mops.clone()),
                );
                clients[c] = Some(InFlight {
                    process: processes[c],
                    mops,
                });
                invoked += 1;
            }
            None => {}
            Some(txn) => {
                let roll: f64 = rng.random();
                if roll < options.fail_ratio {
                    push(
                        &mut history,
                        txn.process,
                        EventType::Fail,
                        Value::Txn(txn.mops),
                    );
                } else if roll < options.fail_ratio + options.info_ratio {
                    if rng.random_bool(0.5) {
                        store.apply(options.model, &txn.mops, &mut rng, 0.0);
                    }
                    push(
                        &mut history,
                        txn.process,
                        EventType::Info,
                        Value::Txn(txn.mops),
                    );
                    // Jepsen's rule: after an info, the client goes on as a
                    // new process.
                    processes[c] = next_process;
                    next_process += 1;
                } else {
                    let done =
                        store.apply(options.model, &txn.mops, &mut rng, options.stale_read_ratio);
                    push(&mut history, txn.process, EventType::Ok, Value::Txn(done));
                }
            }
        }
    }
}
