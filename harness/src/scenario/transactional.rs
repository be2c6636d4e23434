//! `[invariants.transactional]`: the run's `txn` operations must obey a
//! consistency model, checked Elle-style (see
//! [`crate::check::transactional`]).

use super::ScenarioError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the micro-operations of a transaction read and write state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxnModel {
    /// `[:append k v]` and `[:r k [..]]` over lists.
    ListAppend,
    /// `[:w k v]` and `[:r k v]` over registers, every written value unique.
    RwRegister,
}

impl TxnModel {
    pub const ALL: [TxnModel; 2] = [TxnModel::ListAppend, TxnModel::RwRegister];

    pub fn as_str(self) -> &'static str {
        match self {
            TxnModel::ListAppend => "list-append",
            TxnModel::RwRegister => "rw-register",
        }
    }
}

/// The consistency models a transactional history can be checked against,
/// strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Consistency {
    StrictSerializable,
    Serializable,
    SnapshotIsolation,
    RepeatableRead,
    ReadCommitted,
}

impl Consistency {
    pub const ALL: [Consistency; 5] = [
        Consistency::StrictSerializable,
        Consistency::Serializable,
        Consistency::SnapshotIsolation,
        Consistency::RepeatableRead,
        Consistency::ReadCommitted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Consistency::StrictSerializable => "strict-serializable",
            Consistency::Serializable => "serializable",
            Consistency::SnapshotIsolation => "snapshot-isolation",
            Consistency::RepeatableRead => "repeatable-read",
            Consistency::ReadCommitted => "read-committed",
        }
    }
}

fn parse_named<T: Copy>(
    text: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    what: &str,
) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|v| name(*v) == text)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
            format!(
                "unknown {what} \"{text}\": expected one of {}",
                names.join(", ")
            )
        })
}

impl FromStr for TxnModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_named(s, &TxnModel::ALL, TxnModel::as_str, "transactional model")
    }
}

impl FromStr for Consistency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_named(
            s,
            &Consistency::ALL,
            Consistency::as_str,
            "consistency model",
        )
    }
}

impl fmt::Display for TxnModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[invariants.transactional]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionalSpec {
    pub model: TxnModel,
    /// The model the history must obey; the strongest if unset.
    #[serde(default = "default_consistency")]
    pub consistency: Consistency,
    /// Most transactions checked; the checker's default if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_txns: Option<u64>,
    /// Most inferred dependency edges; the checker's default if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_edges: Option<u64>,
    /// Most steps spent finding example cycles; the checker's default if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_search_steps: Option<u64>,
}

fn default_consistency() -> Consistency {
    Consistency::StrictSerializable
}

impl TransactionalSpec {
    pub fn new(model: TxnModel, consistency: Consistency) -> TransactionalSpec {
        TransactionalSpec {
            model,
            consistency,
            max_txns: None,
            max_edges: None,
            max_search_steps: None,
        }
    }
}

pub(super) fn validate(spec: &TransactionalSpec) -> Result<(), ScenarioError> {
    for (key, value) in [
        ("max_txns", spec.max_txns),
        ("max_edges", spec.max_edges),
        ("max_search_steps", spec.max_search_steps),
    ] {
        if value == Some(0) {
            return Err(ScenarioError::at_key(
                format!("invariants.transactional.{key}"),
                "must be at least 1 (leave it out for the default)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_alike() {
        for model in TxnModel::ALL {
            assert_eq!(model.as_str().parse::<TxnModel>(), Ok(model));
        }
        for level in Consistency::ALL {
            assert_eq!(level.as_str().parse::<Consistency>(), Ok(level));
        }
        let err = "serialisable".parse::<Consistency>().unwrap_err();
        assert!(err.contains("strict-serializable, serializable"), "{err}");
    }
}
