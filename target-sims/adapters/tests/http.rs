//! The axum adapter in a bare turmoil simulation: a router served by
//! `serve` answers `HttpClient`; a call whose reply does not come is
//! `TimedOut` (may have been applied); a port nobody serves is
//! `Unreachable` (not applied); and after a partition heals the client
//! talks again on a fresh connection.

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use chaos_adapters::http::{axum, serve, HttpClient};
use chaos_adapters::CallError;
use harness::turmoil;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Store = Arc<Mutex<BTreeMap<String, i64>>>;

fn router() -> Router {
    Router::new()
        .route(
            "/n/{key}",
            put(
                |State(s): State<Store>, Path(k): Path<String>, Json(v): Json<i64>| async move {
                    s.lock().unwrap().insert(k, v);
                    "stored"
                },
            )
            .get(|State(s): State<Store>, Path(k): Path<String>| async move {
                Json(s.lock().unwrap().get(&k).copied())
            }),
        )
        .route(
            "/slow",
            get(|| async {
                harness::tokio::time::sleep(Duration::from_millis(500)).await;
                "late"
            }),
        )
        .with_state(Store::default())
}

fn sim() -> turmoil::Sim<'static> {
    let mut sim = turmoil::Builder::new()
        .simulation_duration(Duration::from_secs(30))
        // A fixed seed and a fixed 1 ms hop: turmoil's default is an OS-seeded
        // RNG and up to 100 ms per message, which made a round trip
        // sometimes outlast the tests' call timeouts (100–200 ms).
        .rng_seed(1)
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .build();
    sim.host("server", || serve(8080, router()));
    sim
}

#[test]
fn a_router_answers_json_requests() {
    let mut sim = sim();
    sim.client("client", async {
        let mut http = HttpClient::new("server", 8080);
        let stored = http.put_json("/n/a", &7).await?;
        assert_eq!(stored.status, 200);
        assert_eq!(&stored.body[..], b"stored");
        assert_eq!(http.get("/n/a").await?.json::<Option<i64>>()?, Some(7));
        assert_eq!(http.get("/n/b").await?.json::<Option<i64>>()?, None);
        assert_eq!(http.get("/nowhere").await?.status, 404);
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn a_reply_later_than_the_timeout_may_have_been_applied_and_the_next_call_works() {
    let mut sim = sim();
    sim.client("client", async {
        let mut http = HttpClient::new("server", 8080).call_timeout(Duration::from_millis(100));
        let error = http.get("/slow").await.unwrap_err();
        assert_eq!(error, CallError::TimedOut(Duration::from_millis(100)));
        assert!(error.may_have_been_applied());
        // A fresh connection: the late "late" is never read as this reply.
        http.put_json("/n/a", &1).await?;
        assert_eq!(http.get("/n/a").await?.json::<Option<i64>>()?, Some(1));
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn a_port_nobody_serves_is_unreachable_and_not_applied() {
    let mut sim = sim();
    sim.client("client", async {
        let mut http = HttpClient::new("server", 9999);
        let error = http.put_json("/n/a", &1).await.unwrap_err();
        assert!(matches!(error, CallError::Unreachable(_)), "{error}");
        assert!(!error.may_have_been_applied());
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn after_a_partition_heals_the_client_reconnects() {
    let mut sim = sim();
    sim.client("client", async {
        let mut http = HttpClient::new("server", 8080).call_timeout(Duration::from_millis(200));
        http.put_json("/n/a", &1).await?;
        turmoil::partition("client", "server");
        let error = http.put_json("/n/a", &2).await.unwrap_err();
        assert!(error.may_have_been_applied() || matches!(error, CallError::Unreachable(_)));
        turmoil::repair("client", "server");
        let value = http.get("/n/a").await?.json::<Option<i64>>()?;
        assert_eq!(value, Some(1), "the write sent into the partition was lost");
        Ok(())
    });
    sim.run().unwrap();
}
