//! The service: a gRPC counter per key, with idempotency keys.
//!
//! `Add` adds `delta` to a key's counter and answers the new value; `Read`
//! answers it (0 for a key never added to). Every `Add` carries a
//! `request_id`; the server remembers the answers to the last
//! [`DEDUP_WINDOW`] ids and answers a repeated id from memory without
//! adding again, so a client may resend an `Add` whose reply was lost.
//! State is in memory: a restart begins at zero with nothing remembered.

use super::proto::{AddReply, AddRequest, Counter, ReadReply, ReadRequest};
use chaos_adapters::grpc::tonic::{Request, Response, Status};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// Request ids remembered for deduplication; the oldest is forgotten first.
pub const DEDUP_WINDOW: usize = 100_000;

/// The port the service listens on.
pub const PORT: u16 = 50051;

#[derive(Default)]
pub struct CounterService {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    values: BTreeMap<String, i64>,
    answered: BTreeMap<u64, i64>,
    answered_order: VecDeque<u64>,
}

type Reply<T> = Pin<Box<dyn Future<Output = Result<Response<T>, Status>> + Send>>;

impl Counter for CounterService {
    fn add(&self, request: Request<AddRequest>) -> Reply<AddReply> {
        let request = request.into_inner();
        let mut state = self.state.lock().expect("no panics while held");
        let value = match state.answered.get(&request.request_id) {
            Some(value) => *value,
            None => {
                let counter = state.values.entry(request.key).or_default();
                *counter = counter.saturating_add(request.delta);
                let value = *counter;
                state.answered.insert(request.request_id, value);
                state.answered_order.push_back(request.request_id);
                if state.answered_order.len() > DEDUP_WINDOW {
                    let oldest = state.answered_order.pop_front().expect("over the window");
                    state.answered.remove(&oldest);
                }
                value
            }
        };
        Box::pin(async move { Ok(Response::new(AddReply { value })) })
    }

    fn read(&self, request: Request<ReadRequest>) -> Reply<ReadReply> {
        let state = self.state.lock().expect("no panics while held");
        let value = state
            .values
            .get(&request.get_ref().key)
            .copied()
            .unwrap_or(0);
        Box::pin(async move { Ok(Response::new(ReadReply { value })) })
    }
}
