//! Many keys: the first key to fail at the smallest budget is reported,
//! whatever the other keys cost and however many threads search them.

use super::search::{ChoiceOrder, Limits, Search};
use super::tests::{s, Script};
use super::tests_random::{corrupt_reads, linearizable_history, Workload};
use super::*;
use crate::check::Status;
use crate::history::{EventType, OpKind, Value};
use proptest::prelude::*;

/// `appends` concurrent appends to `key`, all acknowledged, then a read of
/// a value no order of them makes. Deciding the key means trying every
/// order: about `sum over k of C(appends, k) * k!` configurations (1,957
/// for 6 appends, 13,700 for 7, 9.9 million for 10).
fn appends_then_impossible_read(mut script: Script, key: &str, appends: u64) -> Script {
    let process = |i: u64| 1000 * (u64::from(key.as_bytes()[0])) + i;
    let value = |i: u64| Value::Str(format!("{key}{i} "));
    for i in 0..appends {
        script = script.event(
            process(i),
            EventType::Invoke,
            OpKind::Append,
            Some(key),
            value(i),
        );
    }
    for i in 0..appends {
        script = script.event(
            process(i),
            EventType::Ok,
            OpKind::Append,
            Some(key),
            value(i),
        );
    }
    let reader = process(appends);
    script
        .event(
            reader,
            EventType::Invoke,
            OpKind::Read,
            Some(key),
            Value::Nil,
        )
        .event(
            reader,
            EventType::Ok,
            OpKind::Read,
            Some(key),
            s("no such order"),
        )
}

/// A write and a read of `key` that sees something else: fails at once.
fn stale_read(script: Script, key: &str) -> Script {
    let process = 1000 * u64::from(key.as_bytes()[0]) + 999;
    script
        .event(
            process,
            EventType::Invoke,
            OpKind::Write,
            Some(key),
            s("new"),
        )
        .event(process, EventType::Ok, OpKind::Write, Some(key), s("new"))
        .event(
            process,
            EventType::Invoke,
            OpKind::Read,
            Some(key),
            Value::Nil,
        )
        .event(process, EventType::Ok, OpKind::Read, Some(key), s("old"))
}

/// A key with a few operations that is linearizable.
fn fine(script: Script, key: &str) -> Script {
    let process = 1000 * u64::from(key.as_bytes()[0]) + 998;
    script
        .event(
            process,
            EventType::Invoke,
            OpKind::Append,
            Some(key),
            s("x"),
        )
        .event(process, EventType::Ok, OpKind::Append, Some(key), s("x"))
        .event(
            process,
            EventType::Invoke,
            OpKind::Read,
            Some(key),
            Value::Nil,
        )
        .event(process, EventType::Ok, OpKind::Read, Some(key), s("x"))
}

fn undecided_keys(v: &Verdict) -> Vec<String> {
    v.details["undecided_keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .map(|k| k.as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_undecidable_key_does_not_hide_one_that_fails_quickly() {
    // Key "a" comes first and would take the whole budget (its search runs
    // out of states or memory); key "b" fails within a few states.
    let script = stale_read(
        appends_then_impossible_read(Script::default(), "a", 10),
        "b",
    );
    let v = script.check(ModelKind::Kv);
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert_eq!(v.details["key"], "b");
    assert_eq!(v.details["found_within_states"], FIRST_ROUND_STATES);
    assert_eq!(undecided_keys(&v), ["a"]);
    assert!(
        v.summary.ends_with(&format!(
            "; found within {FIRST_ROUND_STATES} states per key, when key \"a\" was not decided yet"
        )),
        "{}",
        v.summary
    );
    let states = v.details["states_explored"].as_u64().unwrap_or(u64::MAX);
    assert!(
        states <= FIRST_ROUND_STATES + 10,
        "{states} states explored"
    );
}

#[test]
fn the_first_key_to_fail_at_the_smallest_budget_is_reported() {
    // "a" fails too, but only after about 1,957 states; "c" fails at once,
    // and so does "d", after it in key order.
    let script = appends_then_impossible_read(Script::default(), "a", 6);
    let script = stale_read(stale_read(fine(script, "b"), "c"), "d");
    let v = script.check(ModelKind::Kv);
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert_eq!(v.details["key"], "c", "{}", v.summary);
    assert_eq!(undecided_keys(&v), ["a", "d"]);

    // Alone, "a" fails in the second round.
    let v = appends_then_impossible_read(Script::default(), "a", 6).check(ModelKind::Kv);
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert_eq!(v.details["key"], "a");
    assert_eq!(
        v.details["found_within_states"],
        ROUND_GROWTH * FIRST_ROUND_STATES
    );

    let script = stale_read(appends_then_impossible_read(Script::default(), "a", 6), "z");
    let script = appends_then_impossible_read(script, "b", 7);
    let v = script.check(ModelKind::Kv);
    assert_eq!(v.details["key"], "z", "{}", v.summary);
    let script = appends_then_impossible_read(Script::default(), "a", 6);
    let v = appends_then_impossible_read(script, "b", 7).check(ModelKind::Kv);
    assert_eq!(v.details["key"], "a", "{}", v.summary);
    assert_eq!(
        v.details["found_within_states"],
        ROUND_GROWTH * FIRST_ROUND_STATES
    );
    assert_eq!(undecided_keys(&v), ["b"]);
}

/// Several failing keys at different depths, an undecidable one and fine
/// ones: enough work (a few milliseconds) for helper threads to join in.
fn many_keys() -> History {
    let mut script = appends_then_impossible_read(Script::default(), "a", 7);
    script = appends_then_impossible_read(script, "b", 10);
    script = fine(script, "c");
    script = appends_then_impossible_read(script, "d", 6);
    for key in ["e", "f", "g"] {
        script = appends_then_impossible_read(script, key, 7);
    }
    script = fine(script, "h");
    script = appends_then_impossible_read(script, "i", 6);
    script.history
}

#[test]
fn the_verdict_is_the_same_whatever_the_threads() {
    let history = many_keys();
    let verdicts: Vec<String> = [1, 2, 3, 8]
        .into_iter()
        .map(|threads| {
            let budget = Budget {
                max_threads: Some(threads),
                ..Budget::default()
            };
            let v = check(&history, ModelKind::Kv, &budget);
            serde_json::to_string(&v).unwrap_or_default()
        })
        .collect();
    for verdict in &verdicts[1..] {
        assert_eq!(verdict, &verdicts[0]);
    }
    let v = check(&history, ModelKind::Kv, &Budget::default());
    assert_eq!(v.details["key"], "d", "{}", v.summary);
    assert_eq!(
        v.details["found_within_states"],
        ROUND_GROWTH * FIRST_ROUND_STATES
    );
    // "c" and "h" were decided in the first round; "i" was stopped when
    // "d" failed, and counts as it stood after the first round.
    assert_eq!(undecided_keys(&v), ["a", "b", "e", "f", "g", "i"]);
}

#[test]
fn keys_left_undecided_are_all_named_with_the_knob_to_raise() {
    let script = appends_then_impossible_read(Script::default(), "a", 8);
    let script = appends_then_impossible_read(fine(script, "b"), "c", 8);
    let budget = Budget {
        max_states: 5000,
        ..Budget::default()
    };
    let v = check(&script.history, ModelKind::Kv, &budget);
    assert_eq!(v.status, Status::Unknown, "{v:?}");
    assert_eq!(
        v.summary,
        format!("2 of 3 keys undecided: could not decide keys \"a\", \"c\" within the budget of 5000 states per key; {RAISE_MAX_STATES} or check a shorter history")
    );
    assert_eq!(undecided_keys(&v), ["a", "c"]);
    assert_eq!(v.details["key"], "a");

    let budget = Budget {
        max_memory_bytes: 200_000,
        ..Budget::default()
    };
    let v = check(&script.history, ModelKind::Kv, &budget);
    assert_eq!(v.status, Status::Unknown, "{v:?}");
    assert!(
        v.summary.contains("within the memory budget of 200000 bytes per key; raise max_memory_bytes ([invariants.linearizable] max_memory_bytes in a scenario, --max-memory-bytes for check-history)"),
        "{}",
        v.summary
    );
}

#[test]
fn budgets_are_validated_with_the_knob_named() {
    assert_eq!(Budget::with_limits(None, None), Ok(Budget::default()));
    let budget = Budget::with_limits(Some(10), Some(1 << 30)).unwrap_or_default();
    assert_eq!((budget.max_states, budget.max_memory_bytes), (10, 1 << 30));
    let err = Budget::with_limits(Some(0), None).unwrap_err();
    assert_eq!(err.0, "max_states");
    assert!(err.1.contains("from 1 to 2147483647, found 0"), "{}", err.1);
    let err = Budget::with_limits(Some(HARD_MAX_STATES + 1), None).unwrap_err();
    assert_eq!(err.0, "max_states");
    let err = Budget::with_limits(None, Some(4096)).unwrap_err();
    assert_eq!(err.0, "max_memory_bytes");
    assert!(
        err.1.contains("at least 1048576 (1 MiB), found 4096"),
        "{}",
        err.1
    );
}

#[test]
fn a_search_stopped_from_outside_ends_as_one_that_never_stopped() {
    // Long enough (about 13,700 states) for many polls; cancelled at every
    // other poll, resumed each time with the same budget.
    let script = appends_then_impossible_read(Script::default(), "a", 7);
    let operations = script.history.operations().unwrap_or_default();
    let Ok(mut partitions) = partition(&operations, &Kv::for_key) else {
        panic!("one key");
    };
    let p = &mut partitions[0];
    let polls = std::cell::Cell::new(0u64);
    let flip = std::sync::atomic::AtomicBool::new(false);
    let cancel_every_other = || !flip.fetch_xor(true, std::sync::atomic::Ordering::Relaxed);
    let never = || false;
    let straight = Search::new(
        &mut p.model,
        &p.ops,
        DEFAULT_MAX_MEMORY_BYTES,
        ChoiceOrder::CallOrder,
    )
    .run(
        &mut p.model,
        &p.ops,
        &Limits {
            max_states: DEFAULT_MAX_STATES,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            deadline: None,
            cancelled: &never,
        },
    );
    assert!(matches!(straight.result, SearchResult::NotLinearizable(_)));
    let mut stopped = Search::new(
        &mut p.model,
        &p.ops,
        DEFAULT_MAX_MEMORY_BYTES,
        ChoiceOrder::CallOrder,
    );
    let resumed = loop {
        let report = stopped.run(
            &mut p.model,
            &p.ops,
            &Limits {
                max_states: DEFAULT_MAX_STATES,
                max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
                deadline: None,
                cancelled: &cancel_every_other,
            },
        );
        if report.result != SearchResult::Cancelled {
            break report;
        }
        polls.set(polls.get() + 1);
    };
    assert!(polls.get() > 2, "stopped only {} times", polls.get());
    assert_eq!(resumed, straight);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The rounds rest on this: a search paused at budgets that grow
    /// however they like ends exactly as one that ran straight through.
    #[test]
    fn a_paused_search_ends_as_one_that_never_paused(
        seed in any::<u64>(),
        clients in 1usize..6,
        ops in 1usize..40,
        kv in any::<bool>(),
        first_budget in 1u64..50,
    ) {
        let workload = if kv { Workload::Kv } else { Workload::Register };
        let history = corrupt_reads(linearizable_history(workload, seed, clients, ops), seed);
        let operations = history.operations().unwrap_or_default();
        let partitions = partition(&operations, &Kv::for_key);
        let Ok(mut partitions) = partitions else {
            return Ok(());
        };
        for p in &mut partitions {
            let limits = |max_states| Limits {
                max_states,
                max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
                deadline: None,
                cancelled: &|| false,
            };
            for order in [ChoiceOrder::CallOrder, ChoiceOrder::UnknownLast] {
                let memory = DEFAULT_MAX_MEMORY_BYTES;
                let straight = Search::new(&mut p.model, &p.ops, memory, order).run(
                    &mut p.model,
                    &p.ops,
                    &limits(DEFAULT_MAX_STATES),
                );
                let mut paused = Search::new(&mut p.model, &p.ops, memory, order);
                let mut budget = first_budget;
                let stepped = loop {
                    let report = paused.run(&mut p.model, &p.ops, &limits(budget));
                    if report.result != SearchResult::OutOfStates || budget >= DEFAULT_MAX_STATES {
                        break report;
                    }
                    budget = (budget * 3 / 2 + 1).min(DEFAULT_MAX_STATES);
                };
                prop_assert_eq!(&stepped, &straight);
            }
        }
    }
}
