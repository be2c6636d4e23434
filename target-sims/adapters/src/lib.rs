//! Run an unmodified `axum::Router` or `tonic` service as a host of a
//! chaos-harness target, over turmoil's simulated TCP, and talk to it with
//! a ready HTTP or gRPC client.
//!
//! Model: a server host is an async function that binds a port on
//! turmoil's network and serves until the host stops; [`http::serve`] and
//! [`grpc::serve`] are that function for a `Router` and for a tonic service.
//! A client lives inside one of the harness's client hosts and sends one
//! request at a time, each bounded by a call timeout; a failed call says how
//! far it got, as a [`harness::rpc::CallError`], so the history can record
//! `fail` (certainly not applied) or `info` (may have been applied) honestly.
//! Clients reuse their connection while calls succeed and open a new one
//! after any error: a connection that lost a segment in turmoil (which does
//! not retransmit) would otherwise stall every later call.
//!
//! Each adapter is behind a feature, so a harness user pays for neither
//! unless they ask: `axum` (axum 0.8, hyper 1, hyper-util 0.1) and `tonic`
//! (tonic 0.14, prost 0.14). Neither enables TLS, compression or the
//! multi-threaded runtime.

#[cfg(feature = "tonic")]
pub mod grpc;
#[cfg(feature = "axum")]
pub mod http;
#[cfg(any(feature = "axum", feature = "tonic"))]
mod net;

pub use harness::rpc::{CallError, DEFAULT_CALL_TIMEOUT};
