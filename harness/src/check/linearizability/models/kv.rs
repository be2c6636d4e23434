//! One key of a string-valued key-value store: get, put, append and cas.
//! An absent key reads as the empty string (so `nil` and `""` are the same
//! value here).

use super::interner::SliceInterner;
use super::register::cas_pair;
use super::{on_key, one_of, unsupported};
use crate::check::linearizability::memo::FixedMap;
use crate::check::linearizability::model::{HistoryModel, Model, Observed};
use crate::history::{OpKind, Operation, Outcome, Value};

/// One key's value. States are ids of interned strings; an append computes
/// its result once per (state, appended value) and remembers it, so the
/// search compares and hashes integers, and builds a string only the first
/// time it meets one.
#[derive(Clone, Debug)]
pub struct Kv {
    key: Option<String>,
    strings: SliceInterner<u8>,
    appended: FixedMap<(u32, u32), u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvInput {
    Read,
    Write(u32),
    Append(u32),
    Cas {
        expected: u32,
        new: u32,
    },
    /// A cas that failed its comparison: at some instant the key held
    /// something other than `expected`.
    CasFailed {
        expected: u32,
        new: u32,
    },
}

impl Kv {
    /// The id of the empty string, which is also the absent key.
    pub const EMPTY: u32 = 0;

    pub fn for_key(key: Option<&str>) -> Kv {
        let mut kv = Kv {
            key: key.map(str::to_string),
            strings: SliceInterner::new(),
            appended: FixedMap::default(),
        };
        kv.intern("");
        kv
    }

    /// The id of `s` (interning it), for building inputs by hand.
    pub fn intern(&mut self, s: &str) -> u32 {
        self.strings.intern(s.as_bytes())
    }

    fn intern_value(&mut self, value: &Value) -> Result<u32, String> {
        match value {
            Value::Nil => Ok(Kv::EMPTY),
            Value::Str(s) => Ok(self.intern(s)),
            Value::Int(n) => Ok(self.intern(&n.to_string())),
            Value::List(_) | Value::Txn(_) => {
                Err(format!("the kv model stores strings, found {value}"))
            }
        }
    }

    /// For messages. Interned strings are concatenations of `str`s, so
    /// the conversion never actually replaces anything.
    fn string(&self, id: u32) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.strings.get(id))
    }
}

impl Model for Kv {
    type State = u32;
    type Input = KvInput;
    /// What a read returned; unused otherwise.
    type Output = u32;

    fn init(&mut self) -> u32 {
        Kv::EMPTY
    }

    #[inline]
    fn step(&mut self, state: &u32, input: &KvInput, output: Option<&u32>) -> Option<u32> {
        match *input {
            KvInput::Read => match output {
                Some(read) => (read == state).then_some(*state),
                None => Some(*state),
            },
            KvInput::Write(value) => Some(value),
            KvInput::Append(suffix) => {
                if let Some(&next) = self.appended.get(&(*state, suffix)) {
                    return Some(next);
                }
                let next = self.strings.concat(*state, suffix);
                self.appended.insert((*state, suffix), next);
                Some(next)
            }
            KvInput::Cas { expected, new } => (*state == expected).then_some(new),
            KvInput::CasFailed { expected, .. } => (*state != expected).then_some(*state),
        }
    }

    fn memory_bytes(&self) -> u64 {
        self.strings.memory_bytes() + super::map_bytes(&self.appended) as u64
    }

    fn is_read_only(&self, input: &KvInput) -> bool {
        matches!(input, KvInput::Read | KvInput::CasFailed { .. })
    }

    fn describe_op(&self, input: &KvInput, output: Option<&u32>) -> String {
        match *input {
            KvInput::Read => match output {
                Some(&read) => format!("read -> {:?}", self.string(read)),
                None => "read -> ?".to_string(),
            },
            KvInput::Write(value) => format!("write {:?}", self.string(value)),
            KvInput::Append(value) => format!("append {:?}", self.string(value)),
            KvInput::Cas { expected, new } => {
                format!("cas [{:?} {:?}]", self.string(expected), self.string(new))
            }
            KvInput::CasFailed { expected, new } => format!(
                "failed cas [{:?} {:?}]",
                self.string(expected),
                self.string(new)
            ),
        }
    }

    fn describe_state(&self, state: &u32) -> String {
        format!("{:?}", self.string(*state))
    }

    fn expectation(&self, input: &KvInput, _output: Option<&u32>, seen: &[u32]) -> Option<String> {
        if seen.is_empty() {
            return None;
        }
        let held = one_of(seen.iter().map(|s| self.describe_state(s)).collect());
        let key = self.key.as_deref();
        Some(match *input {
            KvInput::Read => format!(
                "{} to return one of {held}: the values the key could hold while it was pending, given the writes before and concurrent with it",
                on_key("read", key)
            ),
            KvInput::Cas { expected, .. } => format!(
                "{} to find {:?}, but the key could only hold one of {held} while the cas was pending",
                on_key("cas", key),
                self.string(expected)
            ),
            KvInput::CasFailed { expected, .. } => format!(
                "{} to find a value other than {expected:?} (its comparison failed), but the key could only hold {expected:?} while the cas was pending",
                on_key("failed cas", key),
                expected = self.string(expected)
            ),
            KvInput::Write(_) | KvInput::Append(_) => return None,
        })
    }
}

impl HistoryModel for Kv {
    fn translate(&mut self, op: &Operation) -> Result<(KvInput, Option<u32>), String> {
        let ok = op.outcome == Outcome::Ok;
        Ok(match op.f {
            OpKind::Read => {
                let output = if ok {
                    Some(self.intern_value(&op.output)?)
                } else {
                    None
                };
                (KvInput::Read, output)
            }
            OpKind::Write => (
                KvInput::Write(self.intern_value(&op.input)?),
                ok.then_some(0),
            ),
            OpKind::Append => (
                KvInput::Append(self.intern_value(&op.input)?),
                ok.then_some(0),
            ),
            OpKind::Cas => {
                let (expected, new) = cas_pair(&op.input)?;
                let input = KvInput::Cas {
                    expected: self.intern_value(expected)?,
                    new: self.intern_value(new)?,
                };
                (input, ok.then_some(0))
            }
            other => {
                return Err(unsupported(
                    "kv",
                    other,
                    "read (get), write (put), append and cas",
                    "",
                ))
            }
        })
    }
    fn translate_failed(&mut self, op: &Operation) -> Observed<Self> {
        if op.f != OpKind::Cas {
            return None;
        }
        Some(cas_pair(&op.input).and_then(|(expected, new)| {
            let input = KvInput::CasFailed {
                expected: self.intern_value(expected)?,
                new: self.intern_value(new)?,
            };
            Ok((input, 0))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_concatenate_and_an_absent_key_reads_empty() {
        let mut kv = Kv::for_key(Some("k"));
        let x = kv.intern("x ");
        let y = kv.intern("y ");
        let xy = kv.intern("x y ");
        let s = kv.init();
        assert_eq!(kv.step(&s, &KvInput::Read, Some(&Kv::EMPTY)), Some(s));
        let s = kv.step(&s, &KvInput::Append(x), None).unwrap();
        let s = kv.step(&s, &KvInput::Append(y), Some(&0)).unwrap();
        assert_eq!(s, xy, "interning makes equal strings equal ids");
        assert_eq!(kv.step(&s, &KvInput::Read, Some(&xy)), Some(xy));
        assert_eq!(kv.step(&s, &KvInput::Read, Some(&x)), None);
        let s = kv.step(&s, &KvInput::Write(y), Some(&0)).unwrap();
        assert_eq!(kv.describe_state(&s), "\"y \"");
        let cas = KvInput::Cas {
            expected: y,
            new: x,
        };
        assert_eq!(kv.step(&s, &cas, Some(&0)), Some(x));
        assert_eq!(kv.step(&x, &cas, Some(&0)), None);
        assert!(kv
            .expectation(&KvInput::Read, Some(&x), &[xy])
            .unwrap()
            .starts_with("read of key \"k\" to return one of {\"x y \"}"));
    }
}
