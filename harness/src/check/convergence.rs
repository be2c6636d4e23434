//! Convergence: after the faults are healed and the run has drained, every
//! replica describes the same state.
//!
//! Targets publish a canonical description (or digest) of their replica
//! state with [`crate::sim::publish_state`] whenever it changes; the checker
//! compares the last description of every server. A replica that never
//! published, or fewer than two replicas, makes the verdict `unknown`: the
//! check cannot be made, and that is said rather than passed.
//!
//! A target that also reports what each replica applied at each log
//! position ([`crate::sim::publish_applied`]) is held to more: two replicas
//! that applied different histories at the same position fail the check,
//! whatever their final states, because later writes or a checkpoint sent
//! by the leader can hide such a divergence by the end of the run.

use super::Verdict;
use crate::agreement::{AppliedSummary, Divergence};
use crate::record::PublishedState;
use std::collections::BTreeMap;

pub fn check(
    servers: &[String],
    states: &BTreeMap<String, PublishedState>,
    applied: Option<&AppliedSummary>,
) -> Verdict {
    if let Some(divergence) = applied.and_then(|a| a.divergence.as_ref()) {
        return diverged(divergence);
    }
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
        let compared = match applied {
            Some(a) => format!(
                "; they applied the same entries at every position two of them reported ({} compared)",
                a.compared
            ),
            None => String::new(),
        };
        Verdict::pass(
            "convergence",
            format!("all {} replicas agree{compared}", servers.len()),
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

fn diverged(d: &Divergence) -> Verdict {
    let seconds = |ns: u64| ns as f64 / 1e9;
    let mut verdict = Verdict::fail(
        "convergence",
        format!(
            "replicas applied different histories at log position {}: {} at {:.3}s, {} at {:.3}s",
            d.position,
            d.first.host,
            seconds(d.first.time_ns),
            d.other.host,
            seconds(d.other.time_ns)
        ),
    )
    .with_expected("every replica to apply the same entry at each log position");
    for at in [&d.first, &d.other] {
        verdict = verdict.with_detail(
            &at.host,
            serde_json::json!({
                "position": d.position,
                "time_ms": at.time_ns as f64 / 1e6,
                "digest": format!("{:016x}", at.digest),
            }),
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
        let ok = check(
            &servers,
            &states(&[("n1", "a"), ("n2", "a"), ("n3", "a")]),
            None,
        );
        assert_eq!(ok.status, Status::Pass);
        let bad = check(
            &servers,
            &states(&[("n1", "a"), ("n2", "a"), ("n3", "b")]),
            None,
        );
        assert_eq!(bad.status, Status::Fail);
        assert!(bad.summary.contains("[n3]"), "{}", bad.summary);
        let missing = check(&servers, &states(&[("n1", "a"), ("n2", "a")]), None);
        assert_eq!(missing.status, Status::Unknown);
    }

    #[test]
    fn a_divergence_fails_even_when_the_final_states_agree() {
        use crate::agreement::{AppliedAt, AppliedLog};
        let servers: Vec<String> = ["n1", "n2"].iter().map(|s| s.to_string()).collect();
        let same = states(&[("n1", "a"), ("n2", "a")]);
        let mut log = AppliedLog::default();
        let at = |host: &str, digest| AppliedAt {
            host: host.into(),
            digest,
            time_ns: 3_200_000_000,
        };
        log.report(44, at("n2", 1));
        log.report(44, at("n1", 1));
        let agreed = log.finish().unwrap();
        let ok = check(&servers, &same, Some(&agreed));
        assert_eq!(ok.status, Status::Pass);
        assert!(ok.summary.contains("1 compared"), "{}", ok.summary);

        let mut log = AppliedLog::default();
        log.report(44, at("n2", 1));
        log.report(44, at("n1", 2));
        let split = log.finish().unwrap();
        let bad = check(&servers, &same, Some(&split));
        assert_eq!(bad.status, Status::Fail);
        assert!(
            bad.summary
                .contains("log position 44: n2 at 3.200s, n1 at 3.200s"),
            "{}",
            bad.summary
        );
    }
}
