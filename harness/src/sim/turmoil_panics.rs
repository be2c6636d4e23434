//! Panics turmoil raises where a real network would carry on, explained.
//!
//! A few limits of the simulated network are asserts inside turmoil: the
//! run stops with a message about its internals. The seed still fails
//! (the simulation could not go on), but the reason then says what the
//! scenario did to reach the limit and which knob moves it.

/// The explanation to append to a panic message, if turmoil's message is
/// one of the known limits.
pub(super) fn explain(message: &str) -> Option<&'static str> {
    if message.contains("is already connected") {
        // turmoil hands out a host's ephemeral ports in turn (16,384 of
        // them, then it wraps) and skips only ports its own host still
        // uses; on accepting, it asserts that the server holds no
        // connection with the same address pair. A server still holding
        // its side of an old connection — its handler has not read the
        // client's close yet, e.g. while it waits on a request it cannot
        // commit — trips the assert once the client host's ports wrap.
        // Seen with `kv-leader-isolate --set workload.clients=500`: more
        // clients than a replica accepts (MAX_CONNECTIONS), so refused
        // clients reconnect at once and burn through the ports in about
        // 5 simulated seconds. Real TCP would reset the stale connection.
        return Some(
            "turmoil reused a client port for a new connection while the server still held its \
             side of an older connection from that port: a client host has 16384 ephemeral \
             ports, used in turn, and this run opened more connections than that from one \
             host (clients that reconnect after every refusal or timeout burn through them). \
             Spread the clients over more hosts (raise workload.client_hosts, up to 16), or \
             lower workload.clients or workload.rate",
        );
    }
    if message.contains("ports exhausted") {
        return Some(
            "a host ran out of its 16384 ephemeral ports (every one held by an open or \
             half-open connection): raise workload.client_hosts, or lower workload.clients",
        );
    }
    if message.contains("server socket buffer full") {
        return Some(
            "a listener's queue of connections waiting to be accepted overflowed (turmoil \
             panics where a kernel would drop the SYN): raise network.tcp_capacity",
        );
    }
    None
}

/// `message` with its explanation, if it has one.
pub(super) fn explained(message: String) -> String {
    match explain(&message) {
        Some(why) => format!("{message} — {why}"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_limits_name_their_knob() {
        let reuse = "SocketPair { local: 192.168.0.3:7100, remote: 192.168.0.5:50774 } is already connected at host.rs:469";
        assert!(explained(reuse.into()).contains("workload.client_hosts"));
        assert!(explained("192.168.0.1:80 server socket buffer full".into())
            .contains("network.tcp_capacity"));
        assert_eq!(
            explained("index out of bounds".into()),
            "index out of bounds"
        );
    }
}
