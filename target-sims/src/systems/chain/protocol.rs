//! The chain's two line protocols (see [`crate::systems::wire`] for values).
//!
//! Client → gateway, and gateway → backend with a request id in front:
//! `r KEY`, `w KEY VALUE`, `c KEY EXPECTED NEW`.
//!
//! Backend → gateway, after the same id: `ok VALUE` (a read), `ok` (a write
//! or a cas that applied), `fail` (a cas whose comparison failed), `busy
//! REASON` (refused before doing any work), `error TEXT`.
//!
//! Gateway → client: `STATUS VALUE ATTEMPTS NOTE`, where STATUS is `ok`,
//! `fail` (a definite no: the cas comparison failed), `unavailable` (the
//! request certainly did not happen) or `unknown` (a write that may have
//! happened); ATTEMPTS counts the calls the gateway's policies started for
//! it; NOTE says where an `ok` read came from (`primary`, `cache`,
//! `default`) or why a request failed (`timeout`, `busy`, …).

use crate::systems::wire::{decode_value, encode_value};
use harness::history::{Op, OpKind, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
    Cas,
}

impl Kind {
    /// Whether a lost answer leaves the outcome unknown.
    pub fn is_mutation(self) -> bool {
        self != Kind::Read
    }
}

/// One key-value request, as the gateway forwards it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub kind: Kind,
    pub key: String,
    /// The request's text, without id or newline.
    pub line: String,
}

impl Request {
    pub fn parse(line: &str) -> Option<Request> {
        let words: Vec<&str> = line.split(' ').collect();
        let (kind, key) = match words.as_slice() {
            ["r", key] => (Kind::Read, key),
            ["w", key, _] => (Kind::Write, key),
            ["c", key, _, _] => (Kind::Cas, key),
            _ => return None,
        };
        Some(Request {
            kind,
            key: key.to_string(),
            line: line.to_string(),
        })
    }

    pub fn read(key: impl Into<String>) -> Request {
        let key = key.into();
        Request {
            kind: Kind::Read,
            line: format!("r {key}"),
            key,
        }
    }

    /// The request for a workload operation, if the chain supports it.
    pub fn from_op(op: &Op) -> Option<Request> {
        let key = op.key.as_deref().unwrap_or("k0");
        let line = match (op.f, &op.value) {
            (OpKind::Read, _) => format!("r {key}"),
            (OpKind::Write, v) => format!("w {key} {}", encode_value(v)),
            (OpKind::Cas, Value::List(pair)) if pair.len() == 2 => format!(
                "c {key} {} {}",
                encode_value(&pair[0]),
                encode_value(&pair[1])
            ),
            _ => return None,
        };
        Request::parse(&line)
    }
}

/// A backend's answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendReply {
    /// A read's value.
    Value(Value),
    /// A write, or a cas that applied.
    Done,
    /// A cas whose comparison failed.
    CasFailed,
    /// Refused without doing any work: overloaded.
    Busy(String),
    Error(String),
}

impl BackendReply {
    pub fn encode(&self) -> String {
        match self {
            BackendReply::Value(v) => format!("ok {}", encode_value(v)),
            BackendReply::Done => "ok".into(),
            BackendReply::CasFailed => "fail".into(),
            BackendReply::Busy(reason) => format!("busy {reason}"),
            BackendReply::Error(text) => format!("error {text}"),
        }
    }

    pub fn parse(text: &str) -> BackendReply {
        match text.split_once(' ') {
            None if text == "ok" => BackendReply::Done,
            None if text == "fail" => BackendReply::CasFailed,
            Some(("ok", value)) => BackendReply::Value(decode_value(value)),
            Some(("busy", reason)) => BackendReply::Busy(reason.to_string()),
            Some(("error", text)) => BackendReply::Error(text.to_string()),
            _ => BackendReply::Error(format!("unreadable reply: {text}")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// A definite negative answer.
    Fail,
    /// Certainly not applied.
    Unavailable,
    /// A mutation that may have been applied.
    Unknown,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Fail => "fail",
            Status::Unavailable => "unavailable",
            Status::Unknown => "unknown",
        }
    }
}

/// The gateway's answer to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayReply {
    pub status: Status,
    pub value: Value,
    pub attempts: u32,
    /// Source of an ok answer, or the reason for a failure; one word.
    pub note: String,
}

impl GatewayReply {
    pub fn encode(&self) -> String {
        format!(
            "{} {} {} {}",
            self.status.as_str(),
            encode_value(&self.value),
            self.attempts,
            self.note
        )
    }

    pub fn parse(text: &str) -> Option<GatewayReply> {
        let words: Vec<&str> = text.split(' ').collect();
        let [status, value, attempts, note] = words.as_slice() else {
            return None;
        };
        let status = match *status {
            "ok" => Status::Ok,
            "fail" => Status::Fail,
            "unavailable" => Status::Unavailable,
            "unknown" => Status::Unknown,
            _ => return None,
        };
        Some(GatewayReply {
            status,
            value: decode_value(value),
            attempts: attempts.parse().ok()?,
            note: note.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip() {
        for reply in [
            BackendReply::Value(Value::Int(3)),
            BackendReply::Value(Value::Nil),
            BackendReply::Done,
            BackendReply::CasFailed,
            BackendReply::Busy("queue_full".into()),
        ] {
            assert_eq!(BackendReply::parse(&reply.encode()), reply);
        }
        let reply = GatewayReply {
            status: Status::Ok,
            value: Value::Int(7),
            attempts: 3,
            note: "cache".into(),
        };
        assert_eq!(GatewayReply::parse(&reply.encode()), Some(reply));
    }

    #[test]
    fn requests_come_from_operations() {
        let op = Op {
            f: OpKind::Cas,
            key: Some("k2".into()),
            value: Value::List(vec![Value::Nil, Value::Int(4)]),
        };
        let r = Request::from_op(&op).unwrap();
        assert_eq!(r.kind, Kind::Cas);
        assert_eq!(r.key, "k2");
        assert_eq!(r.line, "c k2 nil 4");
        assert_eq!(Request::parse("x k0"), None);
    }
}
