//! A chain backend: a key-value store behind a bounded pool of workers.
//!
//! Model: a request is admitted (by the load shedder, if configured), then
//! waits for one of the pool's workers — in a FIFO queue of at most `queue`
//! requests; beyond that it is refused at once with `busy queue_full` — and
//! a worker spends `service_time` (plus jitter, plus any slowdown window's
//! extra) on it before applying it to the store and answering. So an
//! overloaded backend is slow in the way real ones are: latency grows with
//! the queue, and work for requests whose callers gave up long ago is still
//! done (nothing tells a backend that its caller stopped waiting).
//!
//! The store is in memory and per backend: a crash empties it, and
//! round-robin replicas do not share it (availability and latency are the
//! point here, not consistency). With `autoscale`, the pool resizes itself
//! between its bounds (see [`ScaledPool`]).
//!
//! Trace events (`chain::backend`, INFO): `backend started`, and the start
//! and end of each overload episode — from the first refused request to the
//! first request served `OVERLOAD_QUIET` after the last refusal.

use super::config::{backend_name, ChainConfig};
use super::protocol::{BackendReply, Request};
use super::ConnectionCount;
use crate::primitives::{LoadShedder, ScaledPool};
use crate::systems::wire::{decode_value, split_lines};
use harness::history::Value;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use turmoil::net::{TcpListener, TcpStream};

/// The port every backend listens on.
pub const BACKEND_PORT: u16 = 9000;
/// Connections open at once. The gateway uses one per backend, plus one per
/// stall until the stalled one idles out; more are closed as they arrive.
pub const MAX_CONNECTIONS: usize = 1024;
/// A connection without a request for this long is closed: its peer may be
/// gone for good (a partition leaves a turmoil stream stalled forever).
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// Answers waiting to be written on one connection. When a stalled
/// connection fills it, further answers on it are dropped (the gateway
/// has timed them out anyway).
pub const REPLY_QUEUE: usize = 1024;
/// An overload episode ends at the first request served this long after
/// the last refusal.
pub const OVERLOAD_QUIET: Duration = Duration::from_millis(500);

struct Overload {
    since: Option<Instant>,
    last_refusal: Instant,
    refused: u64,
}

struct Backend {
    index: u32,
    config: Arc<ChainConfig>,
    store: RefCell<BTreeMap<String, Value>>,
    pool: ScaledPool,
    shed: Option<LoadShedder>,
    rng: RefCell<ChaCha8Rng>,
    overload: RefCell<Overload>,
}

/// The software of backend `index` (0-based): a fresh, empty store every
/// time the host starts.
pub async fn serve(config: Arc<ChainConfig>, index: u32, rng: ChaCha8Rng) -> turmoil::Result {
    let name = backend_name(index);
    let pool = ScaledPool::new(name.clone(), config.backend.pool.clone())?;
    let shed = config
        .backend
        .shed
        .clone()
        .map(|c| LoadShedder::new(name.clone(), c))
        .transpose()?;
    if config.backend.autoscaled {
        let pool = pool.clone();
        tokio::task::spawn_local(async move { pool.drive().await });
    }
    tracing::info!(
        target: "chain::backend",
        workers = pool.size(),
        queue = config.backend.pool.max_queue,
        autoscaled = config.backend.autoscaled,
        shedding = shed.is_some(),
        "backend started; store empty"
    );
    let backend = Rc::new(Backend {
        index,
        store: RefCell::new(BTreeMap::new()),
        pool,
        shed,
        rng: RefCell::new(rng),
        overload: RefCell::new(Overload {
            since: None,
            last_refusal: tokio::time::Instant::now(),
            refused: 0,
        }),
        config,
    });
    let listener = TcpListener::bind(("0.0.0.0", BACKEND_PORT)).await?;
    let connections = ConnectionCount::new(MAX_CONNECTIONS);
    loop {
        let (stream, _) = listener.accept().await?;
        // Over the cap, the new connection is closed at once.
        if let Some(place) = connections.enter() {
            let backend = backend.clone();
            tokio::task::spawn_local(async move {
                connection(backend, stream).await;
                drop(place);
            });
        }
    }
}

/// One gateway connection: requests carry ids, so many are in progress at
/// once and answered in whatever order they finish. Each request gets a
/// task that is admitted or refused at once, so the tasks waiting here are
/// bounded by the shedder's and the pool's queues; the gateway's own limits
/// bound the rest.
async fn connection(backend: Rc<Backend>, stream: TcpStream) {
    let (mut reader, mut writer) = split_lines(stream);
    let (replies, mut outbox) = mpsc::channel::<String>(REPLY_QUEUE);
    tokio::task::spawn_local(async move {
        while let Some(line) = outbox.recv().await {
            if writer.send(&line).await.is_err() {
                break;
            }
        }
    });
    loop {
        let line = match tokio::time::timeout(IDLE_CONNECTION_TIMEOUT, reader.recv()).await {
            Ok(Ok(Some(line))) => line,
            _ => break,
        };
        let Some((id, request)) = line.split_once(' ') else {
            break;
        };
        let id = id.to_string();
        let request = Request::parse(request);
        let (backend, replies) = (backend.clone(), replies.clone());
        tokio::task::spawn_local(async move {
            let reply = match request {
                Some(request) => backend.process(&request).await,
                None => BackendReply::Error("bad-request".into()),
            };
            // A full outbox means the connection is stuck: drop the answer.
            let _ = replies.try_send(format!("{id} {}", reply.encode()));
        });
    }
}

impl Backend {
    async fn process(&self, request: &Request) -> BackendReply {
        let _admitted = match &self.shed {
            Some(shed) => match shed.admit().await {
                Ok(slot) => Some(slot),
                Err(shed) => return self.refuse(shed.reason.as_str()),
            },
            None => None,
        };
        let work = async {
            let service = self.service_time();
            if !service.is_zero() {
                tokio::time::sleep(service).await;
            }
            self.apply(request)
        };
        match self.pool.run(work).await {
            Ok(reply) => {
                self.served();
                reply
            }
            Err(_full) => self.refuse("queue_full"),
        }
    }

    fn service_time(&self) -> Duration {
        let config = &self.config.backend;
        let jitter = if config.service_jitter.is_zero() {
            Duration::ZERO
        } else {
            let max = config.service_jitter.as_nanos() as u64;
            Duration::from_nanos(self.rng.borrow_mut().random_range(0..=max))
        };
        let now = turmoil::sim_elapsed().unwrap_or_default();
        config.service_time + jitter + config.slowdown_at(self.index, now)
    }

    fn apply(&self, request: &Request) -> BackendReply {
        let mut store = self.store.borrow_mut();
        let words: Vec<&str> = request.line.split(' ').collect();
        match words.as_slice() {
            ["r", key] => BackendReply::Value(store.get(*key).cloned().unwrap_or(Value::Nil)),
            ["w", key, value] => {
                store.insert(key.to_string(), decode_value(value));
                BackendReply::Done
            }
            ["c", key, expected, new] => {
                let current = store.get(*key).cloned().unwrap_or(Value::Nil);
                if current == decode_value(expected) {
                    store.insert(key.to_string(), decode_value(new));
                    BackendReply::Done
                } else {
                    BackendReply::CasFailed
                }
            }
            _ => BackendReply::Error("bad-request".into()),
        }
    }

    fn refuse(&self, reason: &str) -> BackendReply {
        let now = tokio::time::Instant::now();
        let mut overload = self.overload.borrow_mut();
        if overload.since.is_none() {
            overload.since = Some(now);
            overload.refused = 0;
            tracing::info!(
                target: "chain::backend",
                reason,
                workers = self.pool.size(),
                busy = self.pool.busy(),
                queued = self.pool.queued(),
                "backend overloaded: refusing requests"
            );
        }
        overload.refused += 1;
        overload.last_refusal = now;
        BackendReply::Busy(reason.to_string())
    }

    fn served(&self) {
        let now = tokio::time::Instant::now();
        let mut overload = self.overload.borrow_mut();
        if let Some(since) = overload.since {
            if now.saturating_duration_since(overload.last_refusal) >= OVERLOAD_QUIET {
                tracing::info!(
                    target: "chain::backend",
                    refused = overload.refused,
                    lasted_ms = overload.last_refusal.saturating_duration_since(since).as_millis() as u64,
                    "backend recovered: serving every request again"
                );
                overload.since = None;
            }
        }
    }
}
