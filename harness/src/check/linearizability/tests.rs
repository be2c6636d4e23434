//! The checker's semantics, on small hand-written histories (random ones
//! are in `tests_random.rs`).

use super::*;
use crate::check::Status;
use crate::history::{Event, EventType, Op, OpKind, Value};

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

pub(super) fn int(n: i64) -> Value {
    Value::Int(n)
}

pub(super) fn cas(expected: i64, new: i64) -> Value {
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
