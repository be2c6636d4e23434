//! The EDN line format: one Jepsen operation map per line.

use super::edn::{parse_single_value, Edn};
use super::{parse_event_type, parse_op_kind, ParseError};
use crate::history::{Event, History, Op, OpKind, Value};

/// Parses one EDN map per line. Blank lines and `;` comments are skipped.
pub fn parse_edn(text: &str) -> Result<History, ParseError> {
    let mut history = History::new();
    // Whether the events so far carried `:time`; fixed by the first event.
    let mut timed: Option<bool> = None;
    // Likewise for `:process`: without one, every event is process 0.
    let mut with_process: Option<bool> = None;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') {
            continue;
        }
        let error = |message: String| ParseError {
            line: line_number,
            message,
        };
        let edn = parse_single_value(trimmed).map_err(&error)?;
        let Edn::Map(entries) = edn else {
            return Err(error(
                "expected one map per line, like {:process 0, :type :invoke, :f :read, :value nil}"
                    .to_string(),
            ));
        };
        let Some(line_event) = event_from_map(entries).map_err(&error)? else {
            continue; // not a client operation
        };
        let has_process = line_event.process.is_some();
        match with_process {
            None => with_process = Some(has_process),
            Some(true) if !has_process => return Err(error(
                "missing :process (earlier events have one; give every event a :process or none)"
                    .to_string(),
            )),
            Some(false) if has_process => return Err(error(
                "has a :process but earlier events do not (give every event a :process or none)"
                    .to_string(),
            )),
            Some(_) => {}
        }
        let has_time = line_event.time_ns.is_some();
        match timed {
            None => timed = Some(has_time),
            Some(true) if !has_time => {
                return Err(error(
                    "missing :time (earlier events have one; give every event a :time or none)"
                        .to_string(),
                ))
            }
            Some(false) if has_time => {
                return Err(error(
                    "has a :time but earlier events do not (give every event a :time or none)"
                        .to_string(),
                ))
            }
            Some(_) => {}
        }
        let mut event = line_event.event;
        event.process = line_event.process.unwrap_or(0);
        event.time_ns = line_event.time_ns.unwrap_or(history.len() as u64);
        history.push(event);
    }
    Ok(history)
}

struct LineEvent {
    event: Event,
    process: Option<u64>,
    time_ns: Option<u64>,
}

/// Builds an event from a map's entries; `Ok(None)` for entries of a
/// process that is not a client (Jepsen's `:nemesis`).
fn event_from_map(entries: Vec<(Edn, Edn)>) -> Result<Option<LineEvent>, String> {
    let mut process = None;
    let mut kind = None;
    let mut f = None;
    let mut key = None;
    let mut value = None;
    let mut time_ns = None;
    let mut attempts = None;
    let mut degraded = None;
    let mut error: Option<String> = None;
    let mut not_a_client = false;
    for (name, entry) in entries {
        let Edn::Keyword(name) = name else {
            return Err(format!(
                "map keys must be keywords, found {}",
                name.describe()
            ));
        };
        let seen = match name.as_str() {
            "process" => match entry {
                Edn::Int(n) => process.replace(to_u64(n, ":process")?).is_some(),
                Edn::Keyword(_) => {
                    not_a_client = true;
                    false
                }
                other => {
                    return Err(format!(
                        ":process must be an integer, found {}",
                        other.describe()
                    ))
                }
            },
            "type" => {
                let Edn::Keyword(name) = &entry else {
                    return Err(format!(
                        ":type must be a keyword, found {}",
                        entry.describe()
                    ));
                };
                let parsed = parse_event_type(name).ok_or_else(|| {
                    format!(":type :{name} is not one of :invoke, :ok, :fail, :info")
                })?;
                kind.replace(parsed).is_some()
            }
            "f" => {
                let name = match &entry {
                    Edn::Keyword(name) | Edn::Str(name) => name.clone(),
                    other => {
                        return Err(format!(":f must be a keyword, found {}", other.describe()))
                    }
                };
                f.replace(name).is_some()
            }
            "key" => {
                let parsed = match entry {
                    Edn::Str(s) => Some(s),
                    Edn::Int(n) => Some(n.to_string()),
                    Edn::Nil => None,
                    other => {
                        return Err(format!(
                            ":key must be a string, an integer or nil, found {}",
                            other.describe()
                        ))
                    }
                };
                key.replace(parsed).is_some()
            }
            // Converted once `:f` is known: a `:txn` reads its value as
            // micro-operations.
            "value" => value.replace(entry).is_some(),
            "time" => match entry {
                Edn::Int(n) => time_ns.replace(to_u64(n, ":time")?).is_some(),
                other => {
                    return Err(format!(
                        ":time must be an integer, found {}",
                        other.describe()
                    ))
                }
            },
            "attempts" => match entry {
                Edn::Int(n) => {
                    let n =
                        u32::try_from(n).map_err(|_| format!(":attempts {n} is out of range"))?;
                    attempts.replace(n).is_some()
                }
                other => {
                    return Err(format!(
                        ":attempts must be an integer, found {}",
                        other.describe()
                    ))
                }
            },
            "degraded" => match entry {
                Edn::Bool(b) => degraded.replace(b).is_some(),
                other => {
                    return Err(format!(
                        ":degraded must be true or false, found {}",
                        other.describe()
                    ))
                }
            },
            "error" => {
                // Jepsen writes keywords, strings or vectors here; keep
                // strings as they are and spell anything else in EDN.
                let text = match entry.into_value()? {
                    Value::Str(s) => s,
                    other => other.to_string(),
                };
                error.replace(text).is_some()
            }
            _ => false, // Jepsen's :index and the like
        };
        if seen {
            return Err(format!("key :{name} appears twice"));
        }
    }
    if not_a_client {
        return Ok(None);
    }
    let kind = kind.ok_or("missing :type")?;
    let f = match f {
        Some(name) => parse_op_kind(&name)?,
        // Elle's test histories name no `:f`: their values are transactions.
        None if value.as_ref().is_some_and(Edn::looks_like_txn) => OpKind::Txn,
        None => return Err("missing :f".to_string()),
    };
    let value = match value {
        Some(edn) => edn.into_op_value(f)?,
        None => Value::Nil,
    };
    Ok(Some(LineEvent {
        process,
        event: Event {
            time_ns: 0,
            process: 0,
            kind,
            op: Op {
                f,
                key: key.flatten(),
                value,
            },
            attempts: attempts.unwrap_or(0),
            degraded: degraded.unwrap_or(false),
            error,
        },
        time_ns,
    }))
}

fn to_u64(n: i128, what: &str) -> Result<u64, String> {
    u64::try_from(n).map_err(|_| format!("{what} {n} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::MicroOp;

    #[test]
    fn reads_edn_maps_with_get_and_put_spellings() {
        let text = r#"
{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}
{:process 0, :type :ok, :f :append, :key "4", :value "x 0 1 y"}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 3, :type :invoke, :f :get, :key "4", :value nil, :index 7}
{:process 3, :type :ok, :f :get, :key "4", :value "x 0 1 y"}
{:process 5, :type :invoke, :f :put, :key "2", :value "a"}
"#;
        let h = parse_edn(text).unwrap();
        assert_eq!(h.len(), 5);
        assert_eq!(h.events[0].op.f, OpKind::Append);
        assert_eq!(h.events[0].op.key.as_deref(), Some("4"));
        assert_eq!(h.events[2].op.f, OpKind::Read);
        assert_eq!(h.events[2].time_ns, 2);
        assert_eq!(h.events[4].op.f, OpKind::Write);
        assert_eq!(h.events[4].op.value, Value::Str("a".into()));
    }

    #[test]
    fn edn_times_are_all_or_nothing() {
        let text = "{:process 0, :type :invoke, :f :read, :time 5}\n{:process 0, :type :ok, :f :read, :value 1}\n";
        let err = parse_edn(text).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains(":time"), "{err}");
    }

    #[test]
    fn edn_errors_name_the_line() {
        for (text, needle) in [
            ("{:process 0, :type :invoke}", "missing :f"),
            ("{:process 0, :type :begin, :f :read}", ":type :begin"),
            ("{:process 0 :type :invoke :f :read :f :read}", "twice"),
            ("{:process 0, :type :invoke, :f :read", "missing closing"),
            ("[1 2]", "one map per line"),
            ("{:process -1, :type :invoke, :f :read}", "out of range"),
            (
                "{:process 0, :type :invoke, :f :read, :value \"a}",
                "unterminated",
            ),
        ] {
            let err = parse_edn(&format!("\n{text}\n")).unwrap_err();
            assert_eq!(err.line, 2, "{text}");
            assert!(err.message.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn reads_txn_values_as_micro_operations() {
        let h = parse_edn(
            "{:process 2, :type :ok, :f :txn, :value [[:append 9 2] [:r :x [1 \"a\"]] [:w \"y\" nil]]}",
        )
        .unwrap();
        assert_eq!(h.events[0].op.f, OpKind::Txn);
        assert_eq!(
            h.events[0].op.value,
            Value::Txn(vec![
                MicroOp::append(9, 2),
                MicroOp::read_saw(
                    ":x",
                    Value::List(vec![Value::Int(1), Value::Str("a".into())])
                ),
                MicroOp::write("y", Value::Nil),
            ])
        );
    }

    #[test]
    fn elle_histories_without_process_or_f_are_one_client_of_txns() {
        let text = "{:index 0 :type :invoke, :value [[:append 253 1] [:r 253 nil]]}\n\
                    {:index 1 :type :ok      :value [[:append 253 1] [:r 253 [1]]]}\n";
        let h = parse_edn(text).unwrap();
        assert_eq!(h.len(), 2);
        assert!(h
            .events
            .iter()
            .all(|e| e.process == 0 && e.op.f == OpKind::Txn));
        assert_eq!(h.operations().unwrap().len(), 1);
    }

    #[test]
    fn txn_errors_name_the_line_and_the_micro_operation() {
        for (text, needle) in [
            (
                "{:process 0, :type :invoke, :f :txn, :value 3}",
                "vector of micro-operations",
            ),
            (
                "{:process 0, :type :invoke, :f :txn, :value [[:append 1 2] [:frob 1 2]]}",
                "micro-operation 2: expected [:append k v]",
            ),
            (
                "{:process 0, :type :invoke, :f :txn, :value [[:append 1]]}",
                "micro-operation 1: expected",
            ),
            (
                "{:process 0, :type :invoke, :f :txn, :value [[:r [1] nil]]}",
                "a key must be",
            ),
            ("{:process 0, :type :invoke, :value [1 2]}", "missing :f"),
        ] {
            let err = parse_edn(&format!("\n{text}\n")).unwrap_err();
            assert_eq!(err.line, 2, "{text}");
            assert!(err.message.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn processes_are_all_or_nothing() {
        let text =
            "{:type :invoke, :value [[:r 1 nil]]}\n{:process 3, :type :ok, :value [[:r 1 nil]]}\n";
        let err = parse_edn(text).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains(":process"), "{err}");
    }
}
