//! An integer counter that starts at 0: `add n` and `read`.

use super::{on_key, one_of, unsupported};
use crate::check::linearizability::model::{HistoryModel, Model};
use crate::history::{OpKind, Operation, Outcome, Value};

#[derive(Clone, Debug)]
pub struct Counter {
    key: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterInput {
    Add(i64),
    Read,
}

impl Counter {
    pub fn for_key(key: Option<&str>) -> Counter {
        Counter {
            key: key.map(str::to_string),
        }
    }
}

impl Model for Counter {
    type State = i64;
    type Input = CounterInput;
    /// What a read returned; unused for adds.
    type Output = i64;

    fn init(&mut self) -> i64 {
        0
    }

    #[inline]
    fn step(&mut self, state: &i64, input: &CounterInput, output: Option<&i64>) -> Option<i64> {
        match *input {
            // An overflowing counter is not a state the system can be in.
            CounterInput::Add(n) => state.checked_add(n),
            CounterInput::Read => match output {
                Some(read) => (read == state).then_some(*state),
                None => Some(*state),
            },
        }
    }

    fn is_read_only(&self, input: &CounterInput) -> bool {
        matches!(input, CounterInput::Read)
    }

    fn describe_op(&self, input: &CounterInput, output: Option<&i64>) -> String {
        match (input, output) {
            (CounterInput::Add(n), _) => format!("add {n}"),
            (CounterInput::Read, Some(read)) => format!("read -> {read}"),
            (CounterInput::Read, None) => "read -> ?".to_string(),
        }
    }

    fn describe_state(&self, state: &i64) -> String {
        state.to_string()
    }

    fn expectation(
        &self,
        input: &CounterInput,
        _output: Option<&i64>,
        seen: &[i64],
    ) -> Option<String> {
        if seen.is_empty() || *input != CounterInput::Read {
            return None;
        }
        Some(format!(
            "{} to return one of {}: the totals the counter could have while it was pending",
            on_key("read", self.key.as_deref()),
            one_of(seen.iter().map(|s| s.to_string()).collect())
        ))
    }
}

impl HistoryModel for Counter {
    fn translate(&mut self, op: &Operation) -> Result<(CounterInput, Option<i64>), String> {
        let ok = op.outcome == Outcome::Ok;
        match op.f {
            OpKind::Add => match op.input {
                Value::Int(n) => Ok((CounterInput::Add(n), ok.then_some(0))),
                ref other => Err(format!("an add takes an integer, found {other}")),
            },
            OpKind::Read if !ok => Ok((CounterInput::Read, None)),
            OpKind::Read => match op.output {
                Value::Int(n) => Ok((CounterInput::Read, Some(n))),
                ref other => Err(format!("a counter read returns an integer, found {other}")),
            },
            other => Err(unsupported("counter", other, "add and read", "")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_accumulate_and_reads_see_the_total() {
        let mut c = Counter::for_key(None);
        let s = c.init();
        let s = c.step(&s, &CounterInput::Add(3), Some(&0)).unwrap();
        let s = c.step(&s, &CounterInput::Add(-1), None).unwrap();
        assert_eq!(c.step(&s, &CounterInput::Read, Some(&2)), Some(2));
        assert_eq!(c.step(&s, &CounterInput::Read, Some(&3)), None);
        assert_eq!(c.step(&i64::MAX, &CounterInput::Add(1), None), None);
    }
}
