//! The gRPC interface of the counter service: what `tonic-prost-build`
//! would generate from this `.proto`, written out by hand so the build
//! needs neither `protoc` nor a build script:
//!
//! ```proto
//! syntax = "proto3";
//! package chaos.counter;
//! service Counter {
//!   rpc Add(AddRequest) returns (AddReply);
//!   rpc Read(ReadRequest) returns (ReadReply);
//! }
//! message AddRequest { string key = 1; int64 delta = 2; uint64 request_id = 3; }
//! message AddReply { int64 value = 1; }
//! message ReadRequest { string key = 1; }
//! message ReadReply { int64 value = 1; }
//! ```
//!
//! A service of your own keeps its generated code; the adapter serves any
//! tonic service, generated or not.

use chaos_adapters::grpc::prost;
use chaos_adapters::grpc::tonic::{
    self, body::Body, codegen::http, server::NamedService, server::UnaryService, Request, Response,
    Status,
};
use chaos_adapters::grpc::tonic_prost::ProstCodec;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

#[derive(Clone, PartialEq, prost::Message)]
#[prost(prost_path = "::chaos_adapters::grpc::prost")]
pub struct AddRequest {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(int64, tag = "2")]
    pub delta: i64,
    /// The client's idempotency key: an `Add` seen before is not applied again.
    #[prost(uint64, tag = "3")]
    pub request_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
#[prost(prost_path = "::chaos_adapters::grpc::prost")]
pub struct AddReply {
    #[prost(int64, tag = "1")]
    pub value: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
#[prost(prost_path = "::chaos_adapters::grpc::prost")]
pub struct ReadRequest {
    #[prost(string, tag = "1")]
    pub key: String,
}

#[derive(Clone, PartialEq, prost::Message)]
#[prost(prost_path = "::chaos_adapters::grpc::prost")]
pub struct ReadReply {
    #[prost(int64, tag = "1")]
    pub value: i64,
}

const SERVICE: &str = "chaos.counter.Counter";
const ADD: &str = "/chaos.counter.Counter/Add";
const READ: &str = "/chaos.counter.Counter/Read";

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// The server side: what a counter service implements.
pub trait Counter: Send + Sync + 'static {
    fn add(&self, request: Request<AddRequest>) -> BoxFuture<Response<AddReply>, Status>;
    fn read(&self, request: Request<ReadRequest>) -> BoxFuture<Response<ReadReply>, Status>;
}

/// A [`Counter`] as a tonic service (the generated `CounterServer`).
pub struct CounterServer<T>(Arc<T>);

impl<T> CounterServer<T> {
    pub fn new(counter: T) -> CounterServer<T> {
        CounterServer(Arc::new(counter))
    }
}

impl<T> Clone for CounterServer<T> {
    fn clone(&self) -> Self {
        CounterServer(self.0.clone())
    }
}

impl<T> NamedService for CounterServer<T> {
    const NAME: &'static str = SERVICE;
}

/// One method of a [`Counter`] as tonic's unary-service interface.
struct Method<T, F>(Arc<T>, F);

impl<T, Req, Resp, F> UnaryService<Req> for Method<T, F>
where
    F: Fn(&T, Request<Req>) -> BoxFuture<Response<Resp>, Status>,
{
    type Response = Resp;
    type Future = BoxFuture<Response<Resp>, Status>;

    fn call(&mut self, request: Request<Req>) -> Self::Future {
        (self.1)(&self.0, request)
    }
}

impl<T, B> tonic::codegen::Service<http::Request<B>> for CounterServer<T>
where
    T: Counter,
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<http::Response<Body>, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let counter = self.0.clone();
        match request.uri().path() {
            ADD => Box::pin(async move {
                let mut grpc =
                    tonic::server::Grpc::new(ProstCodec::<AddReply, AddRequest>::default());
                Ok(grpc.unary(Method(counter, T::add), request).await)
            }),
            READ => Box::pin(async move {
                let mut grpc =
                    tonic::server::Grpc::new(ProstCodec::<ReadReply, ReadRequest>::default());
                Ok(grpc.unary(Method(counter, T::read), request).await)
            }),
            _ => Box::pin(async move { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

/// The client side (the generated `CounterClient`).
pub struct CounterClient {
    grpc: tonic::client::Grpc<tonic::transport::Channel>,
}

impl CounterClient {
    pub fn new(channel: tonic::transport::Channel) -> CounterClient {
        CounterClient {
            grpc: tonic::client::Grpc::new(channel),
        }
    }

    pub async fn add(&mut self, request: AddRequest) -> Result<Response<AddReply>, Status> {
        self.unary(request, ADD).await
    }

    pub async fn read(&mut self, request: ReadRequest) -> Result<Response<ReadReply>, Status> {
        self.unary(request, READ).await
    }

    async fn unary<Req, Resp>(
        &mut self,
        request: Req,
        path: &'static str,
    ) -> Result<Response<Resp>, Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        self.grpc
            .ready()
            .await
            .map_err(|e| Status::unavailable(format!("channel not ready: {e}")))?;
        let path = http::uri::PathAndQuery::from_static(path);
        self.grpc
            .unary(Request::new(request), path, ProstCodec::default())
            .await
    }
}
