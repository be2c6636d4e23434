//! A read/write/compare-and-set register that starts as `nil`.

use super::{on_key, one_of, unsupported, ValueTable};
use crate::check::linearizability::model::{HistoryModel, Model, Observed};
use crate::history::{OpKind, Operation, Outcome, Value};

/// One register. States and values are ids in the register's value table.
#[derive(Clone, Debug)]
pub struct Register {
    key: Option<String>,
    values: ValueTable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterInput {
    Read,
    Write(u32),
    Cas {
        expected: u32,
        new: u32,
    },
    /// A cas that failed its comparison: at some instant the register
    /// held something other than `expected`.
    CasFailed {
        expected: u32,
        new: u32,
    },
}

impl Register {
    pub fn for_key(key: Option<&str>) -> Register {
        Register {
            key: key.map(str::to_string),
            values: ValueTable::new(),
        }
    }

    /// The id of `value` (interning it), for building inputs by hand.
    pub fn value_id(&mut self, value: &Value) -> u32 {
        self.values.intern(value)
    }
}

impl Model for Register {
    type State = u32;
    type Input = RegisterInput;
    /// What a read returned; unused for writes and cas.
    type Output = u32;

    fn init(&mut self) -> u32 {
        ValueTable::NIL
    }

    #[inline]
    fn step(&mut self, state: &u32, input: &RegisterInput, output: Option<&u32>) -> Option<u32> {
        match *input {
            RegisterInput::Read => match output {
                Some(read) => (read == state).then_some(*state),
                None => Some(*state),
            },
            RegisterInput::Write(value) => Some(value),
            // An `ok` cas and one that took effect with an unknown answer
            // both swapped; one that found another value did nothing, which
            // the search covers by not linearizing it at all.
            RegisterInput::Cas { expected, new } => (*state == expected).then_some(new),
            RegisterInput::CasFailed { expected, .. } => (*state != expected).then_some(*state),
        }
    }

    fn is_read_only(&self, input: &RegisterInput) -> bool {
        matches!(input, RegisterInput::Read | RegisterInput::CasFailed { .. })
    }

    fn describe_op(&self, input: &RegisterInput, output: Option<&u32>) -> String {
        match *input {
            RegisterInput::Read => match output {
                Some(&read) => format!("read -> {}", self.values.get(read)),
                None => "read -> ?".to_string(),
            },
            RegisterInput::Write(value) => format!("write {}", self.values.get(value)),
            RegisterInput::Cas { expected, new } => format!(
                "cas [{} {}]",
                self.values.get(expected),
                self.values.get(new)
            ),
            RegisterInput::CasFailed { expected, new } => format!(
                "failed cas [{} {}]",
                self.values.get(expected),
                self.values.get(new)
            ),
        }
    }

    fn describe_state(&self, state: &u32) -> String {
        self.values.get(*state).to_string()
    }

    fn expectation(
        &self,
        input: &RegisterInput,
        _output: Option<&u32>,
        seen: &[u32],
    ) -> Option<String> {
        if seen.is_empty() {
            return None;
        }
        let held = one_of(seen.iter().map(|s| self.describe_state(s)).collect());
        let key = self.key.as_deref();
        Some(match *input {
            RegisterInput::Read => format!(
                "{} to return one of {held}: the values the register could hold while it was pending, given the operations before and concurrent with it",
                on_key("read", key)
            ),
            RegisterInput::Cas { expected, .. } => format!(
                "{} to find {} in the register, but it could only hold one of {held} while the cas was pending",
                on_key("cas", key),
                self.values.get(expected)
            ),
            RegisterInput::CasFailed { expected, .. } => format!(
                "{} to find a value other than {expected} (its comparison failed), but the register could only hold {expected} while the cas was pending",
                on_key("failed cas", key),
                expected = self.values.get(expected)
            ),
            RegisterInput::Write(_) => return None,
        })
    }
}

impl HistoryModel for Register {
    fn translate(&mut self, op: &Operation) -> Result<(RegisterInput, Option<u32>), String> {
        let ok = op.outcome == Outcome::Ok;
        Ok(match op.f {
            OpKind::Read => (
                RegisterInput::Read,
                ok.then(|| self.values.intern(&op.output)),
            ),
            OpKind::Write => (
                RegisterInput::Write(self.values.intern(&op.input)),
                ok.then_some(0),
            ),
            OpKind::Cas => {
                let (expected, new) = cas_pair(&op.input)?;
                (
                    RegisterInput::Cas {
                        expected: self.values.intern(expected),
                        new: self.values.intern(new),
                    },
                    ok.then_some(0),
                )
            }
            other => {
                let hint = if other == OpKind::Append {
                    " (the kv model has append)"
                } else {
                    ""
                };
                return Err(unsupported("register", other, "read, write and cas", hint));
            }
        })
    }

    fn translate_failed(&mut self, op: &Operation) -> Observed<Self> {
        if op.f != OpKind::Cas {
            return None;
        }
        Some(cas_pair(&op.input).map(|(expected, new)| {
            let input = RegisterInput::CasFailed {
                expected: self.values.intern(expected),
                new: self.values.intern(new),
            };
            (input, 0)
        }))
    }
}

/// `[expected new]`.
pub(super) fn cas_pair(value: &Value) -> Result<(&Value, &Value), String> {
    match value {
        Value::List(items) if items.len() == 2 => Ok((&items[0], &items[1])),
        other => Err(format!("a cas takes [expected new], found {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_see_the_last_write_and_cas_needs_its_expected_value() {
        let mut r = Register::for_key(None);
        let three = r.value_id(&Value::Int(3));
        let zero = r.value_id(&Value::Int(0));
        let s = r.init();
        assert_eq!(
            r.step(&s, &RegisterInput::Read, Some(&ValueTable::NIL)),
            Some(s)
        );
        assert_eq!(r.step(&s, &RegisterInput::Read, Some(&three)), None);
        let s = r.step(&s, &RegisterInput::Write(three), Some(&0)).unwrap();
        assert_eq!(s, three);
        let cas = RegisterInput::Cas {
            expected: three,
            new: zero,
        };
        assert_eq!(r.step(&s, &cas, Some(&0)), Some(zero));
        assert_eq!(r.step(&zero, &cas, None), None);
        assert_eq!(r.describe_op(&cas, None), "cas [3 0]");
        assert_eq!(r.describe_state(&ValueTable::NIL), "nil");
    }
}
