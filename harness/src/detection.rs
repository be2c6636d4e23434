//! Detection signals: what a target does when it notices a fault.
//!
//! Model: a system notices a fault through its own machinery — a follower
//! whose leader went quiet becomes a candidate, a breaker opens, a lease
//! expires. A target names those reactions as [`DetectionSignal`]s
//! ([`crate::target::System::detection_signals`]), a scenario may replace
//! the list (`[invariants.availability] detection_signals`), and the
//! recovery measures ([`crate::check`]) take a fault's time to detect as
//! the time from its start to the first recorded signal. Signals are
//! matched against the run's record only: trace events, role changes and
//! assertion records, never the simulator.
//!
//! Written as text, a signal is `event:TEXT` (a `tracing` event whose label
//! `target: message [state=…]` contains TEXT, as `[[coverage]] event`
//! matches), `role:NAME` (a host taking role NAME, as the target reports
//! it; the harness clearing a crashed host's role never matches) or
//! `assertion:MESSAGE` (the first time the assertion MESSAGE held; an
//! assertion record keeps only its first passing hit, so it detects at
//! most the first fault of a run).

use crate::record::{TraceEvent, TraceKind};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One reaction of the target that means "noticed a fault".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DetectionSignal {
    /// A `tracing` event whose label contains this text.
    Event(String),
    /// A host taking this role.
    Role(String),
    /// The assertion with this message held (its first passing hit).
    Assertion(String),
}

/// The prefixes a signal's text form accepts, for error messages.
pub const SIGNAL_FORMS: &str = "event:TEXT, role:NAME or assertion:MESSAGE";

impl DetectionSignal {
    pub fn event(text: impl Into<String>) -> DetectionSignal {
        DetectionSignal::Event(text.into())
    }

    pub fn role(name: impl Into<String>) -> DetectionSignal {
        DetectionSignal::Role(name.into())
    }

    pub fn assertion(message: impl Into<String>) -> DetectionSignal {
        DetectionSignal::Assertion(message.into())
    }

    /// Parses `event:…`, `role:…` or `assertion:…`.
    pub fn parse(text: &str) -> Result<DetectionSignal, String> {
        let (form, rest) = text
            .split_once(':')
            .ok_or_else(|| format!("\"{text}\" has no form: expected {SIGNAL_FORMS}"))?;
        let rest = rest.trim();
        if rest.is_empty() {
            return Err(format!(
                "\"{text}\" names nothing after `{form}:`: expected {SIGNAL_FORMS}"
            ));
        }
        match form.trim() {
            "event" => Ok(DetectionSignal::event(rest)),
            "role" => Ok(DetectionSignal::role(rest)),
            "assertion" => Ok(DetectionSignal::assertion(rest)),
            other => Err(format!(
                "\"{text}\": unknown form `{other}:`, expected {SIGNAL_FORMS}"
            )),
        }
    }

    /// Whether a trace event is this signal (role changes are in the trace
    /// as `role` events whose message is the role taken).
    pub fn matches_trace(&self, event: &TraceEvent) -> bool {
        match self {
            DetectionSignal::Event(text) => {
                event.kind == TraceKind::Log && event.label().contains(text.as_str())
            }
            DetectionSignal::Role(name) => {
                // A role given up is written "no role" with the old role in
                // `was`; only taking `name` counts.
                event.kind == TraceKind::Role && event.message == *name
            }
            DetectionSignal::Assertion(_) => false,
        }
    }
}

impl fmt::Display for DetectionSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetectionSignal::Event(t) => write!(f, "event:{t}"),
            DetectionSignal::Role(r) => write!(f, "role:{r}"),
            DetectionSignal::Assertion(a) => write!(f, "assertion:{a}"),
        }
    }
}

impl Serialize for DetectionSignal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DetectionSignal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DetectionSignal, D::Error> {
        let text = String::deserialize(deserializer)?;
        DetectionSignal::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(kind: TraceKind, target: Option<&str>, message: &str) -> TraceEvent {
        TraceEvent {
            time_ns: 0,
            kind,
            source: "n1".into(),
            level: None,
            target: target.map(str::to_string),
            message: message.into(),
            fields: vec![("state".into(), "open".into())],
        }
    }

    #[test]
    fn signals_parse_print_and_match_what_they_name() {
        for text in ["event:breaker state changed [state=open]", "role:candidate"] {
            assert_eq!(DetectionSignal::parse(text).unwrap().to_string(), text);
        }
        assert!(DetectionSignal::parse("candidate").is_err());
        assert!(DetectionSignal::parse("role:").is_err());
        assert!(DetectionSignal::parse("log:x")
            .unwrap_err()
            .contains("unknown form"));
        let breaker = DetectionSignal::event("breaker state changed [state=open]");
        let log = trace(
            TraceKind::Log,
            Some("primitive::breaker"),
            "breaker state changed",
        );
        assert!(breaker.matches_trace(&log));
        assert!(!DetectionSignal::event("lease expired").matches_trace(&log));
        let candidate = DetectionSignal::role("candidate");
        assert!(candidate.matches_trace(&trace(TraceKind::Role, None, "candidate")));
        assert!(!candidate.matches_trace(&trace(TraceKind::Role, None, "no role")));
        assert!(!candidate.matches_trace(&trace(TraceKind::Log, None, "candidate")));
    }
}
