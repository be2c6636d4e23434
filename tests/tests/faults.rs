//! Every fault kind, observed by a system under test. A fault counts as
//! supported only when a test like these shows a target noticing it.

use harness::check::Status;
use harness::history::{Op, OpKind};
use harness::history::{Operation, Outcome, Value};
use harness::record::{RunRecord, TraceKind};
use harness::scenario::{
    AvailabilitySpec, FaultEventSpec, RandomFaultKind, RandomFaultsSpec, ScenarioBuilder,
};
use harness::suite::{execute, ExecOptions, LoadedScenario, SeedRun};
use harness::target::{
    Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, Registry, SettingsError, System, Target,
};
use std::sync::Arc;
use std::time::Duration;

const S: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;

fn run_with(registry: &Registry, builder: ScenarioBuilder, seed: u64) -> SeedRun {
    let scenario = builder.build();
    let loaded = LoadedScenario::from_scenario(scenario, registry).expect("valid scenario");
    execute(&loaded, seed, &ExecOptions::default())
}

fn run(builder: ScenarioBuilder) -> SeedRun {
    run_with(&target_sims::registry(), builder, 3)
}

/// A register scenario: 4 clients, 10 s, reads and writes on one key.
fn register(name: &str) -> ScenarioBuilder {
    ScenarioBuilder::new(name, "register")
        .duration(S(10))
        .clients(4)
        .rate(20.0)
        .mix(&[(OpKind::Read, 1), (OpKind::Write, 1)])
}

fn ops(record: &RunRecord) -> Vec<Operation> {
    record.history.operations().unwrap()
}

fn invoked_in(op: &Operation, from: Duration, to: Duration) -> bool {
    let t = Duration::from_nanos(op.invoke_ns);
    t >= from && t < to
}

fn answered_ratio(ops: &[Operation], from: Duration, to: Duration) -> f64 {
    let window: Vec<_> = ops.iter().filter(|o| invoked_in(o, from, to)).collect();
    assert!(!window.is_empty(), "no operations in {from:?}..{to:?}");
    window.iter().filter(|o| o.answered()).count() as f64 / window.len() as f64
}

fn trace_messages(record: &RunRecord, source: &str, message: &str) -> Vec<Duration> {
    record
        .trace
        .iter()
        .filter(|e| e.source == source && e.message.contains(message))
        .map(|e| Duration::from_nanos(e.time_ns))
        .collect()
}

#[test]
fn isolate_makes_requests_fail_until_the_heal() {
    let r = run(register("isolate").fault(FaultEventSpec::Isolate {
        at: S(3),
        duration: Some(S(3)),
        host: "server".into(),
    }));
    let ops = ops(&r.record);
    assert_eq!(answered_ratio(&ops, S(0), S(3)), 1.0);
    let during = answered_ratio(&ops, MS(3300), MS(5200));
    assert!(during < 0.05, "{during}");
    assert_eq!(answered_ratio(&ops, MS(6300), S(10)), 1.0);
}

#[test]
fn a_partition_between_named_groups_cuts_only_those_links() {
    let r = run(register("groups")
        .client_hosts(2)
        .fault(FaultEventSpec::Partition {
            at: S(2),
            duration: Some(S(4)),
            sides: vec![vec!["server".into()], vec!["client-1".into()]],
        }));
    let ops = ops(&r.record);
    // Clients 0 and 2 live on client-0, 1 and 3 on client-1.
    let on_host = |host: u64| -> Vec<Operation> {
        ops.iter()
            .filter(|o| o.process % 4 % 2 == host)
            .cloned()
            .collect()
    };
    assert_eq!(answered_ratio(&on_host(0), MS(2300), S(6)), 1.0);
    assert!(answered_ratio(&on_host(1), MS(2300), S(6)) < 0.05);
}

#[test]
fn a_oneway_partition_loses_answers_so_writes_become_unknown() {
    let r = run(register("oneway").fault(FaultEventSpec::PartitionOneway {
        at: S(3),
        duration: Some(S(3)),
        from: vec!["server".into()],
        to: vec!["clients".into()],
    }));
    let ops = ops(&r.record);
    let writes: Vec<_> = ops
        .iter()
        .filter(|o| o.f == OpKind::Write && invoked_in(o, MS(3300), MS(5500)))
        .collect();
    assert!(!writes.is_empty());
    assert!(
        writes.iter().all(|o| o.outcome == Outcome::Info),
        "requests arrive but answers do not: the outcome is unknown"
    );
    assert_eq!(answered_ratio(&ops, MS(6500), S(10)), 1.0);
}

#[test]
fn latency_slows_every_operation_in_its_window() {
    let r = run(register("latency").fault(FaultEventSpec::Latency {
        at: S(3),
        duration: Some(S(3)),
        between: Some([vec!["server".into()], vec!["clients".into()]]),
        latency: MS(40),
        jitter: MS(10),
    }));
    let ops = ops(&r.record);
    for op in ops.iter().filter(|o| o.outcome == Outcome::Ok) {
        let latency = Duration::from_nanos(op.latency_ns().unwrap());
        if invoked_in(op, MS(3100), MS(5800)) {
            assert!(
                latency >= MS(80),
                "one round trip is at least 2 x 40ms: {latency:?}"
            );
        } else if invoked_in(op, MS(6200), S(10)) {
            assert!(latency < MS(20), "back to the base latency: {latency:?}");
        }
    }
}

#[test]
fn loss_breaks_some_requests_and_stops_at_its_end() {
    let r = run(register("loss").rate(40.0).fault(FaultEventSpec::Loss {
        at: S(2),
        duration: Some(S(5)),
        between: None,
        rate: 0.3,
    }));
    let ops = ops(&r.record);
    let during = answered_ratio(&ops, S(2), S(7));
    assert!(
        during < 0.95 && during > 0.0,
        "some but not all requests lost: {during}"
    );
    assert_eq!(answered_ratio(&ops, MS(7500), S(10)), 1.0);
}

#[test]
fn a_crash_loses_in_memory_state_and_restart_brings_the_server_back() {
    let r = run(register("crash").fault(FaultEventSpec::Crash {
        at: S(4),
        duration: Some(S(2)),
        host: "server".into(),
        spread: None,
    }));
    let starts = trace_messages(&r.record, "server", "server listening");
    assert_eq!(
        starts,
        vec![Duration::ZERO, S(6)],
        "started at boot and at the restart"
    );
    assert!(trace_messages(&r.record, "server", "crashed").len() == 1);
    let ops = ops(&r.record);
    // Until 750 ms before the restart: a read retried three times (200 ms
    // each, 50 ms apart) may bridge the outage and rightly succeed.
    let during = answered_ratio(&ops, MS(4100), MS(5200));
    assert!(during < 0.05, "{during}");
    // Power loss: the first read after the restart finds nothing.
    let first_read_after = ops
        .iter()
        .filter(|o| o.f == OpKind::Read && o.outcome == Outcome::Ok && invoked_in(o, S(6), S(10)))
        .min_by_key(|o| o.invoke_ns)
        .unwrap();
    assert_eq!(first_read_after.output, Value::Nil);
}

#[test]
fn a_bounce_restarts_the_process_at_once() {
    let r = run(register("bounce").fault(FaultEventSpec::Bounce {
        at: S(5),
        host: "server".into(),
        spread: None,
    }));
    let starts = trace_messages(&r.record, "server", "server listening");
    assert_eq!(starts, vec![Duration::ZERO, S(5)]);
    assert!(r
        .record
        .trace
        .iter()
        .any(|e| e.kind == TraceKind::Host && e.message == "bounced"));
    let ops = ops(&r.record);
    assert_eq!(answered_ratio(&ops, MS(5500), S(10)), 1.0);
}

#[test]
fn a_paused_server_answers_nothing_until_it_resumes() {
    let r = run(register("pause").fault(FaultEventSpec::Pause {
        at: S(3),
        duration: Some(S(2)),
        host: "server".into(),
        spread: None,
    }));
    let ops = ops(&r.record);
    // Nothing completes while the host is paused...
    assert!(ops
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .all(|o| !(S(3)..MS(4999)).contains(&Duration::from_nanos(o.complete_ns.unwrap()))));
    // ...its memory survives (unlike a crash), and it serves again after.
    assert_eq!(answered_ratio(&ops, MS(5500), S(10)), 1.0);
    let first_read_after = ops
        .iter()
        .filter(|o| {
            o.f == OpKind::Read && o.outcome == Outcome::Ok && invoked_in(o, MS(5500), S(10))
        })
        .min_by_key(|o| o.invoke_ns)
        .unwrap();
    assert_ne!(first_read_after.output, Value::Nil);
}

#[test]
fn a_random_plan_hurts_during_the_storm_and_heals_before_the_end() {
    let mut hurt = 0;
    for seed in 0..8 {
        let builder = register("random")
            .duration(S(20))
            .random_faults(RandomFaultsSpec::with_kinds(vec![
                RandomFaultKind::Isolate,
                RandomFaultKind::Crash,
                RandomFaultKind::Pause,
            ]))
            .availability(AvailabilitySpec {
                min_ok_ratio_after_heal: Some(0.99),
                heal_grace: MS(500),
                ..Default::default()
            });
        let r = run_with(&target_sims::registry(), builder, seed);
        let availability = r
            .report
            .verdicts
            .iter()
            .find(|v| v.invariant == "availability")
            .unwrap();
        assert_eq!(
            availability.status,
            Status::Pass,
            "seed {seed}: {}",
            availability.summary
        );
        if availability.details["ok_ratio_during_faults"]
            .as_f64()
            .unwrap()
            < 0.9
        {
            hurt += 1;
        }
        assert!(r.plan.last_heal.unwrap() <= S(15));
    }
    assert!(
        hurt >= 4,
        "random faults should visibly hurt most seeds, hurt {hurt}/8"
    );
}

// --- A three-server echo cluster, to observe shapes that need several servers.

/// Each server pings its peers every 100 ms and logs when a peer becomes
/// reachable or unreachable; clients ping the server named by the key.
struct Echo;
struct EchoSystem;
struct EchoClient;
const ECHO_PORT: u16 = 7100;
const PEERS: [&str; 3] = ["n1", "n2", "n3"];

impl Target for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }
    fn description(&self) -> &'static str {
        "three servers that watch each other"
    }
    fn configure(&self, _: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        Ok(Arc::new(EchoSystem))
    }
}

async fn ping(host: &str) -> bool {
    let attempt = async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = turmoil::net::TcpStream::connect((host, ECHO_PORT))
            .await
            .ok()?;
        s.write_all(b"p").await.ok()?;
        let mut buf = [0u8; 1];
        s.read_exact(&mut buf).await.ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(50), attempt).await,
        Ok(Some(_))
    )
}

async fn echo_server(me: &'static str) -> turmoil::Result {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", ECHO_PORT)).await?;
    tokio::task::spawn_local(async move {
        let mut reachable = [true; 3];
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            for (i, peer) in PEERS.iter().enumerate() {
                if *peer == me {
                    continue;
                }
                let now = ping(peer).await;
                if now != reachable[i] {
                    reachable[i] = now;
                    tracing::info!(target: "echo", peer = *peer, reachable = now, "peer changed");
                }
            }
        }
    });
    loop {
        let (mut stream, _) = listener.accept().await?;
        tokio::task::spawn_local(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 1];
            while stream.read_exact(&mut buf).await.is_ok() {
                if stream.write_all(b"o").await.is_err() {
                    break;
                }
            }
        });
    }
}

impl System for EchoSystem {
    fn hosts(&self) -> Vec<String> {
        PEERS.iter().map(|s| s.to_string()).collect()
    }
    fn install(&self, sim: &mut turmoil::Sim<'_>, _: &HostEnv) {
        for peer in PEERS {
            sim.host(peer, move || echo_server(peer));
        }
    }
    fn client(&self, _: u64, _: &ClientEnv) -> Box<dyn Client> {
        Box::new(EchoClient)
    }
}

impl Client for EchoClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(async move {
            let host = op
                .key
                .as_deref()
                .map_or("n1", |k| PEERS[k[1..].parse::<usize>().unwrap() % 3]);
            if ping(host).await {
                Completion::ok(Value::Str(host.into()))
            } else {
                Completion::unavailable(Value::Nil, "unreachable")
            }
        })
    }
}

/// Pairs of servers that reported each other unreachable at some point.
fn cut_pairs(record: &RunRecord) -> std::collections::BTreeSet<(String, String)> {
    record
        .trace
        .iter()
        .filter(|e| e.target.as_deref() == Some("echo"))
        .filter(|e| {
            e.fields
                .iter()
                .any(|(k, v)| k == "reachable" && v == "false")
        })
        .map(|e| {
            let peer = e
                .fields
                .iter()
                .find(|(k, _)| k == "peer")
                .unwrap()
                .1
                .clone();
            let (a, b) = (e.source.clone(), peer);
            if a < b {
                (a, b)
            } else {
                (b, a)
            }
        })
        .collect()
}

fn echo(name: &str, fault: FaultEventSpec) -> SeedRun {
    let registry = Registry::new().with_target(Echo);
    let builder = ScenarioBuilder::new(name, "echo")
        .duration(S(6))
        .clients(3)
        .keys(3)
        .rate(10.0)
        .mix(&[(OpKind::Read, 1)])
        .fault(fault);
    run_with(&registry, builder, 5)
}

#[test]
fn majority_minority_cuts_one_server_from_the_other_two() {
    let r = echo(
        "majority",
        FaultEventSpec::MajorityMinority {
            at: S(2),
            duration: Some(S(2)),
            host: None,
        },
    );
    let cut = cut_pairs(&r.record);
    assert_eq!(
        cut.len(),
        2,
        "the minority server loses both peers: {cut:?}"
    );
    let minority: Vec<&String> = PEERS
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .leak()
        .iter()
        .filter(|p| cut.iter().all(|(a, b)| a == *p || b == *p))
        .collect();
    assert_eq!(minority.len(), 1, "{cut:?}");
}

#[test]
fn a_bridge_leaves_one_server_talking_to_both_halves() {
    let r = echo(
        "bridge",
        FaultEventSpec::Bridge {
            at: S(2),
            duration: Some(S(2)),
        },
    );
    let cut = cut_pairs(&r.record);
    assert_eq!(cut.len(), 1, "only the two halves lose each other: {cut:?}");
}
