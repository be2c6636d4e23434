//! Writing histories in the EDN line format.

use crate::history::{Event, History, MicroOp, Value};
use std::fmt::Write as _;

/// Writes one EDN map per event, with `:time`, so that
/// `parse_edn(&write_edn(h)) == h` for any history `h` that is not
/// truncated.
pub fn write_edn(history: &History) -> String {
    let mut out = String::with_capacity(history.len() * 80);
    for event in &history.events {
        write_event(&mut out, event);
        out.push('\n');
    }
    out
}

/// One event in the EDN line format (no trailing newline).
pub fn write_edn_event(event: &Event) -> String {
    let mut out = String::new();
    write_event(&mut out, event);
    out
}

fn write_event(out: &mut String, event: &Event) {
    // `write!` into a String cannot fail; the results are ignored for that reason.
    let _ = write!(
        out,
        "{{:process {}, :type :{}, :f :{}",
        event.process,
        event.kind.as_str(),
        event.op.f.as_str()
    );
    if let Some(key) = &event.op.key {
        out.push_str(", :key ");
        write_string(out, key);
    }
    out.push_str(", :value ");
    write_value(out, &event.op.value);
    let _ = write!(out, ", :time {}", event.time_ns);
    if event.attempts != 0 {
        let _ = write!(out, ", :attempts {}", event.attempts);
    }
    if event.degraded {
        out.push_str(", :degraded true");
    }
    if let Some(error) = &event.error {
        out.push_str(", :error ");
        write_string(out, error);
    }
    out.push('}');
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Nil => out.push_str("nil"),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Str(s) => write_string(out, s),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Txn(mops) => {
            out.push('[');
            for (i, mop) in mops.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_mop(out, mop);
            }
            out.push(']');
        }
    }
}

fn write_mop(out: &mut String, mop: &MicroOp) {
    out.push_str("[:");
    out.push_str(mop.f.as_str());
    out.push(' ');
    write_value(out, &mop.key);
    out.push(' ');
    write_value(out, &mop.value);
    out.push(']');
}

/// An EDN string literal. Control characters are escaped so that every
/// event stays on one line.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::jepsen::parse_edn;
    use crate::history::{EventType, MopKind, Op, OpKind};
    use proptest::prelude::*;

    #[test]
    fn writes_the_shared_line_format() {
        let h = parse_edn(r#"{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}"#)
            .unwrap();
        assert_eq!(
            write_edn(&h),
            "{:process 0, :type :invoke, :f :append, :key \"4\", :value \"x 0 1 y\", :time 0}\n"
        );
    }

    fn value_strategy() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Nil),
            any::<i64>().prop_map(Value::Int),
            any::<String>().prop_map(Value::Str),
        ];
        leaf.prop_recursive(3, 12, 4, |inner| {
            prop::collection::vec(inner, 0..4).prop_map(Value::List)
        })
    }

    /// Transaction values are read as such only under `:f :txn`, and only
    /// `:txn` operations carry them.
    fn op_strategy() -> impl Strategy<Value = (OpKind, Value)> {
        let mop = (
            prop::sample::select(MopKind::ALL.to_vec()),
            prop_oneof![
                any::<i64>().prop_map(Value::Int),
                any::<String>().prop_map(Value::Str)
            ],
            value_strategy(),
        )
            .prop_map(|(f, key, value)| MicroOp { f, key, value });
        let plain = OpKind::ALL
            .iter()
            .copied()
            .filter(|&k| k != OpKind::Txn)
            .collect::<Vec<_>>();
        prop_oneof![
            (prop::sample::select(plain), value_strategy()),
            prop::collection::vec(mop, 0..4).prop_map(|mops| (OpKind::Txn, Value::Txn(mops))),
        ]
    }

    fn event_strategy() -> impl Strategy<Value = Event> {
        (
            any::<u64>(),
            any::<u64>(),
            prop::sample::select(vec![
                EventType::Invoke,
                EventType::Ok,
                EventType::Fail,
                EventType::Info,
            ]),
            op_strategy(),
            prop::option::of(any::<String>()),
            prop_oneof![Just(0u32), any::<u32>()],
            (any::<bool>(), prop::option::of(any::<String>())),
        )
            .prop_map(
                |(time_ns, process, kind, (f, value), key, attempts, (degraded, error))| Event {
                    time_ns,
                    process,
                    kind,
                    op: Op { f, key, value },
                    attempts,
                    degraded,
                    error,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn edn_roundtrips(events in prop::collection::vec(event_strategy(), 0..12)) {
            let mut h = History::new();
            for e in events {
                h.push(e);
            }
            let text = write_edn(&h);
            let back = parse_edn(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(back, h);
        }

    }

    #[test]
    fn writes_txns_with_keyword_micro_operations() {
        let h = parse_edn(
            "{:process 1, :type :ok, :f :txn, :value [[:append 3 1] [:r \"k\" [1 2]] [:w 4 nil]]}",
        )
        .unwrap();
        assert_eq!(
            write_edn(&h),
            "{:process 1, :type :ok, :f :txn, :value [[:append 3 1] [:r \"k\" [1 2]] [:w 4 nil]], :time 0}\n"
        );
    }
}
