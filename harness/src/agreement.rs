//! Agreement on the applied history: replicas of a replicated state
//! machine must apply the same entry at every log position.
//!
//! The model: a target that keeps a log calls
//! [`crate::sim::publish_applied`] each time a replica applies a position,
//! with a digest of what it has applied up to there (of the entry alone, or
//! chained over every entry before it). The harness keeps, per position,
//! the first digest a replica reported; a later report of another digest at
//! that position is a *divergence*, and the first one is kept as evidence.
//! Unlike comparing final states, this catches a replica that applied a
//! wrong entry even when later writes overwrite what it got wrong, or when
//! a checkpoint from the leader repairs it before the run ends — as
//! TigerBeetle's simulator checks every replica's state at each commit.
//!
//! Memory is bounded: at most [`APPLIED_POSITIONS_KEPT`] positions are
//! remembered, the lowest forgotten first, so a replica more than that far
//! behind is not compared (the count says how many reports that left out).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Log positions remembered for comparison at once.
pub const APPLIED_POSITIONS_KEPT: usize = 1 << 16;

/// One replica's report of what it applied at a position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedAt {
    pub host: String,
    pub digest: u64,
    pub time_ns: u64,
}

/// Two replicas that applied different histories at the same position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    pub position: u64,
    /// The first report at that position.
    pub first: AppliedAt,
    /// The first report that disagreed with it.
    pub other: AppliedAt,
}

/// What a run's reports of applied positions showed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedSummary {
    /// Reports received.
    pub reports: u64,
    /// Reports compared with an earlier one at the same position.
    pub compared: u64,
    /// Reports at a position already forgotten (below the kept window).
    pub uncompared: u64,
    pub divergence: Option<Divergence>,
}

/// Collects the reports while a run lasts.
#[derive(Debug, Default)]
pub struct AppliedLog {
    first: BTreeMap<u64, AppliedAt>,
    summary: AppliedSummary,
}

impl AppliedLog {
    pub fn report(&mut self, position: u64, at: AppliedAt) {
        self.summary.reports += 1;
        if let Some(first) = self.first.get(&position) {
            self.summary.compared += 1;
            if first.digest != at.digest && self.summary.divergence.is_none() {
                self.summary.divergence = Some(Divergence {
                    position,
                    first: first.clone(),
                    other: at,
                });
            }
            return;
        }
        if self.first.len() >= APPLIED_POSITIONS_KEPT {
            match self.first.keys().next() {
                Some(&lowest) if lowest < position => {
                    self.first.remove(&lowest);
                }
                _ => {
                    self.summary.uncompared += 1;
                    return;
                }
            }
        }
        self.first.insert(position, at);
    }

    /// `None` if no replica ever reported.
    pub fn finish(self) -> Option<AppliedSummary> {
        (self.summary.reports > 0).then_some(self.summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(host: &str, digest: u64) -> AppliedAt {
        AppliedAt {
            host: host.into(),
            digest,
            time_ns: 0,
        }
    }

    #[test]
    fn the_first_report_of_another_digest_at_a_position_is_the_divergence() {
        let mut log = AppliedLog::default();
        log.report(1, at("n1", 10));
        log.report(1, at("n2", 10));
        log.report(2, at("n1", 20));
        log.report(2, at("n2", 21));
        log.report(2, at("n3", 22));
        let summary = log.finish().unwrap();
        assert_eq!((summary.reports, summary.compared), (5, 3));
        let d = summary.divergence.unwrap();
        assert_eq!(
            (d.position, d.first.host.as_str(), d.other.host.as_str()),
            (2, "n1", "n2")
        );
    }

    #[test]
    fn agreeing_replicas_and_silent_targets() {
        assert_eq!(AppliedLog::default().finish(), None);
        let mut log = AppliedLog::default();
        for position in 1..=3 {
            for host in ["n1", "n2"] {
                log.report(position, at(host, position * 7));
            }
        }
        let summary = log.finish().unwrap();
        assert_eq!(summary.divergence, None);
        assert_eq!(summary.compared, 3);
    }

    #[test]
    fn the_window_forgets_the_lowest_positions_first() {
        let mut log = AppliedLog::default();
        let kept = APPLIED_POSITIONS_KEPT as u64;
        for position in 0..=kept {
            log.report(position, at("n1", position));
        }
        // Position 0 was forgotten to make room; 1 is still compared.
        log.report(0, at("n2", 99));
        log.report(1, at("n2", 99));
        let summary = log.finish().unwrap();
        assert_eq!(summary.uncompared, 1);
        assert_eq!(summary.divergence.unwrap().position, 1);
    }
}
