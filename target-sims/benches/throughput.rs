//! Runs per second of bundled scenarios, and the harness's overhead over
//! bare turmoil doing the same work.
//!
//! The overhead pair runs the same register server, the same four clients
//! issuing the same operations at the same simulated times, over the same
//! simulated network, for 10 simulated seconds: once through the harness
//! (history recording, nemesis stepping, trace capture, checkers, report),
//! once as a plain turmoil program with none of that. Repetitions of the two
//! are interleaved so machine noise hits both alike; medians are compared.

use harness::history::OpKind;
use harness::scenario::{load_file, validate, ScenarioBuilder};
use harness::suite::{execute, ExecOptions, LoadedScenario};
use rand::Rng;
use std::path::Path;
use std::time::{Duration, Instant};
use target_sims::systems::register::{serve, HOST, PORT};
use target_sims::systems::wire::LineConn;

const CLIENTS: u32 = 4;
const RATE: f64 = 50.0;
const SIM_SECONDS: u64 = 10;

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

fn steady() -> LoadedScenario {
    let registry = target_sims::registry();
    let scenario = ScenarioBuilder::new("bench-steady", "register")
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

/// The same workload as `steady()`, written directly against turmoil.
fn bare_turmoil(seed: u64) -> u64 {
    let seed_streams = harness::seed::Seed(seed);
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed_streams.turmoil())
        .epoch(harness::seed::fixed_epoch())
        .tick_duration(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(SIM_SECONDS + 20))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .build();
    sim.host(HOST, || serve(Duration::ZERO));
    let completed = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let done = completed.clone();
    sim.client("client-0", async move {
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let done = done.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let mut rng = seed_streams.stream(&format!("workload/{c}"));
                let mut conn: Option<LineConn> = None;
                let mut value = 0i64;
                loop {
                    let think =
                        Duration::from_secs_f64(1.0 / RATE).mul_f64(rng.random_range(0.5..1.5));
                    tokio::time::sleep(think).await;
                    if turmoil::sim_elapsed().unwrap_or_default()
                        >= Duration::from_secs(SIM_SECONDS)
                    {
                        break;
                    }
                    let read = rng.random_range(0..2) == 0;
                    let key = format!("k{}", rng.random_range(0..1));
                    value += 1;
                    let request = if read {
                        format!("r {key}")
                    } else {
                        format!("w {key} {value}")
                    };
                    if conn.is_none() {
                        let stream = turmoil::net::TcpStream::connect((HOST, PORT))
                            .await
                            .unwrap();
                        conn = Some(LineConn::new(stream));
                    }
                    let c = conn.as_mut().unwrap();
                    c.send(&request).await.unwrap();
                    c.recv().await.unwrap();
                    done.set(done.get() + 1);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        Ok(())
    });
    sim.run().unwrap();
    completed.get()
}

fn main() {
    // For instruction counts, which noise does not touch:
    //   BENCH_PART=harness valgrind --tool=callgrind target/release/deps/throughput-*
    //   BENCH_PART=bare    valgrind --tool=callgrind target/release/deps/throughput-*
    // runs only one side of the overhead pair, three times.
    if let Ok(part) = std::env::var("BENCH_PART") {
        let steady = steady();
        for seed in 1..=3 {
            match part.as_str() {
                "harness" => {
                    execute(&steady, seed, &ExecOptions::default());
                }
                "bare" => {
                    bare_turmoil(seed);
                }
                other => panic!("BENCH_PART is harness or bare, not {other}"),
            }
        }
        return;
    }
    // `cargo bench` passes --bench; a plain `cargo test` run of benches
    // should stay quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let reps = if quick { 1 } else { 15 };
    let options = ExecOptions::default();

    let steady = steady();
    let mut harness_times = Vec::new();
    let mut bare_times = Vec::new();
    let mut ops = 0;
    for rep in 0..reps {
        let seed = 1 + rep as u64;
        let t = Instant::now();
        let run = execute(&steady, seed, &options);
        harness_times.push(t.elapsed());
        assert_eq!(run.report.status, harness::check::Status::Pass);
        let t = Instant::now();
        ops = bare_turmoil(seed);
        bare_times.push(t.elapsed());
    }
    let (h, b) = (median(harness_times), median(bare_times));
    println!(
        "overhead: harness {:.2} ms vs bare turmoil {:.2} ms per {SIM_SECONDS}s run ({ops} ops, {CLIENTS} clients): ratio {:.3}",
        h.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        h.as_secs_f64() / b.as_secs_f64()
    );

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
