//! A FIFO queue: `enqueue v`, and `dequeue`, which answers the oldest
//! value or `nil` when the queue is empty.

use super::interner::SliceInterner;
use super::{on_key, one_of, unsupported, ValueTable};
use crate::check::linearizability::memo::FixedMap;
use crate::check::linearizability::model::{HistoryModel, Model};
use crate::history::{OpKind, Operation, Outcome};

/// One queue. A state is the id of an interned sequence of value ids;
/// transitions are computed once per (state, operation) and remembered.
#[derive(Clone, Debug)]
pub struct Queue {
    key: Option<String>,
    values: ValueTable,
    sequences: SliceInterner<u32>,
    /// (state, value id to enqueue or `DEQUEUE`) -> next state.
    transitions: FixedMap<(u32, u32), u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueInput {
    Enqueue(u32),
    Dequeue,
}

const DEQUEUE: u32 = u32::MAX;

impl Queue {
    /// The id of the empty queue.
    pub const EMPTY: u32 = 0;

    pub fn for_key(key: Option<&str>) -> Queue {
        let mut queue = Queue {
            key: key.map(str::to_string),
            values: ValueTable::new(),
            sequences: SliceInterner::new(),
            transitions: FixedMap::default(),
        };
        queue.sequences.intern(&[]);
        queue
    }

    /// The id of `value` (interning it), for building inputs by hand.
    pub fn value_id(&mut self, value: &crate::history::Value) -> u32 {
        self.values.intern(value)
    }

    fn transition(&mut self, state: u32, op: u32) -> u32 {
        if let Some(&next) = self.transitions.get(&(state, op)) {
            return next;
        }
        let next = if op == DEQUEUE {
            self.sequences.tail(state)
        } else {
            self.sequences.push(state, op)
        };
        self.transitions.insert((state, op), next);
        next
    }
}

impl Model for Queue {
    type State = u32;
    type Input = QueueInput;
    /// What a dequeue returned (`nil` for an empty queue); unused for
    /// enqueues.
    type Output = u32;

    fn init(&mut self) -> u32 {
        Queue::EMPTY
    }

    #[inline]
    fn step(&mut self, state: &u32, input: &QueueInput, output: Option<&u32>) -> Option<u32> {
        match *input {
            QueueInput::Enqueue(value) => Some(self.transition(*state, value)),
            QueueInput::Dequeue => {
                let head = self
                    .sequences
                    .get(*state)
                    .first()
                    .copied()
                    .unwrap_or(ValueTable::NIL);
                if output.is_some_and(|&got| got != head) {
                    return None;
                }
                if *state == Queue::EMPTY {
                    return Some(*state);
                }
                Some(self.transition(*state, DEQUEUE))
            }
        }
    }

    fn memory_bytes(&self) -> u64 {
        self.sequences.memory_bytes() + super::map_bytes(&self.transitions) as u64
    }

    fn describe_op(&self, input: &QueueInput, output: Option<&u32>) -> String {
        match (input, output) {
            (QueueInput::Enqueue(v), _) => format!("enqueue {}", self.values.get(*v)),
            (QueueInput::Dequeue, Some(v)) => format!("dequeue -> {}", self.values.get(*v)),
            (QueueInput::Dequeue, None) => "dequeue -> ?".to_string(),
        }
    }

    fn describe_state(&self, state: &u32) -> String {
        let items: Vec<String> = self
            .sequences
            .get(*state)
            .iter()
            .map(|&v| self.values.get(v).to_string())
            .collect();
        format!("[{}]", items.join(" "))
    }

    fn expectation(
        &self,
        input: &QueueInput,
        _output: Option<&u32>,
        seen: &[u32],
    ) -> Option<String> {
        if seen.is_empty() || *input != QueueInput::Dequeue {
            return None;
        }
        let heads = seen
            .iter()
            .map(|&s| {
                let head = self.sequences.get(s).first().copied();
                self.values.get(head.unwrap_or(ValueTable::NIL)).to_string()
            })
            .collect();
        Some(format!(
            "{} to return one of {}: the heads the queue could have while it was pending (nil when empty)",
            on_key("dequeue", self.key.as_deref()),
            one_of(heads)
        ))
    }
}

impl HistoryModel for Queue {
    fn translate(&mut self, op: &Operation) -> Result<(QueueInput, Option<u32>), String> {
        let ok = op.outcome == Outcome::Ok;
        match op.f {
            OpKind::Enqueue => Ok((
                QueueInput::Enqueue(self.values.intern(&op.input)),
                ok.then_some(0),
            )),
            OpKind::Dequeue => Ok((
                QueueInput::Dequeue,
                ok.then(|| self.values.intern(&op.output)),
            )),
            other => Err(unsupported("queue", other, "enqueue and dequeue", "")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Value;

    #[test]
    fn dequeues_return_values_in_enqueue_order() {
        let mut q = Queue::for_key(None);
        let a = q.value_id(&Value::Int(1));
        let b = q.value_id(&Value::Int(2));
        let s = q.init();
        assert_eq!(
            q.step(&s, &QueueInput::Dequeue, Some(&ValueTable::NIL)),
            Some(s)
        );
        let s = q.step(&s, &QueueInput::Enqueue(a), Some(&0)).unwrap();
        let s = q.step(&s, &QueueInput::Enqueue(b), Some(&0)).unwrap();
        assert_eq!(q.describe_state(&s), "[1 2]");
        assert_eq!(q.step(&s, &QueueInput::Dequeue, Some(&b)), None);
        let s = q.step(&s, &QueueInput::Dequeue, Some(&a)).unwrap();
        let s = q.step(&s, &QueueInput::Dequeue, None).unwrap();
        assert_eq!(s, Queue::EMPTY);
    }
}
