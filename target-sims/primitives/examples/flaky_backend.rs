//! A client protected by a retry, a circuit breaker and a per-attempt
//! timeout, calling a backend over turmoil's simulated network while a
//! partition cuts the two apart from 2 s to 5 s.
//!
//! Each `t=` line counts the calls started in one simulated second: those
//! that succeeded, those that failed after their retries, and those that
//! ended refused by the open breaker, without touching the network.
//! Breaker state changes and the partition are printed as they happen. The
//! same seed prints the same lines.
//!
//! ```sh
//! cargo run -p chaos-primitives --example flaky_backend [SEED]
//! ```

use std::cell::Cell;
use std::time::Duration;

use chaos_primitives::rand::SeedableRng;
use chaos_primitives::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::{TcpListener, TcpStream};

const PORT: u16 = 9000;
const CALL_EVERY: Duration = Duration::from_millis(100);
const CALLS: u32 = 80;
const PARTITION: (Duration, Duration) = (Duration::from_secs(2), Duration::from_secs(5));

#[derive(Debug, Clone, PartialEq)]
enum CallError {
    Network,
    TimedOut,
    BreakerOpen,
}

/// One request to the backend: one byte out, one byte back.
async fn call_backend() -> Result<(), CallError> {
    let mut stream = TcpStream::connect(("backend", PORT))
        .await
        .map_err(|_| CallError::Network)?;
    stream
        .write_all(b"?")
        .await
        .map_err(|_| CallError::Network)?;
    let mut reply = [0u8; 1];
    stream
        .read_exact(&mut reply)
        .await
        .map_err(|_| CallError::Network)?;
    Ok(())
}

/// What the calls started in one simulated second came to.
#[derive(Default)]
struct Second {
    t: u64,
    ok: u32,
    failed: u32,
    rejected: u32,
}

impl Second {
    fn print(&self) {
        println!(
            "t={}s  ok {:>2}  failed {:>2}  rejected {:>2}",
            self.t, self.ok, self.failed, self.rejected
        );
    }
}

async fn client(seed: u64) -> turmoil::Result {
    let retry = Retry::new(
        "backend",
        RetryConfig {
            max_attempts: 3,
            max_total: Duration::from_secs(1),
            backoff: Backoff::Exponential {
                base: Duration::from_millis(20),
                cap: Duration::from_millis(200),
                multiplier: 2.0,
                jitter: Jitter::Full,
            },
        },
        ChaCha8Rng::seed_from_u64(seed),
    )?
    // An open breaker will not close within this request: do not retry.
    .with_classifier(|e: &CallError| *e != CallError::BreakerOpen);
    let breaker = CircuitBreaker::new(
        "backend",
        BreakerConfig {
            window: SlidingWindow::Count { calls: 10 },
            minimum_calls: 5,
            open_duration: Duration::from_secs(1),
            half_open_calls: 2,
            ..BreakerConfig::default()
        },
    )?;
    let attempt_timeout = Timeout::new("backend", Duration::from_millis(150))?;

    let mut second = Second::default();
    let last_state = Cell::new(breaker.state());
    // Prints a state change when it is seen. An open breaker turns
    // half-open lazily, at the first look after its open time, so looking
    // before and after each call shows every transition.
    let watch = |breaker: &CircuitBreaker| {
        let state = breaker.state();
        if state != last_state.get() {
            println!(
                "  {:>6.3}s  breaker {} -> {state}",
                turmoil::elapsed().as_secs_f64(),
                last_state.get()
            );
            last_state.set(state);
        }
    };
    for _ in 0..CALLS {
        let started_in = turmoil::elapsed().as_secs();
        if started_in != second.t {
            second.print();
            second = Second {
                t: started_in,
                ..Second::default()
            };
        }
        let outcome = retry
            .run(|_attempt| {
                let (breaker, attempt_timeout, watch) = (&breaker, &attempt_timeout, &watch);
                async move {
                    watch(breaker);
                    // The timeout sits inside the breaker, so it counts as
                    // a failure of the backend.
                    let attempt = async {
                        attempt_timeout
                            .run(call_backend())
                            .await
                            .unwrap_or(Err(CallError::TimedOut))
                    };
                    let result = breaker.call(attempt).await.map_err(|e| match e {
                        BreakerError::Inner(e) => e,
                        BreakerError::Rejected(_) => CallError::BreakerOpen,
                    });
                    watch(breaker);
                    result
                }
            })
            .await;
        match outcome.result {
            Ok(()) => second.ok += 1,
            Err(RetryError::Permanent(CallError::BreakerOpen)) => second.rejected += 1,
            Err(_) => second.failed += 1,
        }
        tokio::time::sleep(CALL_EVERY).await;
    }
    second.print();
    Ok(())
}

async fn backend() -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    loop {
        let (mut stream, _) = listener.accept().await?;
        tokio::task::spawn_local(async move {
            let mut request = [0u8; 1];
            if stream.read_exact(&mut request).await.is_ok() {
                let _ = stream.write_all(b"!").await;
            }
        });
    }
}

fn main() -> turmoil::Result {
    let seed: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SEED: a number"))
        .unwrap_or(1);
    let mut sim = turmoil::Builder::new()
        .simulation_duration(Duration::from_secs(30))
        .rng_seed(seed)
        .build();
    sim.host("backend", backend);
    sim.client("client", client(seed));
    println!(
        "one call every {CALL_EVERY:?}; network partitioned from {:?} to {:?}; seed {seed}",
        PARTITION.0, PARTITION.1
    );
    let mut partitioned = false;
    loop {
        let elapsed = sim.elapsed();
        let inside = elapsed >= PARTITION.0 && elapsed < PARTITION.1;
        if inside != partitioned {
            if inside {
                sim.partition("client", "backend");
            } else {
                sim.repair("client", "backend");
            }
            println!(
                "  {:>6.3}s  network {}",
                elapsed.as_secs_f64(),
                if inside { "partitioned" } else { "repaired" }
            );
            partitioned = inside;
        }
        if sim.step()? {
            return Ok(());
        }
    }
}
