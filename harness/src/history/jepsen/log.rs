//! Jepsen's log lines: `INFO  jepsen.util - 3\t:invoke\t:read\tnil`.

use super::edn::parse_single_value;
use super::{parse_event_type, parse_op_kind, ParseError};
use crate::history::{Event, EventType, History, Op};

/// Parses Jepsen log lines; lines of any other shape are skipped.
pub fn parse_log(text: &str) -> Result<History, ParseError> {
    let mut history = History::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let Some(fields) = log_event_fields(line) else {
            continue;
        };
        let error = |message: String| ParseError {
            line: line_number,
            message,
        };
        let process = fields
            .process
            .parse::<u64>()
            .map_err(|_| error(format!("process number {} is too large", fields.process)))?;
        let f = parse_op_kind(fields.f).map_err(error)?;
        let value = parse_single_value(fields.value)
            .and_then(|edn| edn.into_op_value(f))
            .map_err(|message| error(format!("value {:?}: {message}", fields.value.trim())))?;
        let time_ns = history.len() as u64;
        history.push(Event {
            time_ns,
            process,
            kind: fields.kind,
            op: Op {
                f,
                key: None,
                value,
            },
            attempts: 0,
            degraded: false,
            error: None,
        });
    }
    Ok(history)
}

struct LogFields<'a> {
    process: &'a str,
    kind: EventType,
    f: &'a str,
    value: &'a str,
}

/// Splits `… jepsen.util - <process> :<type> :<f> <value>` into its fields,
/// or says the line is not an event (`None`).
fn log_event_fields(line: &str) -> Option<LogFields<'_>> {
    let (_, rest) = line.split_once("jepsen.util")?;
    let rest = rest.trim_start().strip_prefix('-')?;
    let (process, rest) = split_token(rest)?;
    if !process.bytes().all(|b| b.is_ascii_digit()) {
        return None; // e.g. `:nemesis`
    }
    let (kind, rest) = split_token(rest)?;
    let kind = parse_event_type(kind.strip_prefix(':')?)?;
    let (f, value) = split_token(rest)?;
    let f = f.strip_prefix(':')?;
    Some(LogFields {
        process,
        kind,
        f,
        value,
    })
}

/// The first whitespace-separated token and the rest after it.
fn split_token(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    Some((&text[..end], &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{OpKind, Value};

    #[test]
    fn reads_log_lines_and_skips_other_output() {
        let text = "\
INFO  jepsen.util - 3\t:invoke\t:read\tnil
INFO  jepsen.core - Worker 3 starting
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
INFO  jepsen.util - 3\t:ok\t:read\t2
INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]
INFO  jepsen.util - 2\t:fail\t:cas\t[3 0]
INFO  jepsen.util - 4\t:info\t:write\t:timed-out
";
        let h = parse_log(text).unwrap();
        assert_eq!(h.len(), 5);
        assert_eq!(h.events[0].kind, EventType::Invoke);
        assert_eq!(h.events[0].op.f, OpKind::Read);
        assert_eq!(h.events[0].op.value, Value::Nil);
        assert_eq!(h.events[1].op.value, Value::Int(2));
        assert_eq!(h.events[1].time_ns, 1);
        assert_eq!(
            h.events[3].op.value,
            Value::List(vec![Value::Int(3), Value::Int(0)])
        );
        assert_eq!(h.events[3].kind, EventType::Fail);
        assert_eq!(h.events[4].process, 4);
        assert_eq!(h.events[4].op.value, Value::Str(":timed-out".into()));
    }

    #[test]
    fn log_errors_name_the_line() {
        let text =
            "INFO  jepsen.util - 3\t:invoke\t:read\tnil\nINFO  jepsen.util - 3\t:ok\t:frob\t2\n";
        let err = parse_log(text).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err
            .to_string()
            .starts_with("line 2: unknown operation :frob"));
        let err = parse_log("INFO  jepsen.util - 3\t:ok\t:read\t[1 2\n").unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn reads_txns_in_log_lines() {
        let h =
            parse_log("INFO  jepsen.util - 1\t:ok\t:txn\t[[:append 3 1] [:r 3 [1]]]\n").unwrap();
        assert_eq!(
            h.events[0].op.value,
            Value::Txn(vec![
                crate::history::MicroOp::append(3, 1),
                crate::history::MicroOp::read_saw(3, vec![1]),
            ])
        );
    }
}
