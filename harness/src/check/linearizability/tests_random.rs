//! Random histories from a sequential object: generated linearizable
//! histories, corrupted ones, and the brute-force specification the search
//! is held to on small registers (split from `tests.rs`, whose examples are
//! written by hand).

use super::tests::{cas, int, s};
use super::*;
use crate::check::Status;
use crate::history::{Event, EventType, Op, OpKind, Value};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use OpKind::{Append, Cas, Read, Write};

/// What a random workload runs against.
#[derive(Clone, Copy, Debug)]
pub(super) enum Workload {
    /// One register, values 0..4, read/write/cas.
    Register,
    /// Three keys of strings, read/write/append.
    Kv,
}

/// The sequential object the workload's operations take effect on.
#[derive(Default)]
struct Object {
    register: Option<i64>,
    kv: std::collections::BTreeMap<String, String>,
}

impl Object {
    /// Applies an operation at its linearization point: its `ok` answer,
    /// or `None` when it had no effect and completes as `fail` (a cas that
    /// found another value).
    fn apply(&mut self, f: OpKind, key: Option<&str>, input: &Value) -> Option<Value> {
        match (f, key) {
            (Read, None) => Some(self.register.map_or(Value::Nil, Value::Int)),
            (Write, None) => {
                self.register = input.as_int();
                Some(input.clone())
            }
            (Cas, None) => match input {
                Value::List(pair) if pair.len() == 2 && self.register == pair[0].as_int() => {
                    self.register = pair[1].as_int();
                    Some(input.clone())
                }
                _ => None,
            },
            (Read, Some(key)) => Some(Value::Str(self.kv.get(key).cloned().unwrap_or_default())),
            (Write, Some(key)) => {
                if let Value::Str(v) = input {
                    self.kv.insert(key.to_string(), v.clone());
                }
                Some(input.clone())
            }
            (Append, Some(key)) => {
                if let Value::Str(v) = input {
                    self.kv.entry(key.to_string()).or_default().push_str(v);
                }
                Some(input.clone())
            }
            _ => None,
        }
    }
}

struct InFlight {
    f: OpKind,
    key: Option<String>,
    input: Value,
    /// `Some(answer)` once it took effect (`Some(None)`: took effect as a
    /// failure, i.e. did nothing).
    applied: Option<Option<Value>>,
}

/// Runs random operations from `clients` concurrent clients against one
/// sequential object. Each operation takes effect at one instant between
/// its invocation and its completion (a cas that finds another value
/// completes as a `fail` without error); some completions become `info`
/// (whether or not the operation took effect), some operations fail with
/// an error before taking effect, and those in flight at the end never
/// complete. The result is linearizable by construction.
pub(super) fn linearizable_history(
    workload: Workload,
    seed: u64,
    clients: usize,
    ops: usize,
) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut object = Object::default();
    let mut history = History::new();
    let mut process: Vec<u64> = (0..clients as u64).collect();
    let mut next_process = clients as u64;
    let mut in_flight: Vec<Option<InFlight>> = (0..clients).map(|_| None).collect();
    let mut started = 0;
    let mut counter = 0;
    let push_with_error = |history: &mut History,
                           process: u64,
                           kind,
                           f,
                           key: &Option<String>,
                           value: Value,
                           error: Option<&str>| {
        let time_ns = history.len() as u64;
        history.push(Event {
            time_ns,
            process,
            kind,
            op: Op {
                f,
                key: key.clone(),
                value,
            },
            attempts: 0,
            degraded: false,
            error: error.map(str::to_string),
        });
    };
    let push = |history: &mut History, process: u64, kind, f, key: &Option<String>, value| {
        push_with_error(history, process, kind, f, key, value, None)
    };
    for _ in 0..ops * 4 {
        let client = rng.random_range(0..clients);
        match in_flight[client].take() {
            None if started < ops => {
                started += 1;
                counter += 1;
                let (f, key, input) = match workload {
                    Workload::Register => match rng.random_range(0..3) {
                        0 => (Read, None, Value::Nil),
                        1 => (Write, None, int(rng.random_range(0..4))),
                        _ => (
                            Cas,
                            None,
                            cas(rng.random_range(0..4), rng.random_range(0..4)),
                        ),
                    },
                    Workload::Kv => {
                        let key = Some(format!("k{}", rng.random_range(0..3)));
                        match rng.random_range(0..3) {
                            0 => (Read, key, Value::Nil),
                            1 => (Write, key, Value::Str(format!("w{counter} "))),
                            _ => (Append, key, Value::Str(format!("a{counter} "))),
                        }
                    }
                };
                push(
                    &mut history,
                    process[client],
                    EventType::Invoke,
                    f,
                    &key,
                    input.clone(),
                );
                in_flight[client] = Some(InFlight {
                    f,
                    key,
                    input,
                    applied: None,
                });
            }
            None => {}
            Some(mut op) if op.applied.is_none() => {
                if op.f != Read && rng.random_bool(0.1) {
                    // Failed before taking effect: an error, not an answer.
                    push_with_error(
                        &mut history,
                        process[client],
                        EventType::Fail,
                        op.f,
                        &op.key,
                        op.input.clone(),
                        Some("unavailable"),
                    );
                } else {
                    op.applied = Some(object.apply(op.f, op.key.as_deref(), &op.input));
                    in_flight[client] = Some(op);
                }
            }
            Some(op) => {
                let answer = op.applied.flatten();
                if rng.random_bool(0.15) {
                    push(
                        &mut history,
                        process[client],
                        EventType::Info,
                        op.f,
                        &op.key,
                        s(":timed-out"),
                    );
                    // A process never invokes again after an info.
                    process[client] = next_process;
                    next_process += 1;
                } else {
                    match answer {
                        Some(output) => push(
                            &mut history,
                            process[client],
                            EventType::Ok,
                            op.f,
                            &op.key,
                            output,
                        ),
                        None => push(
                            &mut history,
                            process[client],
                            EventType::Fail,
                            op.f,
                            &op.key,
                            op.input.clone(),
                        ),
                    }
                }
            }
        }
    }
    history
}

/// Inserts, at event `at`, an `ok` read (by a fresh process) of a value no
/// operation ever writes.
fn with_impossible_read(mut history: History, workload: Workload, at: usize) -> History {
    let (key, value) = match workload {
        Workload::Register => (None, int(99)),
        Workload::Kv => (Some("k1".to_string()), s("never written")),
    };
    let process = history.events.iter().map(|e| e.process).max().unwrap_or(0) + 1;
    let at = at.min(history.events.len());
    let read = |kind, value| Event {
        time_ns: 0,
        process,
        kind,
        op: Op {
            f: Read,
            key: key.clone(),
            value,
        },
        attempts: 0,
        degraded: false,
        error: None,
    };
    history.events.insert(at, read(EventType::Ok, value));
    history
        .events
        .insert(at, read(EventType::Invoke, Value::Nil));
    for (i, event) in history.events.iter_mut().enumerate() {
        event.time_ns = i as u64;
    }
    history
}

/// Decides linearizability of a small register history by trying every
/// order: the specification the search is held to.
fn brute_force_register(history: &History) -> bool {
    let Ok(ops) = history.operations() else {
        return false;
    };
    // A failure with an error did not happen; a cas that failed without
    // one saw another value than it expected, and must be placed.
    let ops: Vec<Operation> = ops
        .into_iter()
        .filter(|op| op.outcome != Outcome::Fail || (op.f == Cas && op.error.is_none()))
        .collect();
    fn go(ops: &[Operation], placed: &mut Vec<bool>, state: Option<i64>) -> bool {
        let pending_required =
            |placed: &[bool], i: usize| !placed[i] && ops[i].outcome != Outcome::Info;
        if !(0..ops.len()).any(|i| pending_required(placed, i)) {
            return true;
        }
        for x in 0..ops.len() {
            if placed[x] {
                continue;
            }
            // x may go next unless a required op completed before x began.
            let blocked = (0..ops.len()).any(|y| {
                pending_required(placed, y)
                    && ops[y]
                        .complete_index
                        .is_some_and(|c| c < ops[x].invoke_index)
            });
            if blocked {
                continue;
            }
            let op = &ops[x];
            let next = match op.f {
                Read if op.outcome == Outcome::Ok => {
                    (op.output == state.map_or(Value::Nil, Value::Int)).then_some(state)
                }
                Read => Some(state),
                Write => Some(op.input.as_int()),
                Cas if op.outcome == Outcome::Fail => match &op.input {
                    Value::List(p) if p.len() == 2 && state != p[0].as_int() => Some(state),
                    _ => None,
                },
                Cas => match &op.input {
                    Value::List(p) if p.len() == 2 && state == p[0].as_int() => Some(p[1].as_int()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(next) = next {
                placed[x] = true;
                let found = go(ops, placed, next);
                placed[x] = false;
                if found {
                    return true;
                }
            }
        }
        false
    }
    let mut placed = vec![false; ops.len()];
    go(&ops, &mut placed, None)
}

/// Replaces some read answers with random values, which usually makes the
/// history not linearizable.
pub(super) fn corrupt_reads(mut history: History, seed: u64) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    for event in &mut history.events {
        if event.kind == EventType::Ok && event.op.f == Read && rng.random_bool(0.3) {
            event.op.value = match rng.random_range(0..5) {
                4 => Value::Nil,
                n => int(n),
            };
        }
    }
    history
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn histories_of_a_sequential_object_are_linearizable(
        seed in any::<u64>(),
        clients in 1usize..6,
        ops in 1usize..40,
        kv in any::<bool>(),
    ) {
        let workload = if kv { Workload::Kv } else { Workload::Register };
        let model = if kv { ModelKind::Kv } else { ModelKind::Register };
        let history = linearizable_history(workload, seed, clients, ops);
        let verdict = check(&history, model, &Budget::default());
        prop_assert_eq!(verdict.status, Status::Pass, "{:?}\n{}", verdict, crate::history::jepsen::write_edn(&history));
    }

    #[test]
    fn an_ok_read_of_a_value_never_written_is_not_linearizable(
        seed in any::<u64>(),
        clients in 1usize..6,
        ops in 0usize..40,
        at in any::<usize>(),
        kv in any::<bool>(),
    ) {
        let workload = if kv { Workload::Kv } else { Workload::Register };
        let model = if kv { ModelKind::Kv } else { ModelKind::Register };
        let history = linearizable_history(workload, seed, clients, ops);
        let at = at % (history.len() + 1);
        let history = with_impossible_read(history, workload, at);
        let verdict = check(&history, model, &Budget::default());
        prop_assert_eq!(verdict.status, Status::Fail, "{:?}\n{}", verdict, crate::history::jepsen::write_edn(&history));
    }

    #[test]
    fn the_search_agrees_with_trying_every_order(
        seed in any::<u64>(),
        clients in 1usize..4,
        ops in 1usize..7,
    ) {
        let history = corrupt_reads(linearizable_history(Workload::Register, seed, clients, ops), seed);
        let verdict = check(&history, ModelKind::Register, &Budget::default());
        let expected = if brute_force_register(&history) { Status::Pass } else { Status::Fail };
        prop_assert_eq!(verdict.status, expected, "{:?}\n{}", verdict, crate::history::jepsen::write_edn(&history));
    }

    #[test]
    fn verdicts_are_deterministic(seed in any::<u64>(), ops in 1usize..30) {
        let history = corrupt_reads(linearizable_history(Workload::Register, seed, 4, ops), seed);
        let first = serde_json::to_string(&check(&history, ModelKind::Register, &Budget::default()));
        let second = serde_json::to_string(&check(&history, ModelKind::Register, &Budget::default()));
        prop_assert_eq!(first.ok(), second.ok());
    }
}

/// Guards the properties above against vacuity: the generator must make
/// concurrent histories with info and fail completions (with an error, and
/// cas answered with a failure) and open operations,
/// and corrupted ones must go both ways.
#[test]
fn random_histories_cover_what_the_properties_need() {
    let (mut info, mut fail, mut open, mut concurrent) = (0, 0, 0, 0);
    let mut failed_cas = 0;
    let (mut pass, mut not) = (0, 0);
    for seed in 0..200 {
        let history = linearizable_history(Workload::Register, seed, 3, 6);
        let ops = history.operations().unwrap_or_default();
        info += ops
            .iter()
            .filter(|o| o.outcome == Outcome::Info && o.complete_index.is_some())
            .count();
        fail += ops
            .iter()
            .filter(|o| o.outcome == Outcome::Fail && o.error.is_some())
            .count();
        failed_cas += ops
            .iter()
            .filter(|o| o.outcome == Outcome::Fail && o.error.is_none())
            .count();
        open += ops.iter().filter(|o| o.complete_index.is_none()).count();
        concurrent += ops
            .windows(2)
            .filter(|w| w[0].complete_index.is_none_or(|c| c > w[1].invoke_index))
            .count();
        if brute_force_register(&corrupt_reads(history, seed)) {
            pass += 1;
        } else {
            not += 1;
        }
    }
    for (what, count) in [
        ("info", info),
        ("fail", fail),
        ("failed cas", failed_cas),
        ("open", open),
        ("concurrent", concurrent),
        ("pass", pass),
        ("not", not),
    ] {
        assert!(count >= 20, "only {count} {what}");
    }
}
