//! Failure detection from heartbeats.
//!
//! Model: a [`Detector`] records when each peer's heartbeats arrive and,
//! asked at any instant, says whether it suspects the peer has failed. How
//! it decides is a [`SuspicionModel`]: a fixed heartbeat timeout
//! ([`HeartbeatConfig`]) or the phi-accrual detector ([`PhiConfig`]). A
//! detector never sees a failure directly; it trades detection time against
//! false suspicions of live but late peers, and [`measure`] puts numbers on
//! both for a given heartbeat schedule.
//!
//! Detectors take the current instant as an argument rather than reading
//! the clock: they are pure state machines, testable without a runtime and
//! usable from any task. [`Detector::poll`] reports (and traces) the
//! transitions since the last poll; [`Detector::status`] only looks.

mod heartbeat;
pub mod measure;
mod phi;

use std::collections::BTreeMap;
use std::fmt;

use tokio::time::Instant;

use super::config::ConfigError;

pub use heartbeat::HeartbeatConfig;
pub use phi::{PhiConfig, PhiDistribution};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerStatus {
    Available,
    Suspected,
}

impl PeerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerStatus::Available => "available",
            PeerStatus::Suspected => "suspected",
        }
    }
}

/// A peer's reported status changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition<P> {
    pub peer: P,
    pub status: PeerStatus,
    pub at: Instant,
}

/// A rule for suspecting a peer from its heartbeat history. The config
/// struct is the model.
pub trait SuspicionModel: Clone + fmt::Debug {
    /// What the model remembers about one peer.
    type History: fmt::Debug;

    /// For trace events, e.g. `"phi_accrual"`.
    const KIND: &'static str;

    fn validate(&self) -> Result<(), ConfigError>;

    fn first_heartbeat(&self, at: Instant) -> Self::History;

    fn heartbeat(&self, history: &mut Self::History, at: Instant);

    fn suspects(&self, history: &Self::History, now: Instant) -> bool;
}

#[derive(Debug)]
struct Tracked<H> {
    history: H,
    /// The status last reported by `heartbeat` or `poll`.
    reported: PeerStatus,
}

/// Tracks peers' heartbeats under one suspicion model.
#[derive(Debug)]
pub struct Detector<P, M: SuspicionModel> {
    name: String,
    model: M,
    peers: BTreeMap<P, Tracked<M::History>>,
}

/// Suspects a peer silent for longer than a fixed timeout.
pub type HeartbeatDetector<P> = Detector<P, HeartbeatConfig>;

/// Suspects a peer once phi, the improbability of its silence given its
/// past heartbeat intervals, reaches a threshold.
pub type PhiAccrualDetector<P> = Detector<P, PhiConfig>;

impl<P: Ord + Clone + fmt::Debug, M: SuspicionModel> Detector<P, M> {
    pub fn new(name: impl Into<String>, model: M) -> Result<Self, ConfigError> {
        let name = name.into();
        model.validate().map_err(|e| e.named(&name))?;
        Ok(Detector {
            name,
            model,
            peers: BTreeMap::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn model(&self) -> &M {
        &self.model
    }

    /// Records a heartbeat from `peer` at `now`. Returns the transition if
    /// the peer had been reported suspected.
    pub fn heartbeat(&mut self, peer: &P, now: Instant) -> Option<Transition<P>> {
        let model = &self.model;
        let tracked = match self.peers.get_mut(peer) {
            Some(tracked) => {
                model.heartbeat(&mut tracked.history, now);
                tracked
            }
            None => {
                self.peers.insert(
                    peer.clone(),
                    Tracked {
                        history: model.first_heartbeat(now),
                        reported: PeerStatus::Available,
                    },
                );
                return None;
            }
        };
        if tracked.reported == PeerStatus::Suspected {
            tracked.reported = PeerStatus::Available;
            return Some(self.report(peer.clone(), PeerStatus::Available, now));
        }
        None
    }

    /// The status at `now`, without reporting anything; `None` for a peer
    /// never heard from.
    pub fn status(&self, peer: &P, now: Instant) -> Option<PeerStatus> {
        let tracked = self.peers.get(peer)?;
        Some(if self.model.suspects(&tracked.history, now) {
            PeerStatus::Suspected
        } else {
            PeerStatus::Available
        })
    }

    pub fn is_suspected(&self, peer: &P, now: Instant) -> bool {
        self.status(peer, now) == Some(PeerStatus::Suspected)
    }

    /// Re-evaluates every peer at `now`, reporting (and tracing) each one
    /// whose status changed since it was last reported. Peers in key order.
    pub fn poll(&mut self, now: Instant) -> Vec<Transition<P>> {
        let mut changed = Vec::new();
        for (peer, tracked) in &mut self.peers {
            let status = if self.model.suspects(&tracked.history, now) {
                PeerStatus::Suspected
            } else {
                PeerStatus::Available
            };
            if status != tracked.reported {
                tracked.reported = status;
                changed.push(peer.clone());
            }
        }
        changed
            .into_iter()
            .map(|peer| {
                let status = self.peers[&peer].reported;
                self.report(peer, status, now)
            })
            .collect()
    }

    /// Peers heard from, in key order.
    pub fn peers(&self) -> impl Iterator<Item = &P> {
        self.peers.keys()
    }

    /// Stops tracking `peer` (it left the cluster).
    pub fn forget(&mut self, peer: &P) {
        self.peers.remove(peer);
    }

    fn report(&self, peer: P, status: PeerStatus, at: Instant) -> Transition<P> {
        tracing::info!(
            target: "primitive::detector",
            name = %self.name,
            kind = M::KIND,
            peer = ?peer,
            "{}",
            match status {
                PeerStatus::Suspected => "peer suspected",
                PeerStatus::Available => "peer recovered",
            }
        );
        Transition { peer, status, at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::capture_events;
    use std::time::Duration;

    #[test]
    fn poll_reports_each_change_once_and_heartbeat_reports_recovery() {
        let (_guard, events) = capture_events();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut d =
            HeartbeatDetector::new("cluster", HeartbeatConfig { timeout: ms(500) }).unwrap();
        assert_eq!(d.status(&"b", t0), None);
        d.heartbeat(&"a", t0);
        d.heartbeat(&"b", t0);
        assert!(d.poll(t0 + ms(500)).is_empty());
        d.heartbeat(&"b", t0 + ms(400));
        let suspected = d.poll(t0 + ms(501));
        assert_eq!(
            suspected,
            [Transition {
                peer: "a",
                status: PeerStatus::Suspected,
                at: t0 + ms(501)
            }]
        );
        assert!(d.poll(t0 + ms(600)).is_empty(), "reported once");
        let recovered = d.heartbeat(&"a", t0 + ms(700)).unwrap();
        assert_eq!(recovered.status, PeerStatus::Available);
        assert!(d.poll(t0 + ms(700)).is_empty());

        let messages: Vec<_> = events.all().into_iter().map(|e| e.message).collect();
        assert_eq!(messages, ["peer suspected", "peer recovered"]);
        assert_eq!(events.all()[0].field("peer"), Some("\"a\""));
    }
}
