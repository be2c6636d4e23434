//! What a run records of its assertions: plain data, serialised into the
//! run record and report, and read by checkers, reports and searches.

use serde::{Deserialize, Serialize};

/// The property an assertion states (the SDK's "display type").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssertKind {
    /// Holds every time it is reached, and is reached.
    Always,
    /// Holds every time it is reached (reaching it is not required).
    AlwaysOrUnreachable,
    /// Holds at least once.
    Sometimes,
    /// Is reached at least once.
    Reachable,
    /// Is never reached.
    Unreachable,
}

impl AssertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AssertKind::Always => "always",
            AssertKind::AlwaysOrUnreachable => "always-or-unreachable",
            AssertKind::Sometimes => "sometimes",
            AssertKind::Reachable => "reachable",
            AssertKind::Unreachable => "unreachable",
        }
    }

    /// Whether one hit with a false condition fails the seed (the
    /// `always` family, and `unreachable`, whose condition is `false`).
    pub fn fails_seed(self) -> bool {
        matches!(
            self,
            AssertKind::Always | AssertKind::AlwaysOrUnreachable | AssertKind::Unreachable
        )
    }

    /// Whether the property asks for something to happen at least once in
    /// a sweep (`sometimes`, `reachable`): the ones a sweep reports when
    /// they never held.
    pub fn wants_once(self) -> bool {
        matches!(self, AssertKind::Sometimes | AssertKind::Reachable)
    }
}

/// Which way a numeric margin `left − right` is interesting to a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The larger, the closer to failing (an `always`) or holding (a
    /// `sometimes`).
    Maximize,
    Minimize,
}

impl Direction {
    /// Whether `new` is more extreme than `old` this way. NaN never is.
    pub fn improves(self, new: f64, old: f64) -> bool {
        match self {
            Direction::Maximize => new > old,
            Direction::Minimize => new < old,
        }
    }
}

/// One moment an assertion was hit, kept as evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Occurrence {
    /// Simulated time of the hit.
    pub time_ns: u64,
    /// Which of the run's assertion hits this was (1 for the first), to
    /// order hits at the same simulated time.
    pub hit: u64,
    /// The host whose software hit it, when the hit was inside a host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `file:line:column` of the site that was hit.
    pub site: String,
    /// The details the call site passed (merged with `left` and `right`
    /// for the numeric forms).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

/// The most extreme value a guided assertion saw in one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extreme {
    pub direction: Direction,
    /// `left − right` for a comparison; the number of parts that held for
    /// a boolean form.
    pub margin: f64,
    pub left: f64,
    pub right: f64,
    pub time_ns: u64,
}

/// One assertion's tally over one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssertionRecord {
    pub message: String,
    pub kind: AssertKind,
    /// `file:line:column` of every site with this message and kind that
    /// was hit, sorted.
    pub sites: Vec<String>,
    pub hits: u64,
    /// Hits whose condition held.
    pub passes: u64,
    /// Hits whose condition did not hold (every hit of `unreachable`).
    pub failures: u64,
    /// The first hit that held, for `sometimes` and `reachable`: when the
    /// property was first satisfied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_pass: Option<Occurrence>,
    /// The first hit that failed, for the kinds that fail a seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<Occurrence>,
    /// For the guided forms: the most extreme margin seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extreme: Option<Extreme>,
}

impl AssertionRecord {
    /// Whether this run broke the property (an `always` that failed, an
    /// `unreachable` that was reached).
    pub fn violated(&self) -> bool {
        self.kind.fails_seed() && self.failures > 0
    }

    /// Whether this run satisfied a `sometimes` or `reachable` (any kind:
    /// the condition held at least once).
    pub fn satisfied(&self) -> bool {
        self.passes > 0
    }
}
