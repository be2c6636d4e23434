//! Histories the bundled suite produced that the linearizability checker
//! must decide. Each file in `tests/fixtures/histories/` is the
//! `history.edn` a run exported.

use harness::check::linearizability::{check, Budget, ModelKind};
use harness::check::Status;
use harness::history::jepsen::parse_history;

/// kv-swarm seed 4 (5 replicas, 1,669 operations) is linearizable: the
/// search as it was at ee1d56e decides it in 3,123 states (5.7 ms), with or
/// without its failed cas operations. The rounds search merged at 0845057
/// runs key "k3" out of its 4,000,000-state (and 512 MiB) budget, so the
/// default suite reports this seed, and kv-swarm seed 33, `unknown`.
/// Ignored until the search is fixed: run it with `--ignored`.
#[test]
#[ignore = "known regression of the rounds search: key k3 is undecided within the default budget"]
fn kv_swarm_seed_4_is_decided_linearizable_within_the_default_budget() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/histories/kv-swarm-seed-4.edn"),
    )
    .unwrap();
    let history = parse_history(&text).unwrap();
    let verdict = check(&history, ModelKind::Kv, &Budget::default());
    assert_eq!(verdict.status, Status::Pass, "{}", verdict.summary);
}
