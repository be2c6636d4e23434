//! One request, one reply, over a kept line connection with a timeout.
//!
//! A call that fails tells how far it got: [`RpcError::NotSent`] (the
//! request certainly never left) or [`RpcError::MaybeSent`] (it may have
//! been applied). After any failure the connection is dropped, since a
//! late reply on it would answer the wrong request.

use crate::systems::wire::LineConn;
use std::cell::Cell;
use std::time::Duration;
use turmoil::net::TcpStream;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcError {
    NotSent,
    MaybeSent,
}

/// A client's connection to one server.
pub struct Rpc {
    host: String,
    port: u16,
    conn: Option<LineConn>,
}

impl Rpc {
    pub fn new(host: impl Into<String>, port: u16) -> Rpc {
        Rpc {
            host: host.into(),
            port,
            conn: None,
        }
    }

    pub async fn call(&mut self, request: &str, timeout: Duration) -> Result<String, RpcError> {
        let sent = Cell::new(false);
        let result = tokio::time::timeout(timeout, self.attempt(request, &sent)).await;
        let result = match result {
            Ok(Ok(reply)) => return Ok(reply),
            Ok(Err(())) | Err(_) => {
                if sent.get() {
                    Err(RpcError::MaybeSent)
                } else {
                    Err(RpcError::NotSent)
                }
            }
        };
        self.conn = None;
        result
    }

    async fn attempt(&mut self, request: &str, sent: &Cell<bool>) -> Result<String, ()> {
        if self.conn.is_none() {
            let stream = TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|_| ())?;
            self.conn = Some(LineConn::new(stream));
        }
        let conn = self.conn.as_mut().expect("connected above");
        sent.set(true);
        conn.send(request).await.map_err(|_| ())?;
        match conn.recv().await {
            Ok(Some(reply)) => Ok(reply.to_string()),
            _ => Err(()),
        }
    }
}
