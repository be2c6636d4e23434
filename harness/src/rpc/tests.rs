//! The RPC helpers in a turmoil simulation: each failure mode is produced
//! by a real network condition, and classified as the module docs say.

use super::*;
use crate::history::{OpKind, Outcome, Value};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

const PORT: u16 = 7100;

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    id: u64,
    delay_ms: u64,
    padding: String,
}

fn request(id: u64) -> Request {
    Request {
        id,
        delay_ms: 0,
        padding: String::new(),
    }
}

/// Answers each request with its id after its delay, and remembers every
/// id it applied.
fn echo_server(
    applied: Rc<RefCell<Vec<u64>>>,
    server: RpcServer,
) -> impl Fn() -> Pin<Box<dyn Future<Output = turmoil::Result>>> {
    move || {
        let applied = applied.clone();
        let server = server.clone();
        Box::pin(async move {
            server
                .serve(move |r: Request| {
                    let applied = applied.clone();
                    async move {
                        applied.borrow_mut().push(r.id);
                        tokio::time::sleep(Duration::from_millis(r.delay_ms)).await;
                        r.id
                    }
                })
                .await
        })
    }
}

fn sim() -> turmoil::Sim<'static> {
    // A fixed latency and seed, so every timing below is exact.
    turmoil::Builder::new()
        .simulation_duration(Duration::from_secs(60))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .rng_seed(1)
        .build()
}

fn client() -> RpcClient<Request, u64> {
    RpcClient::new("server", PORT).call_timeout(Duration::from_millis(100))
}

#[test]
fn calls_reuse_one_connection_and_reconnect_after_a_restart() {
    let mut sim = sim();
    let applied = Rc::new(RefCell::new(Vec::new()));
    sim.host("server", echo_server(applied.clone(), RpcServer::new(PORT)));
    let errors = Rc::new(RefCell::new(Vec::new()));
    let seen = errors.clone();
    sim.client("client", async move {
        let mut rpc = client();
        assert_eq!(rpc.call(&request(1)).await, Ok(1));
        assert!(rpc.is_connected());
        assert_eq!(rpc.call(&request(2)).await, Ok(2));
        assert_eq!(
            turmoil::established_tcp_stream_count(),
            1,
            "one connection, reused"
        );
        tokio::time::sleep(Duration::from_secs(2)).await; // the server restarts meanwhile
        let err = rpc.call(&request(3)).await.unwrap_err();
        seen.borrow_mut().push(err.clone());
        assert!(!rpc.is_connected(), "dropped after the error");
        assert_eq!(rpc.call(&request(4)).await, Ok(4), "a fresh connection");
        Ok(())
    });
    while sim.elapsed() < Duration::from_secs(1) {
        sim.step().unwrap();
    }
    sim.bounce("server");
    sim.run().unwrap();
    let err = &errors.borrow()[0];
    assert!(
        matches!(err, CallError::ConnectionLost(_) | CallError::NotSent(_)),
        "{err:?}"
    );
    assert_eq!(*applied.borrow(), [1, 2, 4]);
}

#[test]
fn a_lost_reply_is_a_timeout_that_may_have_been_applied_and_is_never_read_later() {
    let mut sim = sim();
    let applied = Rc::new(RefCell::new(Vec::new()));
    sim.host("server", echo_server(applied.clone(), RpcServer::new(PORT)));
    sim.client("client", async move {
        let mut rpc = client();
        assert_eq!(rpc.call(&request(1)).await, Ok(1));
        // Requests still arrive; replies do not.
        turmoil::partition_oneway("server", "client");
        let err = rpc.call(&request(2)).await.unwrap_err();
        assert_eq!(err, CallError::TimedOut(Duration::from_millis(100)));
        assert!(err.may_have_been_applied());
        turmoil::repair_oneway("server", "client");
        // A slow answer to 3 arrives after its timeout, on the old
        // connection; call 4 must not take it for its own.
        let slow = Request {
            delay_ms: 150,
            ..request(3)
        };
        assert_eq!(
            rpc.call(&slow).await,
            Err(CallError::TimedOut(Duration::from_millis(100)))
        );
        assert_eq!(rpc.call(&request(4)).await, Ok(4));
        Ok(())
    });
    sim.run().unwrap();
    assert_eq!(
        *applied.borrow(),
        [1, 2, 3, 4],
        "the timed-out calls were applied"
    );
}

#[test]
fn an_unreachable_server_is_certainly_not_applied() {
    let mut sim = sim();
    let applied = Rc::new(RefCell::new(Vec::new()));
    sim.host("server", echo_server(applied.clone(), RpcServer::new(PORT)));
    sim.client("client", async move {
        // Nothing listens on this port: refused.
        let mut other: RpcClient<Request, u64> = RpcClient::new("server", PORT + 1);
        let err = other.call(&request(1)).await.unwrap_err();
        assert!(matches!(err, CallError::Unreachable(_)), "{err:?}");
        assert!(!err.may_have_been_applied());
        // Cut off entirely: the connection attempt itself times out.
        turmoil::partition("client", "server");
        let err = client().call(&request(2)).await.unwrap_err();
        assert!(matches!(err, CallError::Unreachable(_)), "{err:?}");
        Ok(())
    });
    sim.run().unwrap();
    assert!(applied.borrow().is_empty());
}

#[test]
fn frame_limits_hold_on_both_ends() {
    let mut sim = sim();
    let applied = Rc::new(RefCell::new(Vec::new()));
    sim.host(
        "server",
        echo_server(applied.clone(), RpcServer::new(PORT).max_frame_bytes(200)),
    );
    sim.client("client", async move {
        let big = Request {
            padding: "x".repeat(500),
            ..request(1)
        };
        // Refused before sending by the client's own limit…
        let mut strict = client().max_frame_bytes(100);
        let err = strict.call(&big).await.unwrap_err();
        assert!(
            matches!(&err, CallError::NotSent(why) if why.contains("max_frame_bytes")),
            "{err:?}"
        );
        // …or by the server's, which closes the connection unanswered.
        let err = client().call(&big).await.unwrap_err();
        assert!(matches!(err, CallError::ConnectionLost(_)), "{err:?}");
        assert_eq!(client().call(&request(2)).await, Ok(2));
        Ok(())
    });
    sim.run().unwrap();
    assert_eq!(*applied.borrow(), [2]);
}

#[test]
fn connections_beyond_the_limit_are_closed() {
    let mut sim = sim();
    let applied = Rc::new(RefCell::new(Vec::new()));
    sim.host(
        "server",
        echo_server(applied.clone(), RpcServer::new(PORT).max_connections(1)),
    );
    sim.client("client", async move {
        let mut first = client();
        assert_eq!(first.call(&request(1)).await, Ok(1));
        let err = client().call(&request(2)).await.unwrap_err();
        assert!(matches!(err, CallError::ConnectionLost(_)), "{err:?}");
        drop(first);
        // Time for the close to reach the server.
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(
            client().call(&request(3)).await,
            Ok(3),
            "a slot is free again"
        );
        Ok(())
    });
    sim.run().unwrap();
    assert_eq!(*applied.borrow(), [1, 3]);
}

#[test]
fn errors_map_to_history_outcomes_by_whether_they_may_have_applied() {
    let write = Op {
        f: OpKind::Write,
        key: Some("k".into()),
        value: Value::Int(1),
    };
    let read = Op {
        f: OpKind::Read,
        key: Some("k".into()),
        value: Value::Nil,
    };
    let lost = CallError::TimedOut(Duration::from_millis(5));
    let refused = CallError::Unreachable("refused".into());
    assert_eq!(lost.completion(&write).outcome, Outcome::Info);
    assert_eq!(lost.completion(&write).error.as_deref(), Some("timeout"));
    assert_eq!(lost.completion(&read).outcome, Outcome::Fail);
    assert_eq!(refused.completion(&write).outcome, Outcome::Fail);
    assert_eq!(
        refused.completion(&write).error.as_deref(),
        Some("unreachable")
    );
}
