//! Request/response over turmoil TCP, so a target does not write its own
//! framing.
//!
//! Model: an [`RpcServer`] accepts connections on a port and answers each
//! request with an async handler; an [`RpcClient`] sends one typed request
//! at a time to one server and waits for its reply, within a per-call
//! timeout. Messages are serde types sent as length-delimited JSON frames
//! (see [`frame`]), at most [`DEFAULT_MAX_FRAME_BYTES`] each unless raised
//! on both ends. The client reuses its connection across successful calls
//! and reconnects on the next call after any error.
//!
//! # What a failed call means
//!
//! A distributed call has three outcomes, not two, and the history must
//! say which (Jepsen's `ok` / `fail` / `info`). [`CallError`] says how far
//! the call got:
//!
//! | error | the request… | a read records | a mutation records |
//! |---|---|---|---|
//! | [`Unreachable`](CallError::Unreachable) | never left: no connection | `fail` | `fail` |
//! | [`NotSent`](CallError::NotSent) | was not written whole, so the server cannot act on it | `fail` | `fail` |
//! | [`TimedOut`](CallError::TimedOut) | was sent; no reply in time. It **may or may not have been applied**, and may still be applied later | `fail` | `info` |
//! | [`ConnectionLost`](CallError::ConnectionLost) | was sent; the connection broke before the reply. It may have been applied | `fail` | `info` |
//! | [`BadReply`](CallError::BadReply) | was received and answered, but the answer was unreadable | `fail` | `info` |
//!
//! A read that failed changed nothing, so `fail` is always true for it. A
//! mutation that may have been applied must be `info`: recording it as
//! `fail` claims it did not happen, and a checker will rightly call the
//! history impossible when a later read sees its value. Retrying such a
//! mutation is unsafe too, unless the server deduplicates it: the first
//! copy can still land after the retry, or after another client's write.
//! [`CallError::may_have_been_applied`] and [`CallError::completion`]
//! encode this table.
//!
//! ```no_run
//! use harness::rpc::{RpcClient, RpcServer};
//! use serde::{Deserialize, Serialize};
//! use std::time::Duration;
//!
//! #[derive(Serialize, Deserialize)]
//! struct Add { amount: i64 }
//!
//! async fn server() -> turmoil::Result {
//!     let total = std::rc::Rc::new(std::cell::Cell::new(0i64));
//!     RpcServer::new(7000)
//!         .serve(move |add: Add| {
//!             let total = total.clone();
//!             async move { total.set(total.get() + add.amount); total.get() }
//!         })
//!         .await
//! }
//!
//! async fn client() {
//!     let mut rpc: RpcClient<Add, i64> =
//!         RpcClient::new("server", 7000).call_timeout(Duration::from_millis(200));
//!     match rpc.call(&Add { amount: 5 }).await {
//!         Ok(total) => println!("total is now {total}"),
//!         Err(e) if e.may_have_been_applied() => println!("unknown: {e}"),
//!         Err(e) => println!("did not happen: {e}"),
//!     }
//! }
//! ```

pub mod frame;

mod client;
mod server;

pub use client::RpcClient;
pub use server::RpcServer;

use crate::history::Op;
use crate::target::Completion;
use std::fmt;
use std::time::Duration;

/// Largest message body accepted by default, in bytes (1 MiB). Raise it
/// with `max_frame_bytes` on both the client and the server.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;

/// The largest frame limit that can be set: the length prefix is 32 bits.
pub const MAX_FRAME_BYTES_CEILING: usize = u32::MAX as usize;

/// A call's time bound by default: connect, send and reply together.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// Connections a server serves at once by default; more are closed.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Why a call returned no reply, by how far it got (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// No connection could be opened (refused, reset, or not within the
    /// call timeout). The request was not sent.
    Unreachable(String),
    /// The request could not be written whole (or encoded). The server
    /// acts only on whole frames, so it did not happen.
    NotSent(String),
    /// The request was sent and no reply came within this timeout. It may
    /// have been applied, and may still be.
    TimedOut(Duration),
    /// The request was sent and the connection broke before the reply.
    ConnectionLost(String),
    /// A reply arrived but could not be decoded, or was over the limit.
    BadReply(String),
}

impl CallError {
    /// Whether the server may have acted on the request.
    pub fn may_have_been_applied(&self) -> bool {
        match self {
            CallError::Unreachable(_) | CallError::NotSent(_) => false,
            CallError::TimedOut(_) | CallError::ConnectionLost(_) | CallError::BadReply(_) => true,
        }
    }

    /// A short tag for a history's `error` field: `unreachable`,
    /// `not-sent`, `timeout`, `connection-lost` or `bad-reply`.
    pub fn reason(&self) -> &'static str {
        match self {
            CallError::Unreachable(_) => "unreachable",
            CallError::NotSent(_) => "not-sent",
            CallError::TimedOut(_) => "timeout",
            CallError::ConnectionLost(_) => "connection-lost",
            CallError::BadReply(_) => "bad-reply",
        }
    }

    /// What `op` records when its last call failed this way: `info` for a
    /// mutation that may have been applied, `fail` otherwise (the table in
    /// the module docs), with [`reason`](Self::reason) as its error.
    pub fn completion(&self, op: &Op) -> Completion {
        if self.may_have_been_applied() && op.f.is_mutation() {
            Completion::info(op.value.clone()).with_error(self.reason())
        } else {
            Completion::unavailable(op.value.clone(), self.reason())
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Unreachable(why) => write!(f, "unreachable: {why}"),
            CallError::NotSent(why) => write!(f, "request not sent: {why}"),
            CallError::TimedOut(after) => write!(f, "no reply within {after:?}"),
            CallError::ConnectionLost(why) => {
                write!(f, "connection lost awaiting the reply: {why}")
            }
            CallError::BadReply(why) => write!(f, "unreadable reply: {why}"),
        }
    }
}

impl std::error::Error for CallError {}

#[cfg(test)]
mod tests;
