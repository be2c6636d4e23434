//! The gateway's connection to one backend.
//!
//! Model: one TCP connection per backend carries every request, each with
//! an id, and a reader task hands each answer to the request waiting for
//! it — so many calls are in flight at once and answers come back in the
//! order the backend finishes them. The connection is opened on first use
//! and replaced when it fails, the way a real client notices failures:
//!
//! - a read or write error, or the backend closing it (a crashed backend
//!   answers with a reset), ends it at once: every call waiting on it gets
//!   [`LinkError::Disconnected`], and the next call connects anew;
//! - silence does not end it. When a call gives up after at least
//!   `stall_after` and nothing at all arrived on the connection since it
//!   was sent, the connection is suspected stalled (in turmoil a lost
//!   segment stalls a stream forever, which is what a partition leaves
//!   behind) and a background task reconnects, every `RECONNECT_DELAY`
//!   until it succeeds; calls keep using the old connection, and timing
//!   out on it, until the new one is up. So a partitioned backend costs its
//!   callers their timeouts, as it would on a real network where a SYN to
//!   an unreachable host goes unanswered.
//!
//! After a failed connect by a call, other calls fail fast with
//! [`LinkError::Unreachable`] for `RECONNECT_DELAY` instead of connecting
//! again, so a dead backend costs one SYN per delay rather than one per
//! call.
//!
//! Trace events (`chain::gateway`, INFO): `connected to backend`,
//! `connection to backend lost` (with the reason), `connection to backend
//! stalled; reconnecting`, `cannot connect to backend` (once per outage).

use super::backend::BACKEND_PORT;
use super::protocol::BackendReply;
use crate::systems::wire::{split_lines, LineWriter};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::{oneshot, Mutex};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use turmoil::net::TcpStream;

/// Calls awaiting an answer on one connection; more are refused as
/// unreachable (the gateway's handler limit normally keeps far below it).
pub const MAX_PENDING_CALLS: usize = 65_536;
/// After a failed connect, no new connect for this long.
pub const RECONNECT_DELAY: Duration = Duration::from_millis(50);

/// Why a call got no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// No connection: nothing was sent.
    Unreachable,
    /// The connection broke after the request was sent.
    Disconnected,
}

/// Shared by a connection and its reader task.
struct Inbox {
    waiting: RefCell<BTreeMap<u64, oneshot::Sender<BackendReply>>>,
    last_received: Cell<Instant>,
}

struct Connection {
    number: u64,
    writer: Mutex<LineWriter>,
    inbox: Rc<Inbox>,
    reader: JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

enum State {
    Down {
        /// No connect before this.
        retry_at: Option<Instant>,
        /// The outage was already reported.
        reported: bool,
    },
    Up {
        connection: Rc<Connection>,
        /// Suspected stalled: a background task is connecting anew.
        reconnecting: bool,
    },
}

/// The gateway's link to one backend; cheap to share by reference.
pub struct BackendLink {
    host: String,
    stall_after: Duration,
    state: RefCell<State>,
    connecting: Mutex<()>,
    next_id: Cell<u64>,
    connections: Cell<u64>,
}

impl BackendLink {
    pub fn new(host: impl Into<String>, stall_after: Duration) -> Rc<BackendLink> {
        Rc::new(BackendLink {
            host: host.into(),
            stall_after,
            state: RefCell::new(State::Down {
                retry_at: None,
                reported: false,
            }),
            connecting: Mutex::new(()),
            next_id: Cell::new(0),
            connections: Cell::new(0),
        })
    }

    /// Sends `line` and waits for its answer. `sent` is set once the
    /// request has gone out, so a caller that gives up knows whether the
    /// backend may have acted on it.
    pub async fn call(
        self: &Rc<Self>,
        line: &str,
        sent: &Cell<bool>,
    ) -> Result<BackendReply, LinkError> {
        let connection = self.connection().await?;
        if connection.inbox.waiting.borrow().len() >= MAX_PENDING_CALLS {
            return Err(LinkError::Unreachable);
        }
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let (tx, rx) = oneshot::channel();
        connection.inbox.waiting.borrow_mut().insert(id, tx);
        let mut waiting = Waiting {
            link: self,
            connection: &connection,
            id,
            sent_at: None,
        };
        let written = connection
            .writer
            .lock()
            .await
            .send(&format!("{id} {line}"))
            .await;
        if written.is_err() {
            self.lost(connection.number, "write failed");
            return Err(LinkError::Unreachable);
        }
        sent.set(true);
        waiting.sent_at = Some(tokio::time::Instant::now());
        match rx.await {
            Ok(reply) => {
                waiting.sent_at = None;
                Ok(reply)
            }
            Err(_) => Err(LinkError::Disconnected),
        }
    }

    fn current(&self) -> Option<Rc<Connection>> {
        match &*self.state.borrow() {
            State::Up { connection, .. } => Some(connection.clone()),
            State::Down { .. } => None,
        }
    }

    /// The current connection, connecting if there is none.
    async fn connection(self: &Rc<Self>) -> Result<Rc<Connection>, LinkError> {
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let _one_at_a_time = self.connecting.lock().await;
        let reported = match &*self.state.borrow() {
            State::Up { connection, .. } => return Ok(connection.clone()),
            State::Down {
                retry_at: Some(at), ..
            } if tokio::time::Instant::now() < *at => return Err(LinkError::Unreachable),
            State::Down { reported, .. } => *reported,
        };
        match self.open().await {
            Ok(connection) => {
                *self.state.borrow_mut() = State::Up {
                    connection: connection.clone(),
                    reconnecting: false,
                };
                Ok(connection)
            }
            Err(error) => {
                if !reported {
                    tracing::info!(
                        target: "chain::gateway",
                        backend = %self.host,
                        error = %error,
                        "cannot connect to backend"
                    );
                }
                *self.state.borrow_mut() = State::Down {
                    retry_at: Some(tokio::time::Instant::now() + RECONNECT_DELAY),
                    reported: true,
                };
                Err(LinkError::Unreachable)
            }
        }
    }

    /// Opens a new connection and starts its reader.
    async fn open(self: &Rc<Self>) -> std::io::Result<Rc<Connection>> {
        let stream = TcpStream::connect((self.host.as_str(), BACKEND_PORT)).await?;
        let number = self.connections.get() + 1;
        self.connections.set(number);
        let (mut reader, writer) = split_lines(stream);
        let inbox = Rc::new(Inbox {
            waiting: RefCell::new(BTreeMap::new()),
            last_received: Cell::new(tokio::time::Instant::now()),
        });
        let link = Rc::downgrade(self);
        let reader_inbox = inbox.clone();
        let reader = tokio::task::spawn_local(async move {
            let reason = loop {
                match reader.recv().await {
                    Ok(Some(line)) => {
                        reader_inbox.last_received.set(tokio::time::Instant::now());
                        let Some((id, reply)) = line.split_once(' ') else {
                            break "unreadable answer";
                        };
                        let Ok(id) = id.parse::<u64>() else {
                            break "unreadable answer";
                        };
                        let waiter = reader_inbox.waiting.borrow_mut().remove(&id);
                        if let Some(waiter) = waiter {
                            let _ = waiter.send(BackendReply::parse(reply));
                        }
                    }
                    Ok(None) => break "closed by the backend",
                    Err(_) => break "read failed",
                }
            };
            // Wake every waiter with an error.
            reader_inbox.waiting.borrow_mut().clear();
            if let Some(link) = link.upgrade() {
                link.lost(number, reason);
            }
        });
        tracing::info!(
            target: "chain::gateway",
            backend = %self.host,
            connection = number,
            "connected to backend"
        );
        Ok(Rc::new(Connection {
            number,
            writer: Mutex::new(writer),
            inbox,
            reader,
        }))
    }

    fn is_current(&self, number: u64) -> bool {
        matches!(&*self.state.borrow(), State::Up { connection, .. } if connection.number == number)
    }

    /// Ends connection `number` if it is still the current one.
    fn lost(&self, number: u64, reason: &'static str) {
        if !self.is_current(number) {
            return;
        }
        tracing::info!(
            target: "chain::gateway",
            backend = %self.host,
            connection = number,
            reason,
            "connection to backend lost"
        );
        *self.state.borrow_mut() = State::Down {
            retry_at: None,
            reported: false,
        };
    }

    /// Connection `number` looks stalled: connect anew in the background
    /// and switch over once that works.
    fn stalled(self: &Rc<Self>, number: u64) {
        {
            let mut state = self.state.borrow_mut();
            match &mut *state {
                State::Up {
                    connection,
                    reconnecting,
                } if connection.number == number && !*reconnecting => *reconnecting = true,
                _ => return,
            }
        }
        tracing::info!(
            target: "chain::gateway",
            backend = %self.host,
            connection = number,
            "connection to backend stalled; reconnecting"
        );
        let link = Rc::downgrade(self);
        tokio::task::spawn_local(async move {
            loop {
                let Some(this) = link.upgrade() else {
                    return;
                };
                // Another path replaced or dropped the connection meanwhile.
                if !this.is_current(number) {
                    return;
                }
                if let Ok(connection) = this.open().await {
                    if this.is_current(number) {
                        *this.state.borrow_mut() = State::Up {
                            connection,
                            reconnecting: false,
                        };
                    }
                    return;
                }
                drop(this);
                tokio::time::sleep(RECONNECT_DELAY).await;
            }
        });
    }
}

/// One call waiting for its answer: leaves the inbox however the wait
/// ends, and suspects the connection if the call gave up unanswered.
struct Waiting<'a> {
    link: &'a Rc<BackendLink>,
    connection: &'a Connection,
    id: u64,
    /// Set while the request is out and unanswered.
    sent_at: Option<Instant>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.connection.inbox.waiting.borrow_mut().remove(&self.id);
        let Some(sent_at) = self.sent_at else {
            return;
        };
        let now = tokio::time::Instant::now();
        let silent = self.connection.inbox.last_received.get() < sent_at;
        if silent && now.saturating_duration_since(sent_at) >= self.link.stall_after {
            self.link.stalled(self.connection.number);
        }
    }
}
