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
//! ```
//!
//! `:process`, `:type` and `:f` are required; `:value` defaults to `nil`;
//! `:key`, `:time` (nanoseconds), `:attempts` and `:degraded` are optional;
//! other keys (Jepsen's `:index`, `:error`, …) are read and ignored. Lines
//! whose `:process` is not an integer (Jepsen's `:nemesis`) are skipped.
//!
//! Neither Jepsen format has to carry times: an event without one gets its
//! index in the history as its time, which keeps the order (the only thing
//! the checkers need). In EDN either every event has a `:time` or none has.
//!
//! Values map onto [`Value`]: `nil`, integers, strings and vectors as
//! themselves; EDN keywords, booleans, symbols and non-integer numbers have
//! no [`Value`] of their own and become strings spelled as in the source
//! (`:timed-out` becomes `":timed-out"`). Jepsen writes such values only
//! where they carry no data a checker reads (the value of an `info`
//! completion).

use super::{Event, EventType, History, Op, OpKind, Value};
use std::fmt::{self, Write as _};

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

/// Guesses the format from the first line that is not blank: EDN lines are
/// maps and so start with `{`.
pub fn detect_format(text: &str) -> Format {
    let first = text.lines().map(str::trim).find(|line| !line.is_empty());
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
            .and_then(|edn| edn.into_value())
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

/// Parses one EDN map per line. Blank lines and `;` comments are skipped.
pub fn parse_edn(text: &str) -> Result<History, ParseError> {
    let mut history = History::new();
    // Whether the events so far carried `:time`; fixed by the first event.
    let mut timed: Option<bool> = None;
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
        event.time_ns = line_event.time_ns.unwrap_or(history.len() as u64);
        history.push(event);
    }
    Ok(history)
}

struct LineEvent {
    event: Event,
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
            "value" => value.replace(entry.into_value()?).is_some(),
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
    let process = process.ok_or("missing :process")?;
    let kind = kind.ok_or("missing :type")?;
    let f = parse_op_kind(&f.ok_or("missing :f")?)?;
    Ok(Some(LineEvent {
        event: Event {
            time_ns: 0,
            process,
            kind,
            op: Op {
                f,
                key: key.flatten(),
                value: value.unwrap_or(Value::Nil),
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
    }
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

/// The subset of EDN that histories use, plus enough of the rest to skip
/// keys we do not read.
#[derive(Clone, Debug, PartialEq)]
enum Edn {
    Nil,
    Bool(bool),
    /// Wide enough for every `u64` and `i64`.
    Int(i128),
    Str(String),
    Keyword(String),
    /// Symbols and numbers that are not integers, spelled as in the source.
    Other(String),
    Vector(Vec<Edn>),
    List(Vec<Edn>),
    Set(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
}

impl Edn {
    fn describe(&self) -> String {
        match self {
            Edn::Nil => "nil".to_string(),
            Edn::Bool(b) => b.to_string(),
            Edn::Int(n) => n.to_string(),
            Edn::Str(s) => format!("{s:?}"),
            Edn::Keyword(k) => format!(":{k}"),
            Edn::Other(s) => s.clone(),
            Edn::Vector(_) => "a vector".to_string(),
            Edn::List(_) => "a list".to_string(),
            Edn::Set(_) => "a set".to_string(),
            Edn::Map(_) => "a map".to_string(),
        }
    }

    fn into_value(self) -> Result<Value, String> {
        Ok(match self {
            Edn::Nil => Value::Nil,
            Edn::Bool(b) => Value::Str(b.to_string()),
            Edn::Int(n) => Value::Int(
                i64::try_from(n).map_err(|_| format!("integer {n} does not fit in 64 bits"))?,
            ),
            Edn::Str(s) => Value::Str(s),
            Edn::Keyword(k) => Value::Str(format!(":{k}")),
            Edn::Other(s) => Value::Str(s),
            Edn::Vector(items) | Edn::List(items) => Value::List(
                items
                    .into_iter()
                    .map(Edn::into_value)
                    .collect::<Result<_, _>>()?,
            ),
            Edn::Set(_) | Edn::Map(_) => {
                return Err(format!(
                    "{} cannot be an operation's value",
                    self.describe()
                ))
            }
        })
    }
}

/// Parses `text` as exactly one EDN value (surrounding whitespace allowed).
fn parse_single_value(text: &str) -> Result<Edn, String> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    let value = reader.value(0)?;
    reader.skip_whitespace();
    if reader.pos != reader.bytes.len() {
        return Err(format!(
            "unexpected {:?} after the value",
            reader.text[reader.pos..].chars().next().unwrap_or(' ')
        ));
    }
    Ok(value)
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_EDN_DEPTH: usize = 64;

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn skip_whitespace(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b.is_ascii_whitespace() || b == b',' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Edn, String> {
        if depth > MAX_EDN_DEPTH {
            return Err(format!("values nest deeper than {MAX_EDN_DEPTH} levels"));
        }
        self.skip_whitespace();
        let Some(&b) = self.bytes.get(self.pos) else {
            return Err("expected a value, found the end of the line".to_string());
        };
        match b {
            b'"' => self.string().map(Edn::Str),
            b'[' => {
                self.pos += 1;
                self.sequence(b']', depth).map(Edn::Vector)
            }
            b'(' => {
                self.pos += 1;
                self.sequence(b')', depth).map(Edn::List)
            }
            b'{' => {
                self.pos += 1;
                let items = self.sequence(b'}', depth)?;
                if items.len() % 2 != 0 {
                    return Err("a map needs an even number of forms".to_string());
                }
                let mut entries = Vec::with_capacity(items.len() / 2);
                let mut items = items.into_iter();
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    entries.push((k, v));
                }
                Ok(Edn::Map(entries))
            }
            b'#' => {
                self.pos += 1;
                match self.bytes.get(self.pos) {
                    Some(b'{') => {
                        self.pos += 1;
                        self.sequence(b'}', depth).map(Edn::Set)
                    }
                    Some(b'_') => Err("#_ (discard) is not supported".to_string()),
                    _ => {
                        // A tagged literal (`#inst "…"`): keep the value.
                        self.atom()?;
                        self.value(depth + 1)
                    }
                }
            }
            b']' | b')' | b'}' => Err(format!("unexpected {:?}", b as char)),
            _ => self.atom(),
        }
    }

    fn sequence(&mut self, close: u8, depth: usize) -> Result<Vec<Edn>, String> {
        let mut items = Vec::new();
        loop {
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                None => return Err(format!("missing closing {:?}", close as char)),
                Some(&b) if b == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => items.push(self.value(depth + 1)?),
            }
        }
    }

    /// A token up to the next delimiter: nil, booleans, numbers, keywords,
    /// symbols.
    fn atom(&mut self) -> Result<Edn, String> {
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            if b.is_ascii_whitespace()
                || matches!(b, b',' | b'[' | b']' | b'(' | b')' | b'{' | b'}' | b'"')
            {
                break;
            }
            self.pos += 1;
        }
        let token = &self.text[start..self.pos];
        if token.is_empty() {
            return Err("expected a value".to_string());
        }
        Ok(match token {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            _ => {
                if let Some(name) = token.strip_prefix(':') {
                    if name.is_empty() {
                        return Err("a keyword needs a name after ':'".to_string());
                    }
                    Edn::Keyword(name.to_string())
                } else if is_integer(token) {
                    Edn::Int(
                        token
                            .parse::<i128>()
                            .map_err(|_| format!("integer {token} is too large"))?,
                    )
                } else {
                    Edn::Other(token.to_string())
                }
            }
        })
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(special) = rest.find(['"', '\\']) else {
                return Err("unterminated string".to_string());
            };
            out.push_str(&rest[..special]);
            self.pos += special;
            if self.bytes[self.pos] == b'"' {
                self.pos += 1;
                return Ok(out);
            }
            // A backslash escape.
            let Some(&escape) = self.bytes.get(self.pos + 1) else {
                return Err("unterminated string".to_string());
            };
            self.pos += 2;
            match escape {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'n' => out.push('\n'),
                b't' => out.push('\t'),
                b'r' => out.push('\r'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'u' => {
                    let hex = self
                        .text
                        .get(self.pos..self.pos + 4)
                        .ok_or("\\u needs four hex digits")?;
                    let code = u32::from_str_radix(hex, 16)
                        .map_err(|_| format!("\\u{hex} is not four hex digits"))?;
                    let c = char::from_u32(code)
                        .ok_or_else(|| format!("\\u{hex} is not a character"))?;
                    out.push(c);
                    self.pos += 4;
                }
                other => return Err(format!("unknown escape \\{}", other as char)),
            }
        }
    }
}

fn is_integer(token: &str) -> bool {
    let digits = token
        .strip_prefix('-')
        .or_else(|| token.strip_prefix('+'))
        .unwrap_or(token);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    fn detects_the_format() {
        assert_eq!(detect_format("\n  {:process 0}"), Format::Edn);
        assert_eq!(
            detect_format("INFO  jepsen.util - 1\t:invoke\t:read\tnil"),
            Format::Log
        );
        let h = parse_history("INFO  jepsen.util - 1\t:invoke\t:write\t3\n").unwrap();
        assert_eq!(h.events[0].op.value, Value::Int(3));
    }

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
            prop::sample::select(OpKind::ALL.to_vec()),
            prop::option::of(any::<String>()),
            value_strategy(),
            prop_oneof![Just(0u32), any::<u32>()],
            (any::<bool>(), prop::option::of(any::<String>())),
        )
            .prop_map(
                |(time_ns, process, kind, f, key, value, attempts, (degraded, error))| Event {
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
            "\n", "INFO  jepsen.util - ", "3",
        ]), 0..40)) {
            let text: String = tokens.concat();
            let _ = parse_edn(&text);
            let _ = parse_log(&text);
        }
    }
}
