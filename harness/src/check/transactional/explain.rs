//! One line per edge of a cycle: which key, which values.

use super::cycle::Step;
use super::graph::{label_name, RT, RW, WR, WW};
use super::prepare::{Mop, Prepared, Role};
use crate::history::MopKind;

pub(super) fn explain_step(p: &Prepared, step: &Step) -> String {
    let (a, b) = (p.name(step.from), p.name(step.to));
    let head = format!("{a} -{}-> {b}", label_name(step.label));
    if step.label == RT {
        return format!("{head}: {a} completed before {b} was invoked");
    }
    let key = p.key_name(step.key);
    let write = |txn: u32, last: bool| {
        let mut writes = p
            .mops(txn)
            .iter()
            .filter(|m| m.is_write() && m.key == step.key);
        let mop: Option<&Mop> = if last {
            writes.next_back()
        } else {
            writes.next()
        };
        mop.map(|m| {
            let verb = if m.kind == MopKind::Append {
                "append"
            } else {
                "write"
            };
            format!("{verb} of {}", p.value_name(m.arg))
        })
    };
    let external_read = |txn: u32| {
        p.mops(txn)
            .iter()
            .find(|m| m.role == Role::ExternalRead && m.key == step.key)
            .map(|m| p.read_text(m))
    };
    let unknown = || "?".to_string();
    match step.label {
        WW => format!(
            "{head}: on key {key}, {b}'s {} came after {a}'s {}",
            write(step.to, false).unwrap_or_else(unknown),
            write(step.from, true).unwrap_or_else(unknown)
        ),
        WR => format!(
            "{head}: {b} read key {key} as {}, which shows {a}'s {}",
            external_read(step.to).unwrap_or_else(unknown),
            write(step.from, true).unwrap_or_else(unknown)
        ),
        RW => format!(
            "{head}: {a} read key {key} as {}, before {b}'s {}",
            external_read(step.from).unwrap_or_else(unknown),
            write(step.to, false).unwrap_or_else(unknown)
        ),
        _ => head,
    }
}
