//! Jepsen's two textual history formats, read and written.
//!
//! **Log lines** (what Jepsen prints while it runs; the shared etcd
//! histories), fields separated by tabs:
//!
//! ```text
//! INFO  jepsen.util - 3    :invoke    :read    nil
//! INFO  jepsen.util - 2    :fail      :cas     [3 0]
//! ```
//!
//! Only lines of this shape (a process number, an event type, an operation
//! and a value after `jepsen.util -`) are events; any other line (other log
//! output, nemesis lines whose process is not a number) is skipped.
//!
//! **EDN maps**, one per line (Jepsen's `history.edn`; what
//! [`write_edn`] produces):
//!
//! ```text
//! {:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y", :time 1200}
//! {:process 1, :type :ok, :f :txn, :value [[:append 3 1] [:r 4 [1 2]]], :time 1300}
//! ```
//!
//! `:type` is required; `:value` defaults to `nil`; `:key`, `:time`
//! (nanoseconds), `:attempts`, `:degraded` and `:error` are optional; other
//! keys (Jepsen's `:index`, …) are read and ignored. Lines whose `:process`
//! is not an integer (Jepsen's `:nemesis`) are skipped.
//!
//! Elle's published test histories leave out `:process` and `:f`, so: a
//! missing `:f` is `:txn` when the value is a vector of micro-operations
//! (otherwise an error), and a history whose events all lack `:process` is
//! one client, process 0. Like `:time`, `:process` is on every event or on
//! none.
//!
//! Neither Jepsen format has to carry times: an event without one gets its
//! index in the history as its time, which keeps the order (the only thing
//! the checkers need). In EDN either every event has a `:time` or none has.
//!
//! Values map onto [`Value`](super::Value): `nil`, integers, strings and
//! vectors as themselves; the value of a `:txn` operation is a vector of
//! micro-operations `[:append k v]`, `[:r k v]`, `[:w k v]` and becomes
//! [`Value::Txn`](super::Value::Txn) (a malformed one is an error that names
//! the micro-operation). Elsewhere EDN keywords, booleans, symbols and
//! non-integer numbers have no value of their own and become strings spelled
//! as in the source (`:timed-out` becomes `":timed-out"`). Jepsen writes
//! such values only where they carry no data a checker reads (the value of
//! an `info` completion).

mod edn;
mod log;
mod read;
mod write;

pub use log::parse_log;
pub use read::parse_edn;
pub use write::{write_edn, write_edn_event};

use super::{EventType, History, OpKind};
use std::fmt;

/// A line that has the shape of an event but cannot be read as one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number in the input.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Which of the two formats a text is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Jepsen log lines (`INFO  jepsen.util - 3 :invoke :read nil`, tab-separated).
    Log,
    /// One EDN map per line (`{:process 0, :type :invoke, …}`).
    Edn,
}

/// Guesses the format from the first line that is neither blank nor an
/// EDN `;` comment: EDN lines are maps and so start with `{`.
pub fn detect_format(text: &str) -> Format {
    let first = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with(';'));
    match first {
        Some(line) if line.starts_with('{') => Format::Edn,
        _ => Format::Log,
    }
}

/// Parses either format, detected with [`detect_format`].
pub fn parse_history(text: &str) -> Result<History, ParseError> {
    match detect_format(text) {
        Format::Log => parse_log(text),
        Format::Edn => parse_edn(text),
    }
}

fn parse_event_type(name: &str) -> Option<EventType> {
    Some(match name {
        "invoke" => EventType::Invoke,
        "ok" => EventType::Ok,
        "fail" => EventType::Fail,
        "info" => EventType::Info,
        _ => return None,
    })
}

fn parse_op_kind(name: &str) -> Result<OpKind, String> {
    OpKind::parse(name).ok_or_else(|| {
        let known: Vec<&str> = OpKind::ALL.iter().map(|k| k.as_str()).collect();
        format!(
            "unknown operation :{name}; expected one of {} (or get/put)",
            known.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn detects_the_format() {
        assert_eq!(detect_format("\n  {:process 0}"), Format::Edn);
        assert_eq!(detect_format("; a comment\n{:process 0}"), Format::Edn);
        assert_eq!(
            detect_format("INFO  jepsen.util - 1\t:invoke\t:read\tnil"),
            Format::Log
        );
        let h = parse_history("INFO  jepsen.util - 1\t:invoke\t:write\t3\n").unwrap();
        assert_eq!(h.events[0].op.value, super::super::Value::Int(3));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parsers_never_panic(text in ".{0,200}") {
            let _ = parse_edn(&text);
            let _ = parse_log(&text);
        }

        #[test]
        fn parsers_never_panic_on_near_misses(tokens in prop::collection::vec(prop::sample::select(vec![
            "{", "}", "[", "]", "(", ")", "#{", "#", ":process", ":type", ":invoke", ":ok", ":f",
            ":read", ":cas", ":value", ":key", ":time", ":degraded", "true", "nil", "0", "-1",
            "99999999999999999999999", "\"", "\"a\\", "\\u00e9", "\\u12", "é", ",", " ", "\t",
            "\n", "INFO  jepsen.util - ", "3", ":txn", ":append", ":r", "[:r 1 nil]",
        ]), 0..40)) {
            let text: String = tokens.concat();
            let _ = parse_edn(&text);
            let _ = parse_log(&text);
        }
    }
}
