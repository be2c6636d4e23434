//! The subset of EDN that histories use, and its mapping onto [`Value`].

use crate::history::{MicroOp, MopKind, OpKind, Value};

/// The subset of EDN that histories use, plus enough of the rest to skip
/// keys we do not read.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Edn {
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
    pub(super) fn describe(&self) -> String {
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

    pub(super) fn into_value(self) -> Result<Value, String> {
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

    /// The value of an operation of kind `f`: micro-operations for a
    /// `:txn`, [`Edn::into_value`] for everything else.
    pub(super) fn into_op_value(self, f: OpKind) -> Result<Value, String> {
        if f != OpKind::Txn {
            return self.into_value();
        }
        let items = match self {
            Edn::Vector(items) | Edn::List(items) => items,
            other => {
                return Err(format!(
                    "a :txn's value must be a vector of micro-operations like [[:append 1 2] [:r 1 nil]], found {}",
                    other.describe()
                ))
            }
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                item.into_mop()
                    .map_err(|e| format!("micro-operation {}: {e}", i + 1))
            })
            .collect::<Result<_, _>>()
            .map(Value::Txn)
    }

    /// Whether this is a vector of `[:append|:r|:w …]` vectors: what Elle's
    /// test histories hold without naming `:f :txn`.
    pub(super) fn looks_like_txn(&self) -> bool {
        let (Edn::Vector(items) | Edn::List(items)) = self else {
            return false;
        };
        items.iter().all(|item| match item {
            Edn::Vector(parts) => matches!(
                parts.first(),
                Some(Edn::Keyword(name)) if MopKind::parse(name).is_some()
            ),
            _ => false,
        })
    }

    fn into_mop(self) -> Result<MicroOp, String> {
        const SHAPE: &str = "expected [:append k v], [:r k v] or [:w k v]";
        let parts = match self {
            Edn::Vector(parts) | Edn::List(parts) if parts.len() == 3 => parts,
            other => return Err(format!("{SHAPE}, found {}", other.describe())),
        };
        let mut parts = parts.into_iter();
        let (Some(f), Some(key), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SHAPE.to_string());
        };
        let f = match &f {
            Edn::Keyword(name) => MopKind::parse(name),
            _ => None,
        }
        .ok_or_else(|| format!("{SHAPE}, found {} first", f.describe()))?;
        let key = match key {
            Edn::Int(_) | Edn::Str(_) | Edn::Keyword(_) => key.into_value()?,
            other => {
                return Err(format!(
                    "a key must be an integer, a string or a keyword, found {}",
                    other.describe()
                ))
            }
        };
        Ok(MicroOp {
            f,
            key,
            value: value.into_value()?,
        })
    }
}

/// Parses `text` as exactly one EDN value (surrounding whitespace allowed).
pub(super) fn parse_single_value(text: &str) -> Result<Edn, String> {
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
