//! The chain's gateway: where the resilience primitives sit.
//!
//! Model: the gateway serves each client connection one request at a time.
//! A request first waits for one of `handlers` request handlers (a thread
//! pool, in effect: a handler is held for the whole request, so requests
//! stuck on a slow backend can starve everyone else), all within the
//! request's deadline (`request_timeout`). Then it calls a backend through
//! the configured policies, nested as
//!
//! ```text
//! fallback (reads) ( retry ( hedge ( bulkhead ( breaker ( attempt timeout ( call ))))))
//! ```
//!
//! every layer bounded by the same deadline. With key routing every call
//! for a key goes to its home backend; with round-robin each call of a
//! request — a retry, a hedge — goes to the next replica. The answer tells
//! the client how many calls the policies started for the request (the
//! retry amplification), and whether a read came from the fallback.
//!
//! Errors, and what the policies make of them: a timeout, a refused or
//! broken connection, or a `busy` backend count against that backend's
//! breaker and may be retried; a write whose request went out but got no
//! answer may have been applied (its answer is `unknown`), and a `cas` in
//! that state is never retried. An open breaker or full bulkhead refuses
//! without calling the backend; under key routing retrying them is
//! pointless, so they are final.
//!
//! A `surge` adds open-loop reads, generated inside the gateway at a fixed
//! rate for a window, from a tenant the history does not record; they take
//! handlers and backend capacity like any other request.
//!
//! Trace events (`chain::gateway`, INFO): `gateway started`, `surge
//! started`, `surge ended`, and the backend links' connection changes. The
//! primitives add their own (`primitive::breaker`, …).
//!
//! One file, past 600 lines, because it is one idea: the policy stack
//! above wraps a single call, and each layer's code reads the errors and
//! the deadline of the layers around it, so the nesting is easiest to
//! check where it can be read top to bottom.

use super::config::{backend_name, ChainConfig, Surge};
use super::link::{BackendLink, LinkError};
use super::protocol::{BackendReply, GatewayReply, Kind, Request, Status};
use super::settings::Routing;
use super::ConnectionCount;
use crate::primitives::{
    BreakerError, BreakerState, Bulkhead, CircuitBreaker, Deadline, Fallback, Hedge, Retry,
    RetryBudget, Source, Timeout,
};
use crate::systems::wire::split_lines;
use harness::history::Value;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use turmoil::net::{TcpListener, TcpStream};

/// The gateway's host name.
pub const GATEWAY_HOST: &str = "gateway";
/// The port clients connect to.
pub const GATEWAY_PORT: u16 = 8000;
/// A client connection without a request for this long is closed.
pub const IDLE_CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Client connections open at once (above the harness's cap on logical
/// clients); more are closed as they arrive.
pub const MAX_CLIENT_CONNECTIONS: usize = 16_384;
/// Surge requests in progress at once; arrivals beyond it are dropped and
/// counted, so a surge cannot grow the gateway's task count without bound.
pub const MAX_SURGE_IN_FLIGHT: usize = 4096;

/// Why one call to a backend failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// No connection: nothing was sent.
    Unreachable,
    /// No answer in time; `sent`: the request went out.
    Timeout { sent: bool },
    /// The connection broke after the request went out.
    Disconnected,
    /// The backend refused it without doing it.
    Busy(String),
    /// The backend's breaker refused it.
    BreakerOpen,
    /// The backend's bulkhead refused it.
    BulkheadFull,
    /// The backend answered with an error.
    Backend(String),
}

impl CallError {
    /// The backend may have acted on the request.
    pub fn maybe_applied(&self) -> bool {
        matches!(
            self,
            CallError::Timeout { sent: true } | CallError::Disconnected
        )
    }

    /// Whether this says the backend is unhealthy (for its breaker).
    fn counts_against_backend(&self) -> bool {
        !matches!(
            self,
            CallError::Backend(_) | CallError::BreakerOpen | CallError::BulkheadFull
        )
    }

    /// One word for the client's answer.
    pub fn note(&self) -> &'static str {
        match self {
            CallError::Unreachable => "unreachable",
            CallError::Timeout { .. } => "timeout",
            CallError::Disconnected => "disconnected",
            CallError::Busy(_) => "busy",
            CallError::BreakerOpen => "breaker-open",
            CallError::BulkheadFull => "bulkhead-full",
            CallError::Backend(_) => "error",
        }
    }
}

/// Whether the retry policy should try again after `error`.
fn retryable(error: &CallError, kind: Kind, routing: Routing) -> bool {
    if kind == Kind::Cas && error.maybe_applied() {
        return false;
    }
    match error {
        CallError::Backend(_) => false,
        CallError::BreakerOpen | CallError::BulkheadFull => routing == Routing::RoundRobin,
        _ => true,
    }
}

/// What a backend answered, when it did the request.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Value(Value),
    Done,
    CasFailed,
}

fn answer(reply: BackendReply) -> Result<Answer, CallError> {
    match reply {
        BackendReply::Value(v) => Ok(Answer::Value(v)),
        BackendReply::Done => Ok(Answer::Done),
        BackendReply::CasFailed => Ok(Answer::CasFailed),
        BackendReply::Busy(reason) => Err(CallError::Busy(reason)),
        BackendReply::Error(text) => Err(CallError::Backend(text)),
    }
}

/// The home backend of `key` under key routing: `k<i>` lives on backend
/// `i mod n`; any other key by its hash.
pub fn key_home(key: &str, backends: u32) -> u32 {
    let number = key.strip_prefix('k').and_then(|i| i.parse::<u64>().ok());
    let hash = number.unwrap_or_else(|| harness::seed::fnv1a(key.as_bytes()));
    (hash % u64::from(backends)) as u32
}

/// One backend as the gateway sees it.
struct Side {
    link: Rc<BackendLink>,
    breaker: Option<CircuitBreaker>,
    bulkhead: Option<Bulkhead>,
}

/// The retry and hedge policies for one destination, sharing its budget.
struct Policies {
    retry: Option<Retry<CallError>>,
    hedge: Option<Hedge>,
}

/// What one request's calls did.
#[derive(Default)]
struct Tally {
    /// Calls the policies started (including ones a breaker or bulkhead
    /// refused on the spot).
    calls: Cell<u32>,
    /// Requests sent whose answer never came.
    unanswered: Cell<u32>,
}

pub struct Gateway {
    config: Arc<ChainConfig>,
    sides: Vec<Side>,
    handlers: Semaphore,
    /// Per destination: one per backend under key routing, else one.
    policies: Vec<Policies>,
    fallback: Option<Fallback<String, Value>>,
    attempt_timeout: Timeout,
    rotation: Cell<u32>,
    rng: RefCell<ChaCha8Rng>,
}

/// The gateway's software.
pub async fn serve(config: Arc<ChainConfig>, rng: ChaCha8Rng) -> turmoil::Result {
    let gateway = Rc::new(Gateway::new(config, rng)?);
    tracing::info!(
        target: "chain::gateway",
        backends = gateway.sides.len(),
        handlers = gateway.config.gateway.handlers,
        "gateway started"
    );
    for surge in gateway.config.gateway.surges.clone() {
        tokio::task::spawn_local(run_surge(gateway.clone(), surge));
    }
    let listener = TcpListener::bind(("0.0.0.0", GATEWAY_PORT)).await?;
    let connections = ConnectionCount::new(MAX_CLIENT_CONNECTIONS);
    loop {
        let (stream, _) = listener.accept().await?;
        // Over the cap, the new connection is closed at once.
        if let Some(place) = connections.enter() {
            let gateway = gateway.clone();
            tokio::task::spawn_local(async move {
                gateway.serve_client(stream).await;
                drop(place);
            });
        }
    }
}

impl Gateway {
    fn new(
        config: Arc<ChainConfig>,
        mut rng: ChaCha8Rng,
    ) -> Result<Gateway, crate::primitives::ConfigError> {
        use rand::SeedableRng;
        let g = &config.gateway;
        let sides = (0..config.backends)
            .map(|i| {
                let name = backend_name(i);
                Ok(Side {
                    link: BackendLink::new(name.clone(), g.attempt_timeout),
                    breaker: g
                        .breaker
                        .clone()
                        .map(|c| CircuitBreaker::new(name.clone(), c))
                        .transpose()?,
                    bulkhead: g
                        .bulkhead
                        .clone()
                        .map(|c| Bulkhead::new(name.clone(), c))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>, crate::primitives::ConfigError>>()?;
        // A retry budget protects the service it is spent on: under key
        // routing each backend is a service of its own (its keys live only
        // there), so each gets its own budget, and retries of requests for
        // a healthy backend cannot fund a storm on a sick one.
        let destinations = match config.routing {
            Routing::Key => (0..config.backends).map(backend_name).collect(),
            Routing::RoundRobin => vec!["backends".to_string()],
        };
        let policies = destinations
            .into_iter()
            .map(|name| {
                let budget = g
                    .budget
                    .clone()
                    .map(|c| RetryBudget::new(name.clone(), c))
                    .transpose()?;
                let retry = match &g.retry {
                    Some(c) => {
                        let jitter_rng = ChaCha8Rng::from_rng(&mut rng);
                        let retry = Retry::new(name.clone(), c.clone(), jitter_rng)?;
                        Some(match (&budget, g.retry_uses_budget) {
                            (Some(budget), true) => retry.with_budget(budget.clone()),
                            _ => retry,
                        })
                    }
                    None => None,
                };
                let hedge = match &g.hedge {
                    Some(c) => {
                        let hedge = Hedge::new(name.clone(), c.clone())?;
                        Some(match (&budget, g.hedge_uses_budget) {
                            (Some(budget), true) => hedge.with_budget(budget.clone()),
                            _ => hedge,
                        })
                    }
                    None => None,
                };
                Ok(Policies { retry, hedge })
            })
            .collect::<Result<Vec<_>, crate::primitives::ConfigError>>()?;
        let fallback = match &g.fallback {
            Some(plan) => {
                let fallback = Fallback::new("gateway", plan.config.clone())?;
                Some(if plan.default_nil {
                    fallback.with_default(Value::Nil)
                } else {
                    fallback
                })
            }
            None => None,
        };
        Ok(Gateway {
            sides,
            handlers: Semaphore::new(g.handlers),
            policies,
            fallback,
            attempt_timeout: Timeout::new("gateway", g.attempt_timeout)?,
            rotation: Cell::new(0),
            rng: RefCell::new(rng),
            config,
        })
    }

    async fn serve_client(self: Rc<Self>, stream: TcpStream) {
        let (mut reader, mut writer) = split_lines(stream);
        loop {
            let line = match tokio::time::timeout(IDLE_CLIENT_TIMEOUT, reader.recv()).await {
                Ok(Ok(Some(line))) => line.to_string(),
                _ => break,
            };
            let reply = match Request::parse(&line) {
                Some(request) => self.handle(&request).await,
                None => GatewayReply {
                    status: Status::Unavailable,
                    value: Value::Nil,
                    attempts: 0,
                    note: "bad-request".into(),
                },
            };
            if writer.send(&reply.encode()).await.is_err() {
                break;
            }
        }
    }

    /// Serves one request within its deadline.
    pub async fn handle(&self, request: &Request) -> GatewayReply {
        let deadline = Deadline::after(self.config.gateway.request_timeout);
        let reply = |status, value, attempts, note: &str| GatewayReply {
            status,
            value,
            attempts,
            note: note.to_string(),
        };
        let Ok(handler) = deadline.run(self.handlers.acquire()).await else {
            return reply(Status::Unavailable, Value::Nil, 0, "gateway-busy");
        };
        let _handler = handler.expect("the handler semaphore is never closed");
        let tally = Tally::default();
        let primary = self.with_retry(request, deadline, &tally);
        let result = match (&self.fallback, request.kind) {
            (Some(fallback), Kind::Read) => {
                let read = async {
                    match primary.await? {
                        Answer::Value(v) => Ok(v),
                        other => Err(CallError::Backend(format!("{other:?} for a read"))),
                    }
                };
                match fallback.call(request.key.clone(), read).await {
                    Ok(answer) => Ok((Answer::Value(answer.value), answer.source)),
                    Err(failed) => Err(failed.primary),
                }
            }
            _ => primary.await.map(|a| (a, Source::Primary)),
        };
        let calls = tally.calls.get();
        match result {
            Ok((Answer::Value(v), source)) => reply(Status::Ok, v, calls, source.as_str()),
            Ok((Answer::Done, _)) => reply(Status::Ok, Value::Nil, calls, "primary"),
            Ok((Answer::CasFailed, _)) => reply(Status::Fail, Value::Nil, calls, "cas-failed"),
            Err(error) if request.kind.is_mutation() && tally.unanswered.get() > 0 => {
                reply(Status::Unknown, Value::Nil, calls, error.note())
            }
            Err(error) => reply(Status::Unavailable, Value::Nil, calls, error.note()),
        }
    }

    async fn with_retry(
        &self,
        request: &Request,
        deadline: Deadline,
        tally: &Tally,
    ) -> Result<Answer, CallError> {
        let first = self.first_backend(request);
        let policies = match self.config.routing {
            Routing::Key => &self.policies[first as usize],
            Routing::RoundRobin => &self.policies[0],
        };
        let started = Cell::new(0u32);
        let attempt = |_| self.with_hedge(policies, request, deadline, first, &started, tally);
        let gave_up = || CallError::Timeout {
            sent: tally.unanswered.get() > 0,
        };
        match &policies.retry {
            None => deadline
                .run(attempt(0))
                .await
                .unwrap_or_else(|_| Err(gave_up())),
            Some(retry) => {
                let (kind, routing) = (request.kind, self.config.routing);
                let retry = retry
                    .clone()
                    .with_classifier(move |e| retryable(e, kind, routing));
                let retried = retry.run_until(deadline, attempt).await;
                retried
                    .result
                    .map_err(|e| e.into_last_error().unwrap_or_else(gave_up))
            }
        }
    }

    async fn with_hedge(
        &self,
        policies: &Policies,
        request: &Request,
        deadline: Deadline,
        first: u32,
        started: &Cell<u32>,
        tally: &Tally,
    ) -> Result<Answer, CallError> {
        let next = || {
            let n = started.get();
            started.set(n + 1);
            match self.config.routing {
                Routing::Key => first,
                Routing::RoundRobin => {
                    // The next replica in turn whose breaker admits calls,
                    // as a load balancer skips ejected hosts; the next
                    // call of this request continues after it.
                    let count = self.config.backends;
                    let turn = first + n;
                    let skip = (0..count)
                        .find(|k| self.admits((turn + k) % count))
                        .unwrap_or(0);
                    started.set(n + 1 + skip);
                    (turn + skip) % count
                }
            }
        };
        match &policies.hedge {
            None => self.call(request, deadline, next(), tally).await,
            Some(hedge) => {
                hedge
                    .run(|_| self.call(request, deadline, next(), tally))
                    .await
                    .result
            }
        }
    }

    /// Whether backend `index`'s breaker (if any) would admit a call now.
    fn admits(&self, index: u32) -> bool {
        self.sides[index as usize]
            .breaker
            .as_ref()
            .is_none_or(|b| !matches!(b.state(), BreakerState::Open | BreakerState::ForcedOpen))
    }

    fn first_backend(&self, request: &Request) -> u32 {
        match self.config.routing {
            Routing::Key => key_home(&request.key, self.config.backends),
            Routing::RoundRobin => {
                let n = self.rotation.get();
                self.rotation.set(n.wrapping_add(1));
                n % self.config.backends
            }
        }
    }

    /// One call to backend `index`: bulkhead, breaker, attempt timeout.
    async fn call(
        &self,
        request: &Request,
        deadline: Deadline,
        index: u32,
        tally: &Tally,
    ) -> Result<Answer, CallError> {
        tally.calls.set(tally.calls.get() + 1);
        let side = &self.sides[index as usize];
        let _slot = match &side.bulkhead {
            Some(bulkhead) => match deadline.run(bulkhead.acquire()).await {
                Ok(Ok(slot)) => Some(slot),
                Ok(Err(_full)) => return Err(CallError::BulkheadFull),
                Err(_) => return Err(CallError::Timeout { sent: false }),
            },
            None => None,
        };
        let exchange = async {
            let mut out = Outstanding {
                sent: Cell::new(false),
                answered: false,
                tally,
            };
            let result = self
                .attempt_timeout
                .run_within(deadline, side.link.call(&request.line, &out.sent))
                .await;
            match result {
                Ok(Ok(reply)) => {
                    out.answered = true;
                    answer(reply)
                }
                Ok(Err(LinkError::Unreachable)) => Err(CallError::Unreachable),
                Ok(Err(LinkError::Disconnected)) => Err(CallError::Disconnected),
                Err(_) => Err(CallError::Timeout {
                    sent: out.sent.get(),
                }),
            }
        };
        match &side.breaker {
            Some(breaker) => {
                // Read the state in the same poll as the breaker's own
                // admission check, so the assertion moves no transition.
                harness::assert_sometimes!(
                    breaker.state() == BreakerState::HalfOpen,
                    "a breaker went half-open",
                    &harness::serde_json::json!({ "backend": backend_name(index) })
                );
                breaker
                    .call_classified(exchange, |r| {
                        r.as_ref()
                            .err()
                            .is_some_and(CallError::counts_against_backend)
                    })
                    .await
                    .map_err(|e| match e {
                        BreakerError::Rejected(_) => CallError::BreakerOpen,
                        BreakerError::Inner(e) => e,
                    })
            }
            None => exchange.await,
        }
    }
}

/// Counts a sent request that never got its answer, however the call ends
/// (including being dropped by a deadline or a winning hedge).
struct Outstanding<'a> {
    sent: Cell<bool>,
    answered: bool,
    tally: &'a Tally,
}

impl Drop for Outstanding<'_> {
    fn drop(&mut self) {
        if self.sent.get() && !self.answered {
            self.tally.unanswered.set(self.tally.unanswered.get() + 1);
        }
    }
}

/// Open-loop reads at `surge.rate` during the surge's window.
async fn run_surge(gateway: Rc<Gateway>, surge: Surge) {
    let now = || turmoil::sim_elapsed().unwrap_or_default();
    let end = surge.at + surge.duration;
    if now() >= end {
        return;
    }
    if now() < surge.at {
        tokio::time::sleep(surge.at - now()).await;
    }
    tracing::info!(
        target: "chain::gateway",
        rate = surge.rate,
        duration_ms = surge.duration.as_millis() as u64,
        "surge started"
    );
    let in_flight = Rc::new(Cell::new(0usize));
    let served = Rc::new(Cell::new(0u64));
    let (mut sent, mut dropped) = (0u64, 0u64);
    let mut arrivals = tokio::time::interval(Duration::from_secs_f64(1.0 / surge.rate));
    arrivals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        arrivals.tick().await;
        if now() >= end {
            break;
        }
        if in_flight.get() >= MAX_SURGE_IN_FLIGHT {
            dropped += 1;
            continue;
        }
        let key = format!("k{}", gateway.rng.borrow_mut().random_range(0..surge.keys));
        sent += 1;
        in_flight.set(in_flight.get() + 1);
        let (gateway, in_flight, served) = (gateway.clone(), in_flight.clone(), served.clone());
        tokio::task::spawn_local(async move {
            let reply = gateway.handle(&Request::read(key)).await;
            if reply.status == Status::Ok {
                served.set(served.get() + 1);
            }
            in_flight.set(in_flight.get() - 1);
        });
    }
    tracing::info!(
        target: "chain::gateway",
        sent,
        dropped,
        served_so_far = served.get(),
        "surge ended"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_live_on_their_numbered_backend() {
        assert_eq!(key_home("k0", 3), 0);
        assert_eq!(key_home("k4", 3), 1);
        assert_eq!(key_home("k5", 3), 2);
        assert!(key_home("other", 3) < 3);
    }

    #[test]
    fn a_cas_that_may_have_applied_is_never_retried() {
        let lost = CallError::Timeout { sent: true };
        assert!(!retryable(&lost, Kind::Cas, Routing::RoundRobin));
        assert!(retryable(&lost, Kind::Write, Routing::Key));
        assert!(retryable(
            &CallError::Timeout { sent: false },
            Kind::Cas,
            Routing::Key
        ));
        assert!(!retryable(
            &CallError::BreakerOpen,
            Kind::Read,
            Routing::Key
        ));
        assert!(retryable(
            &CallError::BreakerOpen,
            Kind::Read,
            Routing::RoundRobin
        ));
    }
}
