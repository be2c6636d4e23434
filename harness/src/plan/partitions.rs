//! The shapes of a partition that both hand-written and random faults
//! use: one host cut off, a majority and a minority, or a bridge.

use crate::fault::{FaultAction, FaultId};
use crate::scenario::Topology;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// One host on one side, every other host on the other.
pub(super) fn isolate(id: FaultId, host: &str, topology: &Topology) -> FaultAction {
    let others = topology.all().into_iter().filter(|h| h != host).collect();
    FaultAction::Partition {
        id,
        sides: vec![vec![host.to_string()], others],
    }
}

/// Servers split into a strict majority (with the clients) and the rest.
pub(super) fn majority_minority(
    id: FaultId,
    topology: &Topology,
    rng: &mut ChaCha8Rng,
) -> FaultAction {
    let mut servers = topology.servers.clone();
    servers.shuffle(rng);
    let minority_size = (servers.len() - 1) / 2;
    let minority = servers[..minority_size].to_vec();
    let mut majority = servers[minority_size..].to_vec();
    majority.extend(topology.clients.iter().cloned());
    FaultAction::Partition {
        id,
        sides: vec![minority, majority],
    }
}

/// Two halves that cannot reach each other; one server in the middle (and
/// the clients) reach both.
pub(super) fn bridge(id: FaultId, topology: &Topology, rng: &mut ChaCha8Rng) -> FaultAction {
    let mut servers = topology.servers.clone();
    servers.shuffle(rng);
    let _bridge = servers.remove(0);
    let half = servers.len() / 2;
    let right = servers.split_off(half);
    FaultAction::Partition {
        id,
        sides: vec![servers, right],
    }
}
