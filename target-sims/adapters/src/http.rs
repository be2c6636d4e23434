//! axum over turmoil: [`serve`] runs a `Router` as a simulated host, and
//! [`HttpClient`] calls it from a client host.
//!
//! The server is axum's own `axum::serve` (HTTP/1.1, hyper 1) on a
//! listener that accepts turmoil connections: the router, its extractors,
//! state and middleware run unmodified. The client is hyper's HTTP/1.1
//! connection API: one request at a time on one connection, reused while
//! calls succeed and replaced after any error, every call bounded by
//! [`HttpClient::call_timeout`] (default [`DEFAULT_CALL_TIMEOUT`]) and by
//! [`HttpClient::max_body_bytes`] for the reply (default
//! [`DEFAULT_MAX_BODY_BYTES`]).
//!
//! A failed call is a [`CallError`]: `Unreachable` when no connection
//! could be opened, or when the existing one was found closed before the
//! request was handed to it (nothing was sent); after that, `TimedOut`,
//! `ConnectionLost` or `BadReply`, each of which means the server may have
//! acted on the request. Any HTTP status is a reply, not an error: the
//! target decides what a 409 or a 503 means for its operation.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use chaos_adapters::http::{serve, HttpClient};
//!
//! async fn server() -> harness::turmoil::Result {
//!     serve(8080, Router::new().route("/hello", get(|| async { "hi" }))).await
//! }
//!
//! async fn client() {
//!     let mut http = HttpClient::new("server", 8080);
//!     match http.get("/hello").await {
//!         Ok(reply) => assert_eq!(&reply.body[..], b"hi"),
//!         Err(e) => println!("no answer: {e}"),
//!     }
//! }
//! ```

use crate::net;
use bytes::Bytes;
use harness::rpc::{CallError, DEFAULT_CALL_TIMEOUT};
use harness::turmoil::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{header, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;

pub use axum;

/// Largest reply body an [`HttpClient`] reads by default (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// Serves `router` on `port` of the current simulated host until the host
/// stops. Use it as (or inside) the host's software:
/// `sim.host("server", move || serve(8080, router.clone()))`.
pub async fn serve(port: u16, router: axum::Router) -> harness::turmoil::Result {
    let listener = net::bind(port).await?;
    axum::serve(SimListener(listener), router).await?;
    Ok(())
}

/// A turmoil listener as axum's `Listener`, for `axum::serve` with your
/// own options (`with_graceful_shutdown`, `into_make_service_with_connect_info`).
pub struct SimListener(pub TcpListener);

impl SimListener {
    /// Binds `port` on the current simulated host.
    pub async fn bind(port: u16) -> std::io::Result<SimListener> {
        Ok(SimListener(net::bind(port).await?))
    }
}

impl axum::serve::Listener for SimListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        net::accept(&self.0).await
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// A reply: its status, headers and whole body.
#[derive(Clone, Debug)]
pub struct HttpReply {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl HttpReply {
    /// The body as JSON; an unreadable body is a `BadReply`.
    pub fn json<T: harness::serde::de::DeserializeOwned>(&self) -> Result<T, CallError> {
        harness::serde_json::from_slice(&self.body)
            .map_err(|e| CallError::BadReply(format!("status {}: {e}", self.status)))
    }
}

/// An HTTP/1.1 client of one server over the simulated network.
pub struct HttpClient {
    host: String,
    port: u16,
    call_timeout: Duration,
    max_body_bytes: usize,
    connection: Option<SendRequest<Full<Bytes>>>,
}

impl HttpClient {
    /// A client of `host:port`; it connects on its first call.
    pub fn new(host: impl Into<String>, port: u16) -> HttpClient {
        HttpClient {
            host: host.into(),
            port,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            connection: None,
        }
    }

    /// The bound on one call: connect, send and the whole reply.
    pub fn call_timeout(mut self, timeout: Duration) -> HttpClient {
        self.call_timeout = timeout;
        self
    }

    /// The largest reply body read; a longer one is a `BadReply`.
    pub fn max_body_bytes(mut self, limit: usize) -> HttpClient {
        self.max_body_bytes = limit;
        self
    }

    pub async fn get(&mut self, path: &str) -> Result<HttpReply, CallError> {
        self.request(Method::GET, path, None).await
    }

    pub async fn delete(&mut self, path: &str) -> Result<HttpReply, CallError> {
        self.request(Method::DELETE, path, None).await
    }

    /// PUT with a JSON body.
    pub async fn put_json<T: harness::serde::Serialize>(
        &mut self,
        path: &str,
        body: &T,
    ) -> Result<HttpReply, CallError> {
        self.request(Method::PUT, path, Some(to_json(body)?)).await
    }

    /// POST with a JSON body.
    pub async fn post_json<T: harness::serde::Serialize>(
        &mut self,
        path: &str,
        body: &T,
    ) -> Result<HttpReply, CallError> {
        self.request(Method::POST, path, Some(to_json(body)?)).await
    }

    /// Any request; `json_body` is sent with `content-type: application/json`.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        json_body: Option<Bytes>,
    ) -> Result<HttpReply, CallError> {
        let request = self.build(method, path, json_body)?;
        // Whether the request was handed to the connection: before that a
        // failure means it was not sent.
        let mut handed_over = false;
        let timeout = self.call_timeout;
        let outcome = harness::tokio::time::timeout(timeout, async {
            let connection = self.ready_connection().await?;
            handed_over = true;
            let reply = connection
                .send_request(request)
                .await
                .map_err(|e| CallError::ConnectionLost(e.to_string()))?;
            let (parts, body) = reply.into_parts();
            let body = Limited::new(body, self.max_body_bytes)
                .collect()
                .await
                .map_err(|e| CallError::BadReply(e.to_string()))?
                .to_bytes();
            Ok(HttpReply {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        })
        .await;
        let result = match outcome {
            Ok(result) => result,
            Err(_) if handed_over => Err(CallError::TimedOut(timeout)),
            Err(_) => Err(CallError::Unreachable(format!(
                "no connection within {timeout:?}"
            ))),
        };
        if result.is_err() {
            // A late reply on this connection must never answer the next call.
            self.connection = None;
        }
        result
    }

    fn build(
        &self,
        method: Method,
        path: &str,
        json_body: Option<Bytes>,
    ) -> Result<Request<Full<Bytes>>, CallError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, net::authority(&self.host, self.port));
        if json_body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        builder
            .body(Full::new(json_body.unwrap_or_default()))
            .map_err(|e| CallError::NotSent(format!("bad request {path:?}: {e}")))
    }

    /// The open connection, ready for a request, or a new one.
    async fn ready_connection(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, CallError> {
        if let Some(connection) = &mut self.connection {
            if connection.ready().await.is_err() {
                self.connection = None;
            }
        }
        if self.connection.is_none() {
            self.connection = Some(self.connect().await?);
        }
        Ok(self.connection.as_mut().expect("connected just above"))
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, CallError> {
        let authority = net::authority(&self.host, self.port);
        let stream = TcpStream::connect(authority.as_str())
            .await
            .map_err(|e| CallError::Unreachable(format!("{authority}: {e}")))?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| CallError::Unreachable(format!("{authority}: {e}")))?;
        // The connection's I/O runs as its own task; it ends when the
        // sender is dropped or the peer goes away.
        harness::tokio::spawn(async move {
            if let Err(e) = connection.await {
                harness::tracing::debug!(error = %e, "http connection ended");
            }
        });
        Ok(sender)
    }
}

fn to_json<T: harness::serde::Serialize>(body: &T) -> Result<Bytes, CallError> {
    harness::serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| CallError::NotSent(format!("request body: {e}")))
}
