//! What both adapters share: binding a port on turmoil's network and
//! accepting from it without ever giving up.

use harness::turmoil::net::{TcpListener, TcpStream};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// How long to wait before accepting again after an accept error, so that
/// a failing listener does not spin the simulated host.
pub(crate) const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(1);

/// Binds `port` on every address of the current simulated host.
pub(crate) async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).await
}

/// The next connection. Accept errors (a reset handshake, say) concern
/// one peer only, so they are logged and the next connection is awaited.
pub(crate) async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(e) => {
                harness::tracing::debug!(error = %e, "accept failed; accepting again");
                harness::tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
            }
        }
    }
}

/// `host:port` as a client names it (turmoil resolves host names).
pub(crate) fn authority(host: &str, port: u16) -> String {
    format!("{host}:{port}")
}
