//! The calling side: one request at a time over a reused connection.

use super::{
    frame, CallError, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_CEILING,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::Cell;
use std::marker::PhantomData;
use std::time::Duration;
use turmoil::net::TcpStream;

/// How far a call got; read after a timeout to tell "never sent" from
/// "sent, no answer".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    Connecting,
    Sending,
    AwaitingReply,
}

/// A client sending `Req` and receiving `Resp` to one server address.
///
/// It holds at most one connection, opened on the first call and reused
/// while calls succeed. After any error or timeout the connection is
/// dropped and the next call opens a fresh one: a connection whose call
/// timed out may still deliver that call's late reply, which would
/// otherwise be read as the answer to the next request.
///
/// `call` takes `&mut self`, so there is never more than one request in
/// flight per client; run one client per logical caller.
pub struct RpcClient<Req, Resp> {
    host: String,
    port: u16,
    call_timeout: Duration,
    max_frame_bytes: usize,
    conn: Option<TcpStream>,
    buf: Vec<u8>,
    types: PhantomData<fn(&Req) -> Resp>,
}

impl<Req: Serialize, Resp: DeserializeOwned> RpcClient<Req, Resp> {
    /// A client of `host:port` with [`DEFAULT_CALL_TIMEOUT`] and
    /// [`DEFAULT_MAX_FRAME_BYTES`]. Nothing connects until the first call.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        RpcClient {
            host: host.into(),
            port,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            conn: None,
            buf: Vec::new(),
            types: PhantomData,
        }
    }

    /// The bound on one call: connecting (when needed), sending the
    /// request and receiving the reply.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        assert!(!timeout.is_zero(), "an RPC call timeout must be above zero");
        self.call_timeout = timeout;
        self
    }

    /// The largest request or reply body accepted, in bytes.
    pub fn max_frame_bytes(mut self, bytes: usize) -> Self {
        assert!(
            (1..=MAX_FRAME_BYTES_CEILING).contains(&bytes),
            "max_frame_bytes must be in 1..={MAX_FRAME_BYTES_CEILING}, found {bytes}"
        );
        self.max_frame_bytes = bytes;
        self
    }

    /// The server's host name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether a connection is open (it is reused by the next call).
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Drops the connection, if any; the next call opens a new one.
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    /// Sends `request` and waits for its reply, within the call timeout.
    /// See the [module docs](super) for what each error says about whether
    /// the request took effect.
    pub async fn call(&mut self, request: &Req) -> Result<Resp, CallError> {
        frame::encode(request, self.max_frame_bytes, &mut self.buf)
            .map_err(|e| CallError::NotSent(e.to_string()))?;
        let progress = Cell::new(Progress::Connecting);
        let timeout = self.call_timeout;
        let result = tokio::time::timeout(timeout, self.exchange(&progress)).await;
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(_) => Err(match progress.get() {
                Progress::Connecting => {
                    CallError::Unreachable(format!("no connection within {timeout:?}"))
                }
                Progress::Sending => {
                    CallError::NotSent(format!("request not written within {timeout:?}"))
                }
                Progress::AwaitingReply => CallError::TimedOut(timeout),
            }),
        };
        if outcome.is_err() {
            self.conn = None;
        }
        outcome
    }

    /// Connects if needed, writes the encoded request in `buf`, reads the
    /// reply; `progress` tracks the phase for a caller that times it out.
    async fn exchange(&mut self, progress: &Cell<Progress>) -> Result<Resp, CallError> {
        if self.conn.is_none() {
            let stream = TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|e| CallError::Unreachable(e.to_string()))?;
            self.conn = Some(stream);
        }
        let conn = self.conn.as_mut().expect("connected above");
        progress.set(Progress::Sending);
        frame::write(conn, &self.buf)
            .await
            .map_err(|e| CallError::NotSent(e.to_string()))?;
        progress.set(Progress::AwaitingReply);
        match frame::read(conn, self.max_frame_bytes, &mut self.buf).await {
            Ok(Some(reply)) => Ok(reply),
            Ok(None) => Err(CallError::ConnectionLost("closed by the server".into())),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                Err(CallError::BadReply(e.to_string()))
            }
            Err(e) => Err(CallError::ConnectionLost(e.to_string())),
        }
    }
}
