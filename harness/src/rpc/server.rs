//! The serving side: accept connections, answer each request with a handler.

use super::{frame, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_CEILING};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use turmoil::net::{TcpListener, TcpStream};

/// A server on one port of the host it runs in. Each connection is served
/// by its own task, one request at a time in arrival order (a client sends
/// one at a time anyway); connections run concurrently.
///
/// A request that cannot be decoded, or is over the frame limit, closes its
/// connection without an answer (its client sees the connection lost); a
/// connection beyond `max_connections` is closed at once. Both are logged
/// as `tracing` warnings with target `rpc`, so they show in the run's trace.
#[derive(Clone, Debug)]
pub struct RpcServer {
    port: u16,
    max_frame_bytes: usize,
    max_connections: usize,
}

impl RpcServer {
    /// A server for `port` with [`DEFAULT_MAX_FRAME_BYTES`] and
    /// [`DEFAULT_MAX_CONNECTIONS`].
    pub fn new(port: u16) -> RpcServer {
        RpcServer {
            port,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// The largest request or reply body accepted, in bytes.
    pub fn max_frame_bytes(mut self, bytes: usize) -> RpcServer {
        assert!(
            (1..=MAX_FRAME_BYTES_CEILING).contains(&bytes),
            "max_frame_bytes must be in 1..={MAX_FRAME_BYTES_CEILING}, found {bytes}"
        );
        self.max_frame_bytes = bytes;
        self
    }

    /// Connections served at once; more are closed as they arrive.
    pub fn max_connections(mut self, connections: usize) -> RpcServer {
        assert!(connections >= 1, "max_connections must be at least 1");
        self.max_connections = connections;
        self
    }

    /// Binds `0.0.0.0:port` and serves until accepting fails. Call it as
    /// (or from) a turmoil host's software; it spawns one local task per
    /// connection, so it must run inside the host's `LocalSet`, which
    /// turmoil provides.
    pub async fn serve<Req, Resp, H, Fut>(self, handler: H) -> turmoil::Result
    where
        Req: DeserializeOwned + 'static,
        Resp: Serialize + 'static,
        H: Fn(Req) -> Fut + 'static,
        Fut: Future<Output = Resp> + 'static,
    {
        let listener = TcpListener::bind(("0.0.0.0", self.port)).await?;
        let handler = Rc::new(handler);
        let open = Rc::new(Cell::new(0usize));
        loop {
            let (stream, peer) = listener.accept().await?;
            if open.get() >= self.max_connections {
                tracing::warn!(
                    target: "rpc",
                    peer = %peer,
                    max_connections = self.max_connections,
                    "connection refused: too many open"
                );
                drop(stream);
                continue;
            }
            open.set(open.get() + 1);
            let (handler, open, max_frame_bytes) =
                (handler.clone(), open.clone(), self.max_frame_bytes);
            tokio::task::spawn_local(async move {
                serve_connection(stream, &*handler, max_frame_bytes).await;
                open.set(open.get() - 1);
            });
        }
    }
}

async fn serve_connection<Req, Resp, H, Fut>(
    mut stream: TcpStream,
    handler: &H,
    max_frame_bytes: usize,
) where
    Req: DeserializeOwned,
    Resp: Serialize,
    H: Fn(Req) -> Fut,
    Fut: Future<Output = Resp>,
{
    let mut buf = Vec::new();
    loop {
        let request: Req = match frame::read(&mut stream, max_frame_bytes, &mut buf).await {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                tracing::warn!(target: "rpc", error = %e, "bad request: connection closed");
                return;
            }
            // The network broke the connection: nothing to answer.
            Err(_) => return,
        };
        let reply = handler(request).await;
        if let Err(e) = frame::encode(&reply, max_frame_bytes, &mut buf) {
            tracing::warn!(target: "rpc", error = %e, "reply not sent: connection closed");
            return;
        }
        if frame::write(&mut stream, &buf).await.is_err() {
            return;
        }
    }
}
