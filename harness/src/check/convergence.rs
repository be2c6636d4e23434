//! Convergence: after the faults are healed and the run has drained, every
//! replica describes the same state.
//!
//! Targets publish a canonical description (or digest) of their replica
//! state with [`crate::sim::publish_state`] whenever it changes; the checker
//! compares the last description of every server. A replica that never
//! published, or fewer than two replicas, makes the verdict `unknown`: the
//! check cannot be made, and that is said rather than passed.

use super::Verdict;
use crate::record::PublishedState;
use std::collections::BTreeMap;

pub fn check(servers: &[String], states: &BTreeMap<String, PublishedState>) -> Verdict {
    let missing: Vec<&str> = servers
        .iter()
        .filter(|s| !states.contains_key(*s))
        .map(String::as_str)
        .collect();
    if servers.len() < 2 {
        return Verdict::unknown("convergence", "fewer than two replicas: nothing to compare");
    }
    if !missing.is_empty() {
        return Verdict::unknown(
            "convergence",
            format!("no published state from {}", missing.join(", ")),
        );
    }
    // Group replicas by state.
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for server in servers {
        groups
            .entry(states[server].state.as_str())
            .or_default()
            .push(server);
    }
    let mut verdict = if groups.len() == 1 {
        Verdict::pass(
            "convergence",
            format!("all {} replicas agree", servers.len()),
        )
    } else {
        let sizes: Vec<String> = groups
            .values()
            .map(|members| format!("[{}]", members.join(", ")))
            .collect();
        Verdict::fail(
            "convergence",
            format!(
                "replicas disagree: {} groups {}",
                groups.len(),
                sizes.join(" vs ")
            ),
        )
        .with_expected("every replica to reach the same state after the heal")
    };
    for server in servers {
        let s = &states[server];
        let shown: String = s.state.chars().take(200).collect();
        verdict = verdict.with_detail(
            server,
            serde_json::json!({ "time_ms": s.time_ns as f64 / 1e6, "state": shown }),
        );
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;

    fn states(pairs: &[(&str, &str)]) -> BTreeMap<String, PublishedState> {
        pairs
            .iter()
            .map(|(h, s)| {
                (
                    h.to_string(),
                    PublishedState {
                        time_ns: 1,
                        state: s.to_string(),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn agreeing_replicas_pass_and_a_straggler_fails() {
        let servers: Vec<String> = ["n1", "n2", "n3"].iter().map(|s| s.to_string()).collect();
        let ok = check(&servers, &states(&[("n1", "a"), ("n2", "a"), ("n3", "a")]));
        assert_eq!(ok.status, Status::Pass);
        let bad = check(&servers, &states(&[("n1", "a"), ("n2", "a"), ("n3", "b")]));
        assert_eq!(bad.status, Status::Fail);
        assert!(bad.summary.contains("[n3]"), "{}", bad.summary);
        let missing = check(&servers, &states(&[("n1", "a"), ("n2", "a")]));
        assert_eq!(missing.status, Status::Unknown);
    }
}
