//! The checker's semantics, on small hand-written histories and on random
//! ones produced by running operations against a sequential object.

use super::*;
use crate::check::Status;
use crate::history::{Event, EventType, Op, OpKind, Value};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Builds a history one event at a time; times are event indices.
#[derive(Default)]
pub(super) struct Script {
    pub history: History,
}

impl Script {
    pub fn event(
        mut self,
        process: u64,
        kind: EventType,
        f: OpKind,
        key: Option<&str>,
        value: Value,
    ) -> Script {
        let time_ns = self.history.len() as u64;
        self.history.push(Event {
            time_ns,
            process,
            kind,
            op: Op {
                f,
                key: key.map(str::to_string),
                value,
            },
            attempts: 0,
            degraded: false,
            error: None,
        });
        self
    }

    fn invoke(self, process: u64, f: OpKind, value: Value) -> Script {
        self.event(process, EventType::Invoke, f, None, value)
    }

    fn ok(self, process: u64, f: OpKind, value: Value) -> Script {
        self.event(process, EventType::Ok, f, None, value)
    }

    fn fail(self, process: u64, f: OpKind, value: Value) -> Script {
        self.event(process, EventType::Fail, f, None, value)
    }

    fn info(self, process: u64, f: OpKind, value: Value) -> Script {
        self.event(process, EventType::Info, f, None, value)
    }

    /// An operation that runs alone: invoke then ok.
    fn run(self, process: u64, f: OpKind, input: Value, output: Value) -> Script {
        self.invoke(process, f, input).ok(process, f, output)
    }

    pub fn check(&self, model: ModelKind) -> Verdict {
        check(&self.history, model, &Budget::default())
    }
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

fn cas(expected: i64, new: i64) -> Value {
    Value::List(vec![int(expected), int(new)])
}

pub(super) fn s(text: &str) -> Value {
    Value::Str(text.to_string())
}

use OpKind::{Add, Append, Cas, Dequeue, Enqueue, Read, Write};

#[test]
fn a_stale_read_after_a_completed_write_fails() {
    let v = Script::default()
        .run(1, Write, int(1), int(1))
        .run(2, Read, Value::Nil, Value::Nil)
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(
        v.summary.starts_with("read -> nil by process 2"),
        "{}",
        v.summary
    );
    assert_eq!(
        v.expected
            .as_deref()
            .map(|e| e.split(':').next().unwrap_or_default()),
        Some("read to return one of {1}")
    );
    assert_eq!(v.evidence.len(), 4);
    assert_eq!(v.details["longest_linearizable_prefix"], 1);
    assert_eq!(v.details["partitions"], 1);
}

#[test]
fn concurrent_reads_may_see_either_side_of_a_write() {
    let v = Script::default()
        .invoke(1, Write, int(1))
        .invoke(2, Read, Value::Nil)
        .invoke(3, Read, Value::Nil)
        .ok(3, Read, int(1))
        .ok(2, Read, Value::Nil)
        .ok(1, Write, int(1))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
}

#[test]
fn an_info_write_that_must_have_happened_is_linearized() {
    let v = Script::default()
        .invoke(1, Write, int(4))
        .info(1, Write, s(":timed-out"))
        .run(2, Read, Value::Nil, int(4))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
}

#[test]
fn an_info_write_may_take_effect_long_after_its_completion() {
    let v = Script::default()
        .invoke(1, Write, int(4))
        .info(1, Write, Value::Nil)
        .run(2, Read, Value::Nil, Value::Nil)
        .run(2, Write, int(5), int(5))
        .run(2, Read, Value::Nil, int(4))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
}

#[test]
fn an_info_write_that_must_not_have_happened_is_left_out() {
    // Reading 1 after the info write of 2 means the write has not taken
    // effect (yet, or ever): fine.
    let v = Script::default()
        .run(1, Write, int(1), int(1))
        .invoke(2, Write, int(2))
        .info(2, Write, Value::Nil)
        .run(3, Read, Value::Nil, int(1))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
    // But it takes effect at most once: 2 then 1 again is impossible.
    let v = Script::default()
        .run(1, Write, int(1), int(1))
        .invoke(2, Write, int(2))
        .info(2, Write, Value::Nil)
        .run(3, Read, Value::Nil, int(2))
        .run(3, Read, Value::Nil, int(1))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Fail, "{v:?}");
}

#[test]
fn an_info_write_cannot_take_effect_before_its_invocation() {
    let v = Script::default()
        .run(1, Read, Value::Nil, int(2))
        .invoke(2, Write, int(2))
        .info(2, Write, Value::Nil)
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Fail, "{v:?}");
}

#[test]
fn a_failed_cas_saw_another_value_than_it_expected() {
    let base = || Script::default().run(1, Write, int(1), int(1));
    // Nothing but 1 could be there while the cas ran: its failure is a
    // read that cannot be linearized.
    let v = base()
        .invoke(2, Cas, cas(1, 5))
        .fail(2, Cas, cas(1, 5))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(
        v.summary
            .starts_with("failed cas [1 5] by process 2 (events 2-3) could not be linearized"),
        "{}",
        v.summary
    );
    assert_eq!(
        v.expected.as_deref(),
        Some("failed cas to find a value other than 1 (its comparison failed), but the register could only hold 1 while the cas was pending")
    );
    // A concurrent write explains it, and the cas changed nothing.
    let v = base()
        .invoke(3, Write, int(2))
        .invoke(2, Cas, cas(1, 5))
        .fail(2, Cas, cas(1, 5))
        .ok(3, Write, int(2))
        .run(4, Read, Value::Nil, int(2))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
    let v = base()
        .invoke(2, Cas, cas(3, 5))
        .fail(2, Cas, cas(3, 5))
        .run(4, Read, Value::Nil, int(5))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Fail, "a failed cas swaps nothing: {v:?}");
}

#[test]
fn a_cas_that_failed_with_an_error_proves_nothing() {
    let mut script = Script::default()
        .run(1, Write, int(1), int(1))
        .invoke(2, Cas, cas(1, 5))
        .fail(2, Cas, cas(1, 5));
    script.history.events[3].error = Some("unavailable".into());
    let v = script.check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
    assert_eq!(v.details["operations"], 1);
}

#[test]
fn a_failed_cas_is_evidence_in_the_kv_model_too() {
    let v = Script::default()
        .event(1, EventType::Invoke, Write, Some("k"), s("a"))
        .event(1, EventType::Ok, Write, Some("k"), s("a"))
        .event(
            2,
            EventType::Invoke,
            Cas,
            Some("k"),
            Value::List(vec![s("a"), s("b")]),
        )
        .event(
            2,
            EventType::Fail,
            Cas,
            Some("k"),
            Value::List(vec![s("a"), s("b")]),
        )
        .check(ModelKind::Kv);
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(
        v.summary.starts_with("key \"k\": failed cas [\"a\" \"b\"]"),
        "{}",
        v.summary
    );
    assert_eq!(v.evidence.len(), 4, "{:?}", v.evidence);
}

#[test]
fn an_info_cas_may_or_may_not_have_swapped() {
    let base = || {
        Script::default()
            .run(1, Write, int(1), int(1))
            .invoke(2, Cas, cas(1, 5))
            .info(2, Cas, cas(1, 5))
    };
    let v = base()
        .run(3, Read, Value::Nil, int(5))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
    let v = base()
        .run(3, Read, Value::Nil, int(1))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
    let v = base()
        .run(3, Read, Value::Nil, int(5))
        .run(3, Read, Value::Nil, int(1))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Fail, "{v:?}");
}

#[test]
fn an_ok_cas_needs_its_expected_value() {
    let v = Script::default()
        .run(1, Write, int(1), int(1))
        .run(2, Cas, cas(2, 5), cas(2, 5))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Fail, "{v:?}");
    let expected = v.expected.unwrap_or_default();
    assert!(
        expected.starts_with("cas to find 2 in the register"),
        "{expected}"
    );
}

#[test]
fn operations_that_never_completed_may_have_happened() {
    let v = Script::default()
        .invoke(1, Write, int(3))
        .run(2, Read, Value::Nil, int(3))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
}

#[test]
fn reads_with_unknown_outcome_constrain_nothing() {
    let v = Script::default()
        .invoke(1, Read, Value::Nil)
        .info(1, Read, int(42))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Pass, "{v:?}");
    assert_eq!(v.details["operations"], 0);
}

#[test]
fn truncated_malformed_and_misfit_histories_are_unknown() {
    let mut truncated = History::with_limit(1);
    truncated.push(Event {
        time_ns: 0,
        process: 0,
        kind: EventType::Invoke,
        op: Op {
            f: Read,
            key: None,
            value: Value::Nil,
        },
        attempts: 0,
        degraded: false,
        error: None,
    });
    truncated.push(truncated.events[0].clone());
    let v = check(&truncated, ModelKind::Register, &Budget::default());
    assert_eq!(v.status, Status::Unknown);
    assert!(v.summary.contains("truncated"), "{}", v.summary);

    let v = Script::default()
        .ok(1, Read, int(1))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Unknown);
    assert!(
        v.summary.starts_with("malformed history: event 0"),
        "{}",
        v.summary
    );

    let v = Script::default()
        .run(1, Append, s("x"), s("x"))
        .check(ModelKind::Register);
    assert_eq!(v.status, Status::Unknown);
    assert!(
        v.summary
            .contains("does not fit the register model: event 0: the register model has read, write and cas, not append"),
        "{}",
        v.summary
    );
}

#[test]
fn running_out_of_budget_is_unknown_never_pass() {
    let mut script = Script::default();
    for p in 0..6 {
        script = script.invoke(p, Write, int(p as i64));
    }
    for p in 0..6 {
        script = script.ok(p, Write, int(p as i64));
    }
    let budget = Budget {
        max_states: 3,
        ..Budget::default()
    };
    let v = check(&script.history, ModelKind::Register, &budget);
    assert_eq!(v.status, Status::Unknown, "{v:?}");
    assert!(v.summary.contains("within the budget"), "{}", v.summary);
    assert_eq!(script.check(ModelKind::Register).status, Status::Pass);
}

#[test]
fn running_out_of_memory_is_unknown_too() {
    // Appends in every order make many distinct strings.
    let mut script = Script::default();
    for p in 0..9 {
        script = script.event(
            p,
            EventType::Invoke,
            Append,
            Some("k"),
            Value::Str(format!("{p} ")),
        );
    }
    for p in 0..9 {
        script = script.event(
            p,
            EventType::Ok,
            Append,
            Some("k"),
            Value::Str(format!("{p} ")),
        );
    }
    let script = script
        .event(9, EventType::Invoke, Read, Some("k"), Value::Nil)
        .event(9, EventType::Ok, Read, Some("k"), s("no such order"));
    let budget = Budget {
        max_memory_bytes: 256 * 1024,
        ..Budget::default()
    };
    let v = check(&script.history, ModelKind::Kv, &budget);
    assert_eq!(v.status, Status::Unknown, "{v:?}");
    assert!(
        v.summary.contains("memory budget of 262144 bytes"),
        "{}",
        v.summary
    );
    assert_eq!(v.details["key"], "k");
}

#[test]
fn kv_keys_are_checked_apart_and_the_failing_key_is_named() {
    let v = Script::default()
        .event(1, EventType::Invoke, Append, Some("a"), s("x "))
        .event(1, EventType::Ok, Append, Some("a"), s("x "))
        .event(2, EventType::Invoke, Write, Some("b"), s("y"))
        .event(2, EventType::Ok, Write, Some("b"), s("y"))
        .event(3, EventType::Invoke, Read, Some("c"), Value::Nil)
        .event(3, EventType::Ok, Read, Some("c"), s(""))
        .event(3, EventType::Invoke, Read, Some("b"), Value::Nil)
        .event(3, EventType::Ok, Read, Some("b"), s("x "))
        .check(ModelKind::Kv);
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(
        v.summary.starts_with("key \"b\": read -> \"x \""),
        "{}",
        v.summary
    );
    assert_eq!(v.details["key"], "b");
    assert_eq!(v.details["partitions"], 3);
    assert!(v.evidence.iter().all(|e| e.op.key.as_deref() == Some("b")));
}

#[test]
fn kv_appends_concatenate_in_linearization_order() {
    let v = Script::default()
        .event(1, EventType::Invoke, Append, Some("k"), s("1 "))
        .event(2, EventType::Invoke, Append, Some("k"), s("2 "))
        .event(1, EventType::Ok, Append, Some("k"), s("1 "))
        .event(2, EventType::Ok, Append, Some("k"), s("2 "))
        .event(3, EventType::Invoke, Read, Some("k"), Value::Nil)
        .event(3, EventType::Ok, Read, Some("k"), s("2 1 "))
        .check(ModelKind::Kv);
    assert_eq!(v.status, Status::Pass, "{v:?}");
}

#[test]
fn counter_reads_see_some_order_of_the_adds() {
    let base = || {
        Script::default()
            .invoke(1, Add, int(2))
            .invoke(2, Add, int(3))
            .invoke(3, Read, Value::Nil)
    };
    for (read, status) in [
        (0, Status::Pass),
        (3, Status::Pass),
        (5, Status::Pass),
        (1, Status::Fail),
    ] {
        let v = base()
            .ok(3, Read, int(read))
            .ok(1, Add, int(2))
            .ok(2, Add, int(3))
            .check(ModelKind::Counter);
        assert_eq!(v.status, status, "read {read}: {v:?}");
    }
}

#[test]
fn queue_dequeues_in_enqueue_order() {
    let base = || {
        Script::default()
            .run(1, Enqueue, int(1), int(1))
            .run(1, Enqueue, int(2), int(2))
    };
    let v = base()
        .run(2, Dequeue, Value::Nil, int(1))
        .check(ModelKind::Queue);
    assert_eq!(v.status, Status::Pass, "{v:?}");
    let v = base()
        .run(2, Dequeue, Value::Nil, int(2))
        .check(ModelKind::Queue);
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(v
        .expected
        .unwrap_or_default()
        .starts_with("dequeue to return one of {1}"));
}

#[test]
fn model_names_parse_and_print() {
    for kind in ModelKind::ALL {
        assert_eq!(kind.as_str().parse::<ModelKind>(), Ok(kind));
    }
    let err = "set".parse::<ModelKind>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown model \"set\"; expected one of: register, kv, counter, queue"
    );
}

#[test]
fn history_text_in_either_format_can_be_checked() {
    let log = "INFO  jepsen.util - 1\t:invoke\t:write\t3\nINFO  jepsen.util - 1\t:ok\t:write\t3\nINFO  jepsen.util - 2\t:invoke\t:read\tnil\nINFO  jepsen.util - 2\t:ok\t:read\t3\n";
    let v = check_history_text(log, ModelKind::Register, &Budget::default());
    assert_eq!(v.map(|v| v.status), Ok(Status::Pass));
    let edn = "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}\n{:process 0, :type :ok, :f :get, :key \"k\", :value \"x\"}\n";
    let v = check_history_text(edn, ModelKind::Kv, &Budget::default());
    assert_eq!(v.map(|v| v.status), Ok(Status::Fail));
    let err = check_history_text("{:process 0}", ModelKind::Kv, &Budget::default());
    assert_eq!(err.map_err(|e| e.line), Err(1));
}

/// A model written outside the checker: a register that only grows
/// (`write n` takes effect as max(state, n)).
struct MaxRegister;

impl Model for MaxRegister {
    type State = i64;
    type Input = Option<i64>;
    type Output = i64;

    fn init(&mut self) -> i64 {
        0
    }

    fn step(&mut self, state: &i64, input: &Option<i64>, output: Option<&i64>) -> Option<i64> {
        match input {
            Some(n) => Some((*state).max(*n)),
            None => match output {
                Some(read) if read != state => None,
                _ => Some(*state),
            },
        }
    }

    fn is_read_only(&self, input: &Option<i64>) -> bool {
        input.is_none()
    }

    fn describe_op(&self, input: &Option<i64>, output: Option<&i64>) -> String {
        format!("{input:?} -> {output:?}")
    }

    fn describe_state(&self, state: &i64) -> String {
        state.to_string()
    }
}

#[test]
fn the_engine_takes_models_of_your_own_and_returns_a_witness() {
    let op = |input, invoke_at, done: Option<(u64, i64)>| SearchOp {
        input,
        invoke_at,
        completion: match done {
            Some((at, output)) => Completion::Returned { at, output },
            None => Completion::Unknown,
        },
    };
    let ops = vec![
        op(Some(5), 0, Some((3, 0))),
        op(Some(2), 1, Some((2, 0))),
        op(None, 4, Some((5, 5))),
        op(None, 6, None), // unknown read: dropped
        op(Some(9), 7, None),
    ];
    let report = check_operations(&mut MaxRegister, &ops, &Budget::default());
    match report.result {
        SearchResult::Linearizable { order } => {
            assert_eq!(order.len(), 3, "{order:?}");
            assert_eq!(order[2], 2, "the read comes after both writes");
        }
        other => panic!("expected linearizable, got {other:?}"),
    }
    let bad = vec![op(Some(5), 0, Some((1, 0))), op(None, 2, Some((3, 2)))];
    let report = check_operations(&mut MaxRegister, &bad, &Budget::default());
    match report.result {
        SearchResult::NotLinearizable(stuck) => {
            assert_eq!(stuck.op, 1);
            assert_eq!(stuck.refused_states, vec![5]);
        }
        other => panic!("expected not linearizable, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Random histories from a sequential object.

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
