//! The chain's client: one connection to the gateway, one request at a time.
//!
//! The client does not retry — retrying is the gateway's job — and waits
//! up to `client_timeout` for an answer. It reports what the gateway said:
//! the calls it made (as attempts), whether a read was degraded, and why a
//! request failed. When no answer comes, a read is a definite failure
//! (`timeout`) but a write or cas is unknown (`info`): the gateway may have
//! applied it.

use super::gateway::{GATEWAY_HOST, GATEWAY_PORT};
use super::protocol::{GatewayReply, Request, Status};
use crate::systems::wire::{split_lines, LineReader, LineWriter};
use harness::history::{Op, OpKind};
use harness::target::{Client, Completion, LocalBoxFuture};
use std::time::Duration;
use turmoil::net::TcpStream;

pub struct ChainClient {
    timeout: Duration,
    conn: Option<(LineReader, LineWriter)>,
}

impl ChainClient {
    pub fn new(timeout: Duration) -> ChainClient {
        ChainClient {
            timeout,
            conn: None,
        }
    }

    async fn run(&mut self, op: &Op) -> Completion {
        let Some(request) = Request::from_op(op) else {
            return Completion::unavailable(op.value.clone(), "unsupported operation");
        };
        let deadline = tokio::time::Instant::now() + self.timeout;
        if self.conn.is_none() {
            let connect = TcpStream::connect((GATEWAY_HOST, GATEWAY_PORT));
            match tokio::time::timeout_at(deadline, connect).await {
                Ok(Ok(stream)) => self.conn = Some(split_lines(stream)),
                _ => return Completion::unavailable(op.value.clone(), "unreachable"),
            }
        }
        let (reader, writer) = self.conn.as_mut().expect("connected above");
        if !matches!(
            tokio::time::timeout_at(deadline, writer.send(&request.line)).await,
            Ok(Ok(()))
        ) {
            self.conn = None;
            return Completion::unavailable(op.value.clone(), "unreachable");
        }
        let reply = match tokio::time::timeout_at(deadline, reader.recv()).await {
            Ok(Ok(Some(line))) => GatewayReply::parse(line),
            _ => None,
        };
        let Some(reply) = reply else {
            // A late answer must not be taken for the next request's.
            self.conn = None;
            return if op.f.is_mutation() {
                Completion::info(op.value.clone()).with_error("timeout")
            } else {
                Completion::unavailable(op.value.clone(), "timeout")
            };
        };
        let completion = match reply.status {
            Status::Ok if op.f == OpKind::Read => {
                Completion::ok(reply.value).with_degraded(reply.note != "primary")
            }
            Status::Ok => Completion::ok(op.value.clone()),
            Status::Fail => Completion::fail(op.value.clone()),
            Status::Unavailable => Completion::unavailable(op.value.clone(), reply.note),
            Status::Unknown => Completion::info(op.value.clone()).with_error(reply.note),
        };
        completion.with_attempts(reply.attempts)
    }
}

impl Client for ChainClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(self.run(op))
    }
}
