//! Runs per second of bundled scenarios, and the harness's overhead over
//! bare turmoil doing the same work.
//!
//! Each overhead pair runs the same servers and the same four logical
//! clients, calling the target's own client with the same operations at
//! the same simulated times, under the same operation deadline, over the
//! same simulated network, for 10 simulated seconds: once through the
//! harness (plan, history recording, nemesis stepping, trace capture and
//! hashing, final read, checkers, report), once as a plain turmoil program
//! that only counts the operations that succeeded. Both sides drive the
//! same tasks, so the difference is what the harness adds; the bench
//! checks that both completed the same operations. The first pair is one
//! register server (two hosts in all); the second a five-replica KV
//! cluster (six hosts: elections, heartbeats and replication), where
//! per-host costs show. Repetitions of the two sides are interleaved so
//! machine noise hits both alike; medians are compared.

use harness::history::{EventType, Op, OpKind, Outcome, Value};
use harness::plan::Plan;
use harness::scenario::{load_file, validate, ScenarioBuilder};
use harness::seed::Seed;
use harness::sim::FINAL_READER_PROCESS;
use harness::suite::{execute, ExecOptions, LoadedScenario, SeedRun};
use harness::target::{ClientEnv, HostEnv, System};
use rand::Rng;
use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: u32 = 4;
const RATE: f64 = 50.0;
const SIM_SECONDS: u64 = 10;
const KV_REPLICAS: i64 = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bundled(name: &str) -> LoadedScenario {
    let registry = target_sims::registry();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    let scenario = load_file(&path, &registry).expect("bundled scenario loads");
    let prepared = validate(&scenario, &registry).expect("valid");
    LoadedScenario {
        scenario,
        path: Some(path),
        overrides: Vec::new(),
        prepared,
    }
}

/// A fault-free read/write workload against one register server.
fn steady_register() -> LoadedScenario {
    steady_on(ScenarioBuilder::new("bench-steady", "register"))
}

/// The same workload against a five-replica KV cluster.
fn steady_kv() -> LoadedScenario {
    steady_on(ScenarioBuilder::new("bench-steady-kv", "kv").setting("replicas", KV_REPLICAS))
}

fn steady_on(builder: ScenarioBuilder) -> LoadedScenario {
    let registry = target_sims::registry();
    let scenario = builder
        .duration(Duration::from_secs(SIM_SECONDS))
        .clients(CLIENTS)
        .rate(RATE)
        .mix(&[(OpKind::Read, 1), (OpKind::Write, 1)])
        .build();
    let prepared = validate(&scenario, &registry).expect("valid");
    LoadedScenario {
        scenario,
        path: None,
        overrides: Vec::new(),
        prepared,
    }
}

/// The harness side: one seed, checked, with the workload operations that
/// succeeded (the final read's are the harness's own work, not counted).
fn through_harness(loaded: &LoadedScenario, seed: u64) -> u64 {
    let run: SeedRun = execute(loaded, seed, &ExecOptions::default());
    assert_eq!(run.report.status, harness::check::Status::Pass);
    run.record
        .history
        .events
        .iter()
        .filter(|e| e.kind == EventType::Ok && e.process < FINAL_READER_PROCESS)
        .count() as u64
}

/// The workload of `loaded` without the harness: the servers the harness
/// would install, in a simulation configured as the harness configures it
/// (from the seed's plan, which is plain data), and clients that draw the
/// harness workload's operations from its random streams and call the
/// target's client under the same deadline, recording nothing. The
/// workload here has no faults, one key and a read/write mix, so the draws
/// are simple. Returns the operations that succeeded.
fn bare_turmoil(loaded: &LoadedScenario, seed: u64) -> u64 {
    let plan: Plan = harness::plan::expand(&loaded.scenario, &loaded.prepared.topology, seed);
    let seed_streams = Seed(seed);
    let system: Arc<dyn System> = loaded.prepared.system.clone();
    let mut builder = turmoil::Builder::new();
    builder
        .rng_seed(seed_streams.turmoil())
        .epoch(harness::seed::fixed_epoch())
        .tick_duration(plan.tick)
        .simulation_duration(plan.duration + plan.drain + plan.tick * 4)
        .min_message_latency(plan.latency)
        .max_message_latency(plan.latency + plan.jitter)
        .tcp_capacity(plan.tcp_capacity);
    builder
        .fs()
        .block_size(harness::disk::TORN_WRITE_BLOCK_BYTES);
    let mut sim = builder.build();
    system.install(&mut sim, &HostEnv { seed: seed_streams });
    let env = ClientEnv {
        seed: seed_streams,
        hosts: plan.servers.clone(),
    };
    let w = plan.workload.clone();
    let completed = Rc::new(Cell::new(0u64));
    let next_value = Rc::new(Cell::new(1i64));
    let client_hosts = plan.clients.len() as u32;
    for (host_index, host) in plan.clients.iter().enumerate() {
        let (system, env, w) = (system.clone(), env.clone(), w.clone());
        let (done, next_value) = (completed.clone(), next_value.clone());
        sim.client(host.as_str(), async move {
            let mut tasks = Vec::new();
            for c in (0..w.clients).filter(|c| c % client_hosts == host_index as u32) {
                let (system, env, done, next_value) = (
                    system.clone(),
                    env.clone(),
                    done.clone(),
                    next_value.clone(),
                );
                let (timeout, keys, clients) = (w.timeout, w.keys, w.clients);
                let think_mean = Duration::from_secs_f64(1.0 / w.rate);
                tasks.push(tokio::task::spawn_local(async move {
                    let mut rng = seed_streams.stream(&format!("workload/{c}"));
                    let mut process = u64::from(c);
                    let mut client = system.client(process, &env);
                    loop {
                        let think = think_mean.mul_f64(rng.random_range(0.5..1.5));
                        tokio::time::sleep(think).await;
                        if turmoil::sim_elapsed().unwrap_or_default()
                            >= Duration::from_secs(SIM_SECONDS)
                        {
                            break;
                        }
                        // The mix is read 1, write 1: the harness draws a
                        // weight below 2 and reads on 0.
                        let read = rng.random_range(0..2) == 0;
                        let key = Some(format!("k{}", rng.random_range(0..keys)));
                        let op = if read {
                            Op {
                                f: OpKind::Read,
                                key,
                                value: Value::Nil,
                            }
                        } else {
                            let value = next_value.get();
                            next_value.set(value + 1);
                            Op {
                                f: OpKind::Write,
                                key,
                                value: Value::Int(value),
                            }
                        };
                        match tokio::time::timeout(timeout, client.invoke(&op)).await {
                            Ok(c) if c.outcome == Outcome::Ok => done.set(done.get() + 1),
                            Ok(c) if c.outcome == Outcome::Fail => {}
                            _ => {
                                // Unknown outcome: a fresh client, as the
                                // harness does.
                                process += u64::from(clients);
                                client = system.client(process, &env);
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            Ok(())
        });
    }
    sim.run().unwrap();
    completed.get()
}

/// Runs both sides of an overhead pair `reps` times, interleaved, checks
/// they did the same operations, and prints the ratio of their medians.
fn overhead(name: &str, loaded: &LoadedScenario, reps: usize) {
    let mut harness_times = Vec::new();
    let mut bare_times = Vec::new();
    let mut ops = 0;
    for rep in 0..reps {
        let seed = 1 + rep as u64;
        let t = Instant::now();
        let harness_ops = through_harness(loaded, seed);
        harness_times.push(t.elapsed());
        let t = Instant::now();
        ops = bare_turmoil(loaded, seed);
        bare_times.push(t.elapsed());
        assert_eq!(
            harness_ops, ops,
            "{name}, seed {seed}: both sides must complete the same operations"
        );
    }
    let (h, b) = (median(harness_times), median(bare_times));
    println!(
        "overhead, {name}: harness {:.2} ms vs bare turmoil {:.2} ms per {SIM_SECONDS}s run ({ops} ops, {CLIENTS} clients): ratio {:.3}",
        h.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        h.as_secs_f64() / b.as_secs_f64()
    );
}

fn main() {
    // For instruction counts, which noise does not touch:
    //   BENCH_PART=harness valgrind --tool=callgrind target/release/deps/throughput-*
    //   BENCH_PART=bare    valgrind --tool=callgrind target/release/deps/throughput-*
    // (and harness-kv, bare-kv) runs only one side of one overhead pair,
    // seeds 1..=3.
    if let Ok(part) = std::env::var("BENCH_PART") {
        let loaded = match part.as_str() {
            "harness" | "bare" => steady_register(),
            "harness-kv" | "bare-kv" => steady_kv(),
            other => panic!("BENCH_PART is harness, bare, harness-kv or bare-kv, not {other}"),
        };
        for seed in 1..=3 {
            if part.starts_with("harness") {
                through_harness(&loaded, seed);
            } else {
                bare_turmoil(&loaded, seed);
            }
        }
        return;
    }
    // `cargo bench` passes --bench; a plain `cargo test` run of benches
    // should stay quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let reps = if quick { 1 } else { 15 };
    let options = ExecOptions::default();

    overhead("register (2 hosts)", &steady_register(), reps);
    overhead("5-replica kv (6 hosts)", &steady_kv(), reps);

    for name in [
        "register-isolate",
        "register-crash-restart",
        "register-swarm",
    ] {
        let loaded = bundled(name);
        let seeds = if quick { 1 } else { 40 };
        let t = Instant::now();
        for seed in 0..seeds {
            execute(&loaded, seed, &options);
        }
        let elapsed = t.elapsed();
        println!(
            "{name}: {:.1} runs/s on one core ({:.2} ms per run, {} simulated)",
            seeds as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1e3 / seeds as f64,
            harness::duration::format_duration(loaded.scenario.simulation.duration)
        );
    }
}
