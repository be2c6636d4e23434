//! `[workload.txn]`: the shape of the transactions a workload with a `txn`
//! weight in its mix generates.
//!
//! Model: each transaction is `min_ops` to `max_ops` micro-operations (the
//! count drawn uniformly), each over one of the workload's `keys` (drawn
//! uniformly, named by their index `0`, `1`, …), each a read with
//! probability `read_share` and otherwise a write of the data model:
//! `[:append k v]` for `list-append`, `[:w k v]` for `rw-register`, with a
//! value no other write uses (the transactional checker relies on it).

use super::{ScenarioError, TxnModel};
use serde::{Deserialize, Serialize};

/// Cap on micro-operations per transaction: a longer one is a typo, and
/// every micro-operation is carried in the history and the log entry.
pub const MAX_TXN_OPS: u32 = 64;
/// Default `min_ops`.
pub const DEFAULT_TXN_MIN_OPS: u32 = 1;
/// Default `max_ops`: Elle's own generators use up to four.
pub const DEFAULT_TXN_MAX_OPS: u32 = 4;
/// Default `read_share`.
pub const DEFAULT_TXN_READ_SHARE: f64 = 0.5;

/// `[workload.txn]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxnWorkloadSpec {
    /// The data model of the micro-operations.
    #[serde(default = "default_model")]
    pub model: TxnModel,
    /// Fewest micro-operations in one transaction.
    #[serde(default = "default_min_ops")]
    pub min_ops: u32,
    /// Most micro-operations in one transaction.
    #[serde(default = "default_max_ops")]
    pub max_ops: u32,
    /// Probability that a micro-operation is a read.
    #[serde(default = "default_read_share")]
    pub read_share: f64,
}

fn default_model() -> TxnModel {
    TxnModel::ListAppend
}
fn default_min_ops() -> u32 {
    DEFAULT_TXN_MIN_OPS
}
fn default_max_ops() -> u32 {
    DEFAULT_TXN_MAX_OPS
}
fn default_read_share() -> f64 {
    DEFAULT_TXN_READ_SHARE
}

impl Default for TxnWorkloadSpec {
    fn default() -> Self {
        TxnWorkloadSpec {
            model: default_model(),
            min_ops: default_min_ops(),
            max_ops: default_max_ops(),
            read_share: default_read_share(),
        }
    }
}

/// Checks `[workload.txn]` against the mix: a transaction shape without a
/// `txn` weight would never be used, which is a mistake worth naming.
pub(super) fn validate(
    spec: Option<&TxnWorkloadSpec>,
    txn_weight: u32,
) -> Result<(), ScenarioError> {
    let Some(spec) = spec else {
        return Ok(());
    };
    let fail = |key: &str, message: String| {
        Err(ScenarioError::at_key(
            format!("workload.txn.{key}"),
            message,
        ))
    };
    if txn_weight == 0 {
        return Err(ScenarioError::at_key(
            "workload.txn",
            "transactions are configured but workload.mix gives txn no weight: add e.g. txn = 1 to workload.mix",
        ));
    }
    if spec.min_ops == 0 || spec.min_ops > MAX_TXN_OPS {
        return fail(
            "min_ops",
            format!("expected 1 to {MAX_TXN_OPS}, found {}", spec.min_ops),
        );
    }
    if spec.max_ops < spec.min_ops || spec.max_ops > MAX_TXN_OPS {
        return fail(
            "max_ops",
            format!(
                "expected {} (min_ops) to {MAX_TXN_OPS}, found {}",
                spec.min_ops, spec.max_ops
            ),
        );
    }
    if !(spec.read_share.is_finite() && (0.0..=1.0).contains(&spec.read_share)) {
        return fail(
            "read_share",
            format!(
                "expected a probability from 0 to 1, found {}",
                spec.read_share
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, weight: u32) -> Result<(), ScenarioError> {
        let spec: TxnWorkloadSpec = toml::from_str(text)
            .map_err(|e| ScenarioError::at_key("workload.txn", e.message().to_string()))?;
        validate(Some(&spec), weight)
    }

    #[test]
    fn defaults_are_short_list_append_transactions() {
        let spec: TxnWorkloadSpec = toml::from_str("").unwrap();
        assert_eq!(spec, TxnWorkloadSpec::default());
        assert_eq!(spec.model, TxnModel::ListAppend);
        assert!(check("", 1).is_ok());
        assert!(check("model = \"rw-register\"\nmin_ops = 2\nmax_ops = 64", 1).is_ok());
    }

    #[test]
    fn every_bad_knob_names_itself() {
        let key = |text: &str, weight| check(text, weight).unwrap_err().key;
        assert_eq!(key("", 0), "workload.txn");
        assert_eq!(key("min_ops = 0", 1), "workload.txn.min_ops");
        assert_eq!(key("min_ops = 65\nmax_ops = 65", 1), "workload.txn.min_ops");
        assert_eq!(key("min_ops = 3\nmax_ops = 2", 1), "workload.txn.max_ops");
        assert_eq!(key("max_ops = 65", 1), "workload.txn.max_ops");
        assert_eq!(key("read_share = 1.5", 1), "workload.txn.read_share");
        assert_eq!(key("read_share = nan", 1), "workload.txn.read_share");
        let message = check("max_ops = 100", 1).unwrap_err().message;
        assert!(message.contains("to 64, found 100"), "{message}");
        assert!(toml::from_str::<TxnWorkloadSpec>("typo = 1").is_err());
        assert!(toml::from_str::<TxnWorkloadSpec>("model = \"bank\"").is_err());
    }
}
