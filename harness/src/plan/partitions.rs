//! The shapes of a partition that both hand-written and random faults
//! use: one host cut off (from everyone, or from the other servers only),
//! a majority and a minority (with the clients, or reached by them all), a
//! bridge, a ring; or a majority and a minority each with some of the
//! clients. A host here may be a role target (`role:leader`): the
//! nemesis puts whoever holds it on its side and takes them off the others
//! (see [`crate::fault`]), so these shapes list every host on the far side.

use crate::fault::{role_of_target, FaultAction, FaultId};
use crate::scenario::Topology;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One host on one side, every other host on the other.
pub(super) fn isolate(id: FaultId, host: &str, topology: &Topology) -> FaultAction {
    FaultAction::Partition {
        id,
        sides: vec![vec![host.to_string()], all_but(topology.all(), host)],
    }
}

/// One server on one side, the other servers on the other; clients are on
/// neither, so they reach both.
pub(super) fn isolate_peers(id: FaultId, host: &str, topology: &Topology) -> FaultAction {
    FaultAction::Partition {
        id,
        sides: vec![
            vec![host.to_string()],
            all_but(topology.servers.clone(), host),
        ],
    }
}

/// `hosts` without `host`, unless `host` is a role (whose holder the
/// nemesis takes off this side when the fault fires).
fn all_but(hosts: Vec<String>, host: &str) -> Vec<String> {
    if role_of_target(host).is_some() {
        return hosts;
    }
    hosts.into_iter().filter(|h| h != host).collect()
}

/// Where the clients are when the servers split into a majority and a
/// minority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Clients {
    /// On the majority's side.
    WithMajority,
    /// On neither side, so they reach both.
    OnBoth,
    /// The client hosts divided between the sides at random, at least one
    /// on each (with a single client host: on both, as there is no
    /// dividing one).
    Divided,
}

/// Servers split into a strict majority and the rest, the clients placed
/// as `clients` says. `pinned` (a server or a role) is put in the
/// minority.
pub(super) fn majority_minority(
    id: FaultId,
    topology: &Topology,
    rng: &mut ChaCha8Rng,
    pinned: Option<&str>,
    clients: Clients,
) -> FaultAction {
    let mut servers = topology.servers.clone();
    servers.shuffle(rng);
    let minority_size = (servers.len() - 1) / 2;
    let (mut minority, mut majority) = match pinned {
        None => (
            servers[..minority_size].to_vec(),
            servers[minority_size..].to_vec(),
        ),
        Some(host) if role_of_target(host).is_some() => {
            let mut minority = vec![host.to_string()];
            minority.extend(servers[..minority_size.saturating_sub(1)].iter().cloned());
            let majority = servers
                .iter()
                .filter(|s| !minority.contains(s))
                .cloned()
                .collect();
            (minority, majority)
        }
        Some(host) => {
            servers.retain(|s| s != host);
            let mut minority = vec![host.to_string()];
            minority.extend(servers[..minority_size.saturating_sub(1)].iter().cloned());
            (
                minority,
                servers[minority_size.saturating_sub(1)..].to_vec(),
            )
        }
    };
    match clients {
        Clients::WithMajority => majority.extend(topology.clients.iter().cloned()),
        Clients::OnBoth => {}
        Clients::Divided if topology.clients.len() < 2 => {}
        Clients::Divided => {
            let mut hosts = topology.clients.clone();
            hosts.shuffle(rng);
            let with_minority = rng.random_range(1..hosts.len());
            let rest = hosts.split_off(with_minority);
            minority.extend(hosts);
            majority.extend(rest);
        }
    }
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

/// The servers in a random ring, each reaching only its two neighbours.
pub(super) fn ring(id: FaultId, topology: &Topology, rng: &mut ChaCha8Rng) -> FaultAction {
    let mut order = topology.servers.clone();
    order.shuffle(rng);
    FaultAction::Ring { id, order }
}
