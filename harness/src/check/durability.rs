//! Durability: nothing a client was told is done may be missing from the
//! state read back after recovery.
//!
//! The scenario ends with every fault healed and a final read of every key
//! (`workload.final_read`). For each key the checker compares that final
//! value with the acknowledged mutations, by the key's semantics:
//!
//! - **append** (string concatenation): every acknowledged append's text
//!   must occur in the final value, unless a write or cas on the key (that
//!   did not fail) may have taken effect after it and replaced the value;
//! - **add** (counter): the final value must be at least the sum of the
//!   acknowledged additions, and at most that plus the unknown ones;
//! - **write/cas** (register): workload values are unique, so the final
//!   value names the write that produced it. An acknowledged write is lost
//!   if the final value is `nil`, or was written by an operation that
//!   finished before the acknowledged write began (it must have been
//!   overwritten by something older, which is impossible without loss).
//!
//! A key whose final read never succeeded makes the verdict `unknown`.

use super::Verdict;
use crate::history::{Event, OpKind, Operation, Outcome, Value, FINAL_READER_PROCESS};
use std::collections::BTreeMap;

/// Most lost operations listed as evidence.
pub const MAX_EVIDENCE_OPS: usize = 6;

pub fn check(ops: &[Operation], events: &[Event]) -> Verdict {
    let mut by_key: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    let mut finals: BTreeMap<&str, &Operation> = BTreeMap::new();
    for op in ops {
        let key = op.key.as_deref().unwrap_or("");
        if op.process >= FINAL_READER_PROCESS {
            if op.f == OpKind::Read && op.outcome == Outcome::Ok {
                finals.insert(key, op);
            }
        } else if op.f.is_mutation() {
            by_key.entry(key).or_default().push(op);
        }
    }
    if finals.is_empty() && !by_key.is_empty() {
        return Verdict::unknown(
            "durability",
            "no final read succeeded, so there is no recovered state to check",
        );
    }

    let mut lost: Vec<(&Operation, &Operation, String)> = Vec::new();
    let mut unread: Vec<&str> = Vec::new();
    let mut acknowledged = 0u64;
    for (key, mutations) in &by_key {
        acknowledged += mutations
            .iter()
            .filter(|o| o.outcome == Outcome::Ok)
            .count() as u64;
        let Some(final_read) = finals.get(key) else {
            unread.push(key);
            continue;
        };
        let value = &final_read.output;
        for (op, why) in lost_on_key(mutations, value) {
            lost.push((op, final_read, why));
        }
    }

    let checked = format!(
        "{acknowledged} acknowledged mutations on {} keys",
        by_key.len()
    );
    if !lost.is_empty() {
        let mut evidence = Vec::new();
        for (op, final_read, _) in lost.iter().take(MAX_EVIDENCE_OPS) {
            for op in [*op, *final_read] {
                evidence.push(events[op.invoke_index].clone());
                if let Some(i) = op.complete_index {
                    evidence.push(events[i].clone());
                }
            }
        }
        let (first, _, why) = &lost[0];
        return Verdict::fail(
            "durability",
            format!(
                "{} acknowledged {} lost; first: {} {} on key {} ({why})",
                lost.len(),
                if lost.len() == 1 {
                    "mutation"
                } else {
                    "mutations"
                },
                first.f,
                first.input,
                first.key.as_deref().unwrap_or("-")
            ),
        )
        .with_expected("every acknowledged mutation to be visible in the final read after recovery")
        .with_evidence(evidence)
        .with_detail("lost", lost.len() as u64)
        .with_detail("acknowledged", acknowledged);
    }
    if !unread.is_empty() {
        return Verdict::unknown(
            "durability",
            format!(
                "the final read of {} never succeeded ({checked})",
                unread.join(", ")
            ),
        );
    }
    Verdict::pass("durability", format!("all {checked} survived"))
        .with_detail("acknowledged", acknowledged)
}

fn written_value(op: &Operation) -> Option<&Value> {
    match (op.f, &op.input) {
        (OpKind::Write, v) => Some(v),
        (OpKind::Cas, Value::List(pair)) if pair.len() == 2 => Some(&pair[1]),
        _ => None,
    }
}

/// The acknowledged mutations of one key that the final value does not
/// reflect, with the reason.
fn lost_on_key<'a>(
    mutations: &[&'a Operation],
    final_value: &Value,
) -> Vec<(&'a Operation, String)> {
    let acked = || {
        mutations
            .iter()
            .copied()
            .filter(|o| o.outcome == Outcome::Ok)
    };
    let mut lost = Vec::new();
    if mutations.iter().any(|o| o.f == OpKind::Append) {
        let text = match final_value {
            Value::Str(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            _ => String::new(),
        };
        // A write or cas that may have taken effect after an append
        // replaced the value it extended: that append is not owed.
        let overwriters: Vec<&Operation> = mutations
            .iter()
            .copied()
            .filter(|o| matches!(o.f, OpKind::Write | OpKind::Cas) && o.outcome != Outcome::Fail)
            .collect();
        let overwritten = |append: &Operation| {
            overwriters
                .iter()
                .any(|w| w.complete_ns.is_none_or(|done| done > append.invoke_ns))
        };
        for op in acked().filter(|o| o.f == OpKind::Append) {
            if let Value::Str(piece) = &op.input {
                if !text.contains(piece.as_str()) && !overwritten(op) {
                    lost.push((op, format!("final value {final_value} does not contain it")));
                }
            }
        }
        return lost;
    }
    if mutations.iter().any(|o| o.f == OpKind::Add) {
        let sum = |filter: &dyn Fn(&Operation) -> bool| -> i64 {
            mutations
                .iter()
                .filter(|o| o.f == OpKind::Add && filter(o))
                .filter_map(|o| o.input.as_int())
                .sum()
        };
        let low = sum(&|o| o.outcome == Outcome::Ok);
        let high = low + sum(&|o| o.outcome == Outcome::Info);
        let value = final_value.as_int().unwrap_or(0);
        if value < low || value > high {
            if let Some(op) = acked().next_back() {
                lost.push((op, format!("final count {value} outside [{low}, {high}]")));
            }
        }
        return lost;
    }
    // Register semantics.
    let producer = mutations
        .iter()
        .copied()
        .filter(|o| o.outcome != Outcome::Fail)
        .find(|o| written_value(o) == Some(final_value));
    for op in acked().filter(|o| written_value(o).is_some()) {
        let why = match producer {
            None if final_value.is_nil() => Some("the final value is nil".to_string()),
            None => None, // a value no mutation wrote: linearizability's business
            Some(p) if p.complete_ns.is_some_and(|done| done < op.invoke_ns) => Some(format!(
                "the final value {final_value} was written by an operation that finished before this one began"
            )),
            Some(_) => None,
        };
        if let Some(why) = why {
            lost.push((op, why));
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{EventType, History, Op};

    fn push(h: &mut History, process: u64, kind: EventType, f: OpKind, value: Value, t: u64) {
        h.push(Event {
            time_ns: t,
            process,
            kind,
            op: Op {
                f,
                key: Some("k0".into()),
                value,
            },
            attempts: 0,
            degraded: false,
            error: None,
        });
    }

    fn check_history(h: &History) -> Verdict {
        check(&h.operations().unwrap(), &h.events)
    }

    #[test]
    fn a_register_keeping_the_last_write_passes() {
        let mut h = History::new();
        push(
            &mut h,
            0,
            EventType::Invoke,
            OpKind::Write,
            Value::Int(1),
            0,
        );
        push(&mut h, 0, EventType::Ok, OpKind::Write, Value::Int(1), 1);
        push(
            &mut h,
            0,
            EventType::Invoke,
            OpKind::Write,
            Value::Int(2),
            2,
        );
        push(&mut h, 0, EventType::Ok, OpKind::Write, Value::Int(2), 3);
        push(
            &mut h,
            FINAL_READER_PROCESS,
            EventType::Invoke,
            OpKind::Read,
            Value::Nil,
            10,
        );
        push(
            &mut h,
            FINAL_READER_PROCESS,
            EventType::Ok,
            OpKind::Read,
            Value::Int(2),
            11,
        );
        assert_eq!(check_history(&h).status, crate::check::Status::Pass);
    }

    #[test]
    fn a_register_rolled_back_to_an_older_write_loses_the_newer_one() {
        let mut h = History::new();
        push(
            &mut h,
            0,
            EventType::Invoke,
            OpKind::Write,
            Value::Int(1),
            0,
        );
        push(&mut h, 0, EventType::Ok, OpKind::Write, Value::Int(1), 1);
        push(
            &mut h,
            0,
            EventType::Invoke,
            OpKind::Write,
            Value::Int(2),
            2,
        );
        push(&mut h, 0, EventType::Ok, OpKind::Write, Value::Int(2), 3);
        push(
            &mut h,
            FINAL_READER_PROCESS,
            EventType::Invoke,
            OpKind::Read,
            Value::Nil,
            10,
        );
        push(
            &mut h,
            FINAL_READER_PROCESS,
            EventType::Ok,
            OpKind::Read,
            Value::Int(1),
            11,
        );
        let v = check_history(&h);
        assert_eq!(v.status, crate::check::Status::Fail);
        assert!(v.summary.contains("write 2"), "{}", v.summary);
        assert_eq!(v.evidence.len(), 4);
    }

    #[test]
    fn concurrent_writes_may_end_in_either_order() {
        let mut h = History::new();
        push(
            &mut h,
            0,
            EventType::Invoke,
            OpKind::Write,
            Value::Int(1),
            0,
        );
        push(
            &mut h,
            1,
            EventType::Invoke,
            OpKind::Write,
            Value::Int(2),
            1,
        );
        push(&mut h, 1, EventType::Ok, OpKind::Write, Value::Int(2), 2);
        push(&mut h, 0, EventType::Ok, OpKind::Write, Value::Int(1), 3);
        push(
            &mut h,
            FINAL_READER_PROCESS,
            EventType::Invoke,
            OpKind::Read,
            Value::Nil,
            10,
        );
        push(
            &mut h,
            FINAL_READER_PROCESS,
            EventType::Ok,
            OpKind::Read,
            Value::Int(1),
            11,
        );
        assert_eq!(check_history(&h).status, crate::check::Status::Pass);
    }

    #[test]
    fn an_acknowledged_append_missing_from_the_final_value_is_lost() {
        let mut h = History::new();
        push(
            &mut h,
            0,
            EventType::Invoke,
            OpKind::Append,
            Value::Str("1 ".into()),
            0,
        );
        push(
            &mut h,
            0,
            EventType::Ok,
            OpKind::Append,
            Value::Str("1 ".into()),
            1,
        );
        push(
            &mut h,
            0,
            EventType::Invoke,
            OpKind::Append,
            Value::Str("2 ".into()),
            2,
        );
        push(
            &mut h,
            0,
            EventType::Info,
            OpKind::Append,
            Value::Str("2 ".into()),
            3,
        );
        push(
            &mut h,
            FINAL_READER_PROCESS,
            EventType::Invoke,
            OpKind::Read,
            Value::Nil,
            10,
        );
        push(
            &mut h,
            FINAL_READER_PROCESS,
            EventType::Ok,
            OpKind::Read,
            Value::Str("2 ".into()),
            11,
        );
        let v = check_history(&h);
        assert_eq!(v.status, crate::check::Status::Fail);
        assert!(v.summary.contains("append"), "{}", v.summary);
    }

    #[test]
    fn an_append_a_later_write_may_have_replaced_is_not_owed() {
        let mut h = History::new();
        let s = |t: &str| Value::Str(t.into());
        push(&mut h, 0, EventType::Invoke, OpKind::Append, s("1 "), 0);
        push(&mut h, 0, EventType::Ok, OpKind::Append, s("1 "), 1);
        // Invoked after the append finished: it replaced "1 ".
        push(
            &mut h,
            1,
            EventType::Invoke,
            OpKind::Write,
            Value::Int(7),
            2,
        );
        push(&mut h, 1, EventType::Ok, OpKind::Write, Value::Int(7), 3);
        push(&mut h, 0, EventType::Invoke, OpKind::Append, s("2 "), 4);
        push(&mut h, 0, EventType::Ok, OpKind::Append, s("2 "), 5);
        let final_read = |h: &mut History, value: Value| {
            push(
                h,
                FINAL_READER_PROCESS,
                EventType::Invoke,
                OpKind::Read,
                Value::Nil,
                10,
            );
            push(
                h,
                FINAL_READER_PROCESS,
                EventType::Ok,
                OpKind::Read,
                value,
                11,
            );
        };
        let mut kept = h.clone();
        final_read(&mut kept, s("72 "));
        assert_eq!(check_history(&kept).status, crate::check::Status::Pass);
        // The append after the write is still owed.
        final_read(&mut h, Value::Int(7));
        let v = check_history(&h);
        assert_eq!(v.status, crate::check::Status::Fail);
        assert!(v.summary.contains("\"2 \""), "{}", v.summary);
    }

    #[test]
    fn without_a_final_read_the_verdict_is_unknown() {
        let mut h = History::new();
        push(
            &mut h,
            0,
            EventType::Invoke,
            OpKind::Write,
            Value::Int(1),
            0,
        );
        push(&mut h, 0, EventType::Ok, OpKind::Write, Value::Int(1), 1);
        assert_eq!(check_history(&h).status, crate::check::Status::Unknown);
    }
}
