//! A service chain: clients → gateway → backends, over turmoil TCP.
//!
//! Model: clients send key-value requests (`read`, `write`, `cas`) to one
//! `gateway`, which calls one of `backends` hosts (`backend-1` …) for each.
//! Backends are real servers with a bounded pool of workers, a bounded
//! queue and a service time per request, so load has consequences: past
//! capacity, queues grow, latency grows, and requests time out while the
//! backend still works on them. The gateway is where the resilience
//! primitives sit — retry (with backoff, jitter and a budget), attempt
//! timeouts and a request deadline, a breaker and a bulkhead per backend,
//! fallback for reads, hedging — and the backends can shed load and
//! autoscale their workers. Every primitive is off unless the scenario's
//! `[target]` turns it on, so a scenario can show what each one buys by
//! failing without it.
//!
//! - [`settings`]: the `[target]` keys, as written.
//! - [`config`]: their checks, and the primitives' configurations.
//! - [`gateway`]: request handling and the policies' nesting.
//! - [`link`]: the gateway's multiplexed connection to a backend.
//! - [`backend`]: the worker pool, shedding, slowdowns and the store.
//! - [`client`]: the harness's client, one gateway connection each.
//! - [`protocol`]: the line formats on both hops.
//! - [`study`]: running a scenario with a setting changed, and measuring.
//!
//! Faults name `gateway` and `backend-1` … `backend-N`. Network faults
//! between the gateway and a backend make that backend slow or unreachable
//! as the gateway sees it; `slowdown` windows make its workers slow
//! (CPU-bound slowness: they consume capacity); a `surge` adds unrecorded
//! load.

pub mod backend;
pub mod client;
pub mod config;
pub mod gateway;
pub mod link;
pub mod protocol;
pub mod settings;
pub mod study;

use config::{backend_name, ChainConfig};
use harness::target::{parse_settings, Client, ClientEnv, HostEnv, SettingsError, System, Target};
use settings::ChainSettings;
use std::sync::Arc;

pub use gateway::GATEWAY_HOST;

/// Counts a server's open connections against a cap; a connection holds
/// its place until dropped.
#[derive(Clone)]
struct ConnectionCount {
    open: std::rc::Rc<std::cell::Cell<usize>>,
    cap: usize,
}

impl ConnectionCount {
    fn new(cap: usize) -> ConnectionCount {
        ConnectionCount {
            open: Default::default(),
            cap,
        }
    }

    /// A place for one more connection, if under the cap.
    fn enter(&self) -> Option<ConnectionPlace> {
        if self.open.get() >= self.cap {
            return None;
        }
        self.open.set(self.open.get() + 1);
        Some(ConnectionPlace(self.open.clone()))
    }
}

struct ConnectionPlace(std::rc::Rc<std::cell::Cell<usize>>);

impl Drop for ConnectionPlace {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// The `chain` target.
pub struct ChainTarget;

impl Target for ChainTarget {
    fn name(&self) -> &'static str {
        "chain"
    }

    fn description(&self) -> &'static str {
        "clients -> gateway -> backend workers over TCP; retry, breaker, bulkhead, fallback, hedge, shedding, autoscaling"
    }

    fn planted_bugs(&self) -> Vec<harness::target::PlantedBug> {
        vec![
            harness::target::PlantedBug {
                name: "unbudgeted-retries",
                description: "retries without a retry budget multiply load during a slowdown and keep the backends saturated after it ends",
                overrides: &["target.retry.budget=false"],
                caught_by: "availability",
            },
            harness::target::PlantedBug {
                name: "breaker-stuck-open",
                description: "a breaker whose open duration outlasts the outage keeps rejecting calls after the heal",
                overrides: &["target.breaker.open_duration=20s"],
                caught_by: "availability",
            },
            harness::target::PlantedBug {
                name: "lockstep-backoff",
                description: "exponential backoff without jitter: contending clients retry in lockstep",
                overrides: &["target.retry.jitter=none"],
                caught_by: "availability",
            },
        ]
    }

    fn settings_template(&self) -> &'static str {
        "# Topology and routing: \"key\" (each key on one backend) or \"round-robin\" (replicas).\n\
         backends = 3\n\
         routing = \"key\"\n\
         # Client patience; the gateway's handlers, request deadline and per-call timeout.\n\
         client_timeout = \"800ms\"\n\
         handlers = 256\n\
         request_timeout = \"500ms\"\n\
         attempt_timeout = \"200ms\"\n\
         # Backends: workers, queue bound, time per request (+ uniform jitter).\n\
         workers = 4\n\
         queue = 1024\n\
         service_time = \"1ms\"\n\
         service_jitter = \"0ms\"\n\
         # Primitives are off unless present; each takes the primitive's fields:\n\
         # retry = { max_attempts = 3, backoff = \"exponential\", base = \"20ms\", cap = \"1s\", jitter = \"full\", budget = true }\n\
         # breaker = { window = 20, minimum_calls = 10, failure_rate_threshold = 0.5, open_duration = \"1s\", half_open_calls = 3 }\n\
         # bulkhead = { max_concurrent = 8, max_queue = 0, max_wait = \"0ms\" }\n\
         # fallback = \"cache\"\n\
         # hedge = { delay = \"20ms\", max_hedges = 1 }\n\
         # shed = { max_in_flight = 8, max_queue_depth = 8 }\n\
         # autoscale = { min_workers = 2, max_workers = 16, cooldown = \"2s\", evaluation_interval = \"250ms\" }\n\
         # Load and slowness the plan does not express:\n\
         # surge = { at = \"4s\", duration = \"3s\", rate = 2000.0, keys = 8 }\n\
         # slowdown = { host = \"backend-1\", at = \"5s\", duration = \"3s\", extra = \"200ms\" }\n"
    }

    fn configure(&self, settings: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        let settings: ChainSettings = parse_settings(settings)?;
        Ok(Arc::new(ChainSystem {
            config: Arc::new(settings.check()?),
        }))
    }
}

/// A configured chain.
pub struct ChainSystem {
    config: Arc<ChainConfig>,
}

impl System for ChainSystem {
    fn hosts(&self) -> Vec<String> {
        std::iter::once(GATEWAY_HOST.to_string())
            .chain((0..self.config.backends).map(backend_name))
            .collect()
    }

    fn install(&self, sim: &mut turmoil::Sim<'_>, env: &HostEnv) {
        let (config, env_g) = (self.config.clone(), env.clone());
        sim.host(GATEWAY_HOST, move || {
            gateway::serve(config.clone(), env_g.host_rng(GATEWAY_HOST))
        });
        for index in 0..self.config.backends {
            let (config, env) = (self.config.clone(), env.clone());
            let name = backend_name(index);
            sim.host(name.as_str(), move || {
                backend::serve(config.clone(), index, env.host_rng(&backend_name(index)))
            });
        }
    }

    fn client(&self, _process: u64, _env: &ClientEnv) -> Box<dyn Client> {
        Box::new(client::ChainClient::new(self.config.client_timeout))
    }

    fn op_kinds(&self) -> Vec<harness::history::OpKind> {
        use harness::history::OpKind;
        vec![OpKind::Read, OpKind::Write, OpKind::Cas]
    }

    /// The gateway notices a backend through its breaker opening, its
    /// failure detector suspecting the peer, or its connection dropping,
    /// stalling or failing; a backend notices its own overload.
    fn detection_signals(&self) -> Vec<harness::detection::DetectionSignal> {
        use harness::detection::DetectionSignal;
        vec![
            DetectionSignal::event("breaker state changed [state=open]"),
            DetectionSignal::event("peer suspected"),
            DetectionSignal::event("connection to backend lost"),
            DetectionSignal::event("connection to backend stalled"),
            DetectionSignal::event("cannot connect to backend"),
            DetectionSignal::event("backend overloaded"),
        ]
    }
}
