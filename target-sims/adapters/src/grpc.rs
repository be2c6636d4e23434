//! tonic over turmoil: [`serve`] runs a tonic service as a simulated host,
//! and [`GrpcClient`] gives calls a channel over the simulated network.
//!
//! The server is tonic's own `Server` (HTTP/2 over hyper) fed with
//! turmoil connections: any service tonic's code generator made (or one
//! written by hand against `tonic::server::Grpc`) runs unmodified. The
//! client keeps one tonic `Channel` to one server, reuses it while calls
//! succeed and opens a new one after any error, and bounds each call by
//! [`GrpcClient::call_timeout`] (default [`DEFAULT_CALL_TIMEOUT`]). You
//! make the call with your generated client on the channel it lends:
//!
//! ```ignore
//! let mut grpc = GrpcClient::new("server", 50051);
//! let reply = grpc
//!     .call(|channel| async move { CounterClient::new(channel).add(request).await })
//!     .await;
//! ```
//!
//! A failed call is a [`GrpcError`]. `Call(CallError)` is the transport's
//! part and says how far the call got, exactly as for [`harness::rpc`]:
//! `Unreachable` (no connection: not sent), or `TimedOut` /
//! `ConnectionLost` (sent: it may have been applied). A status the server
//! chose to answer with (`NOT_FOUND`, `FAILED_PRECONDITION`, `ABORTED`, …)
//! is `Rejected`: a definite answer. tonic reports a broken connection as a
//! status too, so the codes a transport produces — `UNAVAILABLE`,
//! `UNKNOWN`, `CANCELLED`, `DEADLINE_EXCEEDED`, `INTERNAL` — count as
//! `ConnectionLost`, never as a definite no; a server that answers with one
//! of them is taken to be unsure itself.

use crate::net;
use harness::history::Op;
use harness::rpc::{CallError, DEFAULT_CALL_TIMEOUT};
use harness::target::Completion;
use harness::turmoil::net::{TcpListener, TcpStream};
use http::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tonic::body::Body;
use tonic::transport::server::{Connected, TcpConnectInfo};
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Code, Status};

pub use prost;
pub use tonic;
pub use tonic_prost;

/// Serves `service` (e.g. `CounterServer::new(MyCounter::default())`) on
/// `port` of the current simulated host until the host stops. For several
/// services or layers, build your own `tonic::transport::Server` and give
/// it [`incoming`]`(port)`.
pub async fn serve<S, B>(port: u16, service: S) -> harness::turmoil::Result
where
    S: tower_service::Service<Request<Body>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Server::builder()
        .serve_with_incoming(service, incoming(port).await?)
        .await?;
    Ok(())
}

/// The connections to `port` of the current simulated host, as the stream
/// `tonic::transport::Server::serve_with_incoming` takes.
pub async fn incoming(port: u16) -> io::Result<Incoming> {
    Ok(Incoming {
        listener: Arc::new(net::bind(port).await?),
        next: None,
    })
}

type AcceptFuture = Pin<Box<dyn Future<Output = (TcpStream, std::net::SocketAddr)> + Send>>;

/// A stream of accepted turmoil connections; it never ends and never
/// yields an error (accept errors concern one peer and are retried).
pub struct Incoming {
    listener: Arc<TcpListener>,
    next: Option<AcceptFuture>,
}

impl tokio_stream::Stream for Incoming {
    type Item = io::Result<Accepted>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let listener = self.listener.clone();
        let next = self
            .next
            .get_or_insert_with(|| Box::pin(async move { net::accept(&listener).await }));
        match next.as_mut().poll(cx) {
            Poll::Ready((stream, _)) => {
                self.next = None;
                Poll::Ready(Some(Ok(Accepted(stream))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// One accepted connection, with the addresses tonic reports to handlers
/// (`request.remote_addr()`).
pub struct Accepted(pub TcpStream);

impl Connected for Accepted {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        TcpConnectInfo {
            local_addr: self.0.local_addr().ok(),
            remote_addr: self.0.peer_addr().ok(),
        }
    }
}

impl harness::tokio::io::AsyncRead for Accepted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut harness::tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl harness::tokio::io::AsyncWrite for Accepted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Why a gRPC call returned no message.
#[derive(Clone, Debug)]
pub enum GrpcError {
    /// The transport failed; says whether the request may have been applied.
    Call(CallError),
    /// The server answered with this status: a definite answer.
    Rejected(Status),
}

impl GrpcError {
    /// Whether the server may have acted on the request.
    pub fn may_have_been_applied(&self) -> bool {
        match self {
            GrpcError::Call(e) => e.may_have_been_applied(),
            GrpcError::Rejected(_) => false,
        }
    }

    /// A short tag for a history's `error` field: the [`CallError`]'s
    /// reason, or the status code (`failed-precondition`, …).
    pub fn reason(&self) -> String {
        match self {
            GrpcError::Call(e) => e.reason().to_string(),
            GrpcError::Rejected(status) => kebab_case(&format!("{:?}", status.code())),
        }
    }

    /// What `op` records when its last call failed this way: `info` for a
    /// mutation that may have been applied, `fail` otherwise.
    pub fn completion(&self, op: &Op) -> Completion {
        match self {
            GrpcError::Call(e) => e.completion(op),
            GrpcError::Rejected(_) => Completion::fail(op.value.clone()).with_error(self.reason()),
        }
    }

    fn from_status(status: Status) -> GrpcError {
        match status.code() {
            Code::Unavailable
            | Code::Unknown
            | Code::Cancelled
            | Code::DeadlineExceeded
            | Code::Internal => GrpcError::Call(CallError::ConnectionLost(format!(
                "{:?}: {}",
                status.code(),
                status.message()
            ))),
            _ => GrpcError::Rejected(status),
        }
    }
}

/// `FailedPrecondition` as `failed-precondition`.
fn kebab_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl std::fmt::Display for GrpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GrpcError::Call(e) => e.fmt(f),
            GrpcError::Rejected(status) => {
                write!(f, "rejected: {:?}: {}", status.code(), status.message())
            }
        }
    }
}

impl std::error::Error for GrpcError {}

/// A gRPC client of one server over the simulated network.
pub struct GrpcClient {
    host: String,
    port: u16,
    call_timeout: Duration,
    channel: Option<Channel>,
}

impl GrpcClient {
    /// A client of `host:port`; it connects on its first call.
    pub fn new(host: impl Into<String>, port: u16) -> GrpcClient {
        GrpcClient {
            host: host.into(),
            port,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            channel: None,
        }
    }

    /// The bound on one call: connect, request and reply.
    pub fn call_timeout(mut self, timeout: Duration) -> GrpcClient {
        self.call_timeout = timeout;
        self
    }

    /// Makes one call with `call(channel)` (typically a generated client's
    /// method on `XClient::new(channel)`), and returns its message.
    pub async fn call<T, F, Fut>(&mut self, call: F) -> Result<T, GrpcError>
    where
        F: FnOnce(Channel) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let timeout = self.call_timeout;
        let mut sent = false;
        let outcome = harness::tokio::time::timeout(timeout, async {
            let channel = match &self.channel {
                Some(channel) => channel.clone(),
                None => {
                    let channel = self.connect().await?;
                    self.channel = Some(channel.clone());
                    channel
                }
            };
            sent = true;
            call(channel)
                .await
                .map(tonic::Response::into_inner)
                .map_err(GrpcError::from_status)
        })
        .await;
        let result = match outcome {
            Ok(result) => result,
            Err(_) if sent => Err(GrpcError::Call(CallError::TimedOut(timeout))),
            Err(_) => Err(GrpcError::Call(CallError::Unreachable(format!(
                "no connection within {timeout:?}"
            )))),
        };
        if matches!(result, Err(GrpcError::Call(_))) {
            // A stalled or broken HTTP/2 connection would hold every later
            // call hostage: start over on a fresh one.
            self.channel = None;
        }
        result
    }

    async fn connect(&self) -> Result<Channel, GrpcError> {
        let authority = net::authority(&self.host, self.port);
        let unreachable = |e: &dyn std::fmt::Display| {
            GrpcError::Call(CallError::Unreachable(format!("{authority}: {e}")))
        };
        let endpoint =
            Endpoint::from_shared(format!("http://{authority}")).map_err(|e| unreachable(&e))?;
        endpoint
            .connect_with_connector(tower::service_fn(|uri: http::Uri| async move {
                let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
                let stream = TcpStream::connect(authority.as_str()).await?;
                Ok::<_, io::Error>(TokioIo::new(stream))
            }))
            .await
            .map_err(|e| unreachable(&e))
    }
}
