//! The service: an HTTP key-value store written as an ordinary axum app.
//!
//! `GET /kv/{key}` answers the value as JSON (404 if the key was never
//! written), `PUT /kv/{key}` stores a JSON value, and `POST /kv/{key}/cas`
//! with `{"expected": …, "new": …}` replaces the value only if it is the
//! expected one (409 Conflict otherwise). Values live in memory; every
//! mutation also waits for a write-through to a backing store that takes
//! `store_latency`, during which the store lock is held, so mutations of
//! one server apply one at a time.
//!
//! Planted bug (`check_then_act`): the compare-and-set checks the current
//! value under the lock, releases it for the slow backing-store write, and
//! takes it again to apply the new value. Two concurrent compare-and-sets
//! from the same value then both succeed — the classic check-then-act race
//! of a handler that awaits between its read and its write.

use chaos_adapters::http::axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::get,
    routing::post,
    Json, Router,
};
use harness::history::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// The port the service listens on.
pub const PORT: u16 = 8080;

/// The body of `POST /kv/{key}/cas`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CasBody {
    pub expected: Value,
    pub new: Value,
}

/// How the service behaves.
#[derive(Clone, Copy, Debug)]
pub struct ServiceConfig {
    /// Time a write takes to reach the backing store.
    pub store_latency: Duration,
    /// Planted bug: compare-and-set releases the lock between check and set.
    pub check_then_act: bool,
}

#[derive(Clone)]
struct Store {
    values: Arc<Mutex<BTreeMap<String, Value>>>,
    config: ServiceConfig,
}

impl Store {
    /// The write-through to the backing store, modelled by its latency.
    async fn write_through(&self) {
        tokio::time::sleep(self.config.store_latency).await;
    }
}

/// The whole service, as any axum app builds it. A restarted server starts
/// empty.
pub fn router(config: ServiceConfig) -> Router {
    let store = Store {
        values: Arc::default(),
        config,
    };
    Router::new()
        .route("/kv/{key}", get(read).put(write))
        .route("/kv/{key}/cas", post(cas))
        .with_state(store)
}

async fn read(
    State(store): State<Store>,
    Path(key): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    let values = store.values.lock().await;
    values
        .get(&key)
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

async fn write(
    State(store): State<Store>,
    Path(key): Path<String>,
    Json(value): Json<Value>,
) -> StatusCode {
    let mut values = store.values.lock().await;
    store.write_through().await;
    values.insert(key, value);
    StatusCode::NO_CONTENT
}

async fn cas(
    State(store): State<Store>,
    Path(key): Path<String>,
    Json(body): Json<CasBody>,
) -> StatusCode {
    let current =
        |values: &BTreeMap<String, Value>| values.get(&key).cloned().unwrap_or(Value::Nil);
    if store.config.check_then_act {
        if current(&*store.values.lock().await) != body.expected {
            return StatusCode::CONFLICT;
        }
        // The bug: another request may change the value during this await.
        store.write_through().await;
        store.values.lock().await.insert(key, body.new);
        return StatusCode::NO_CONTENT;
    }
    let mut values = store.values.lock().await;
    if current(&values) != body.expected {
        return StatusCode::CONFLICT;
    }
    store.write_through().await;
    values.insert(key, body.new);
    StatusCode::NO_CONTENT
}
