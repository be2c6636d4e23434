//! The tonic adapter in a bare turmoil simulation, with the counter
//! service: calls answer through `GrpcClient`; a resent add under the same
//! idempotency key counts once; a lost reply is `TimedOut` (may have been
//! applied) and the next call works on a fresh channel; a port nobody
//! serves is `Unreachable`; a status the server chose is `Rejected`.

use super::proto::{AddRequest, CounterClient, CounterServer, ReadRequest};
use super::service::{CounterService, PORT};
use chaos_adapters::grpc::tonic::Code;
use chaos_adapters::grpc::{serve, GrpcClient, GrpcError};
use chaos_adapters::CallError;
use std::time::Duration;

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
    sim.host("server", || {
        serve(PORT, CounterServer::new(CounterService::default()))
    });
    sim
}

async fn add(grpc: &mut GrpcClient, request_id: u64) -> Result<i64, GrpcError> {
    let request = AddRequest {
        key: "k".into(),
        delta: 1,
        request_id,
    };
    let call = |ch| async move { CounterClient::new(ch).add(request).await };
    grpc.call(call).await.map(|reply| reply.value)
}

async fn read(grpc: &mut GrpcClient) -> Result<i64, GrpcError> {
    let request = ReadRequest { key: "k".into() };
    let call = |ch| async move { CounterClient::new(ch).read(request).await };
    grpc.call(call).await.map(|reply| reply.value)
}

#[test]
fn a_resent_add_with_the_same_key_counts_once() {
    let mut sim = sim();
    sim.client("client", async {
        let mut grpc = GrpcClient::new("server", PORT);
        assert_eq!(add(&mut grpc, 1).await?, 1);
        assert_eq!(add(&mut grpc, 1).await?, 1, "answered from memory");
        assert_eq!(add(&mut grpc, 2).await?, 2);
        assert_eq!(read(&mut grpc).await?, 2);
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn a_lost_reply_may_have_been_applied_and_the_next_call_reconnects() {
    let mut sim = sim();
    sim.client("client", async {
        let mut grpc = GrpcClient::new("server", PORT).call_timeout(Duration::from_millis(200));
        assert_eq!(add(&mut grpc, 1).await?, 1);
        turmoil::partition_oneway("server", "client");
        let error = add(&mut grpc, 2).await.unwrap_err();
        assert!(
            matches!(error, GrpcError::Call(CallError::TimedOut(_))),
            "{error}"
        );
        assert!(error.may_have_been_applied());
        turmoil::repair_oneway("server", "client");
        assert_eq!(
            read(&mut grpc).await?,
            2,
            "the add whose reply was lost was applied"
        );
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn a_port_nobody_serves_is_unreachable() {
    let mut sim = sim();
    sim.client("client", async {
        let mut grpc = GrpcClient::new("server", PORT + 1);
        let error = add(&mut grpc, 1).await.unwrap_err();
        assert!(
            matches!(error, GrpcError::Call(CallError::Unreachable(_))),
            "{error}"
        );
        assert!(!error.may_have_been_applied());
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn a_status_the_server_chose_is_a_definite_rejection() {
    let mut sim = sim();
    sim.client("client", async {
        let mut grpc = GrpcClient::new("server", PORT);
        // No such method on the service: the server answers UNIMPLEMENTED.
        let call = |ch| async move {
            let mut grpc = chaos_adapters::grpc::tonic::client::Grpc::new(ch);
            grpc.ready().await.unwrap();
            let path = "/chaos.counter.Counter/Nope".parse().unwrap();
            let codec =
                chaos_adapters::grpc::tonic_prost::ProstCodec::<ReadRequest, ReadRequest>::default(
                );
            grpc.unary(
                chaos_adapters::grpc::tonic::Request::new(ReadRequest::default()),
                path,
                codec,
            )
            .await
        };
        let error = grpc.call(call).await.unwrap_err();
        match &error {
            GrpcError::Rejected(status) => assert_eq!(status.code(), Code::Unimplemented),
            other => panic!("expected a rejection, got {other}"),
        }
        assert!(!error.may_have_been_applied());
        assert_eq!(error.reason(), "unimplemented");
        assert_eq!(read(&mut grpc).await?, 0);
        Ok(())
    });
    sim.run().unwrap();
}
