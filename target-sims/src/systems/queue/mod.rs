//! A job queue: producers → a persistent queue → workers → an effect store.
//!
//! Model: producers (the workload's `enqueue` operations) put jobs, named
//! by unique ids, on the `queue` server, which logs each one durably before
//! acknowledging it. Worker hosts `worker-1` … `worker-N` lease jobs with a
//! visibility timeout, work on each for a service time, apply its effect at
//! the `store` and then complete it at the queue. Delivery is at least
//! once: a lease that is not completed in time (the worker crashed, was
//! cut off, or is slow) expires and the job is redelivered. Effects are
//! exactly once anyway, by two mechanisms at the store: a job's effect is
//! never begun again once applied (idempotency by job id), and an effect
//! carrying a lease token older than the job's newest claim is refused
//! (fencing), so a worker that lost its lease cannot apply late.
//!
//! - [`settings`]: the `[target]` keys, defaults and checks; planted bugs.
//! - [`server`]: the queue (log, leases, redelivery, recovery).
//! - [`store`]: the effect store (claims, fencing, the ledger).
//! - [`worker`]: the lease slots of a worker host.
//! - [`client`]: producers, and the ledger read the `jobs` checker uses.
//! - [`log`]: the fsync'd, checksummed record log both servers keep.
//! - [`rpc`]: one request and reply with a timeout.
//!
//! Faults name `queue`, `store` and `worker-1` … Both servers are
//! persistent (they recover from their logs after a crash); workers keep
//! nothing.

pub mod client;
pub mod log;
pub mod rpc;
pub mod server;
pub mod settings;
pub mod store;
pub mod worker;

use harness::target::{
    parse_settings, Client, ClientEnv, HostEnv, PlantedBug, SettingsError, System, Target,
};
use settings::{QueueConfig, QueueSettings};
use std::sync::Arc;

/// The `queue` target.
pub struct QueueTarget;

impl Target for QueueTarget {
    fn name(&self) -> &'static str {
        "queue"
    }

    fn description(&self) -> &'static str {
        "producers -> persistent job queue -> workers with leases, redelivery and fencing -> effect store"
    }

    fn settings_template(&self) -> &'static str {
        "# Worker hosts worker-1 ... and the jobs each works on at once.\n\
         workers = 3\n\
         slots = 2\n\
         # Time per job (+ uniform jitter); a lease's visibility timeout must outlast it.\n\
         service_time = \"100ms\"\n\
         service_jitter = \"50ms\"\n\
         visibility_timeout = \"1s\"\n\
         # Workers: timeout per request, idle poll interval. Queue bound (then `busy`).\n\
         request_timeout = \"200ms\"\n\
         poll_interval = \"20ms\"\n\
         capacity = 10000\n\
         # Producers: timeout per attempt, attempts per enqueue, pause between.\n\
         attempt_timeout = \"300ms\"\n\
         max_attempts = 3\n\
         backoff = \"50ms\"\n\
         # Planted bug: \"ack-on-receive\", \"non-idempotent\" or \"short-visibility-timeout\".\n\
         # bug = \"ack-on-receive\"\n"
    }

    fn planted_bugs(&self) -> Vec<PlantedBug> {
        vec![
            PlantedBug {
                name: "ack-on-receive",
                description: "the queue takes handing a job out as its completion, so a job whose worker dies mid-job is never redelivered",
                overrides: &["target.bug=ack-on-receive"],
                caught_by: "jobs",
            },
            PlantedBug {
                name: "non-idempotent",
                description: "workers do not check whether a job's effect is already applied, so a job redelivered after its effect is applied twice",
                overrides: &["target.bug=non-idempotent"],
                caught_by: "jobs",
            },
            PlantedBug {
                name: "short-visibility-timeout",
                description: "the visibility timeout is shorter than the processing time and stale leases are not fenced, so a job is redelivered mid-work and both workers apply it",
                overrides: &["target.bug=short-visibility-timeout"],
                caught_by: "jobs",
            },
        ]
    }

    fn configure(&self, settings: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        let settings: QueueSettings = parse_settings(settings)?;
        Ok(Arc::new(QueueSystem {
            config: Arc::new(settings.check()?),
        }))
    }
}

/// A configured queue system.
pub struct QueueSystem {
    config: Arc<QueueConfig>,
}

impl System for QueueSystem {
    fn hosts(&self) -> Vec<String> {
        [server::HOST.to_string(), store::HOST.to_string()]
            .into_iter()
            .chain((0..self.config.settings.workers).map(worker::host_name))
            .collect()
    }

    fn install(&self, sim: &mut turmoil::Sim<'_>, env: &HostEnv) {
        let (config, disk) = (self.config.clone(), env.disk(server::HOST));
        sim.host(server::HOST, move || {
            server::serve(config.clone(), disk.clone())
        });
        let (config, disk) = (self.config.clone(), env.disk(store::HOST));
        sim.host(store::HOST, move || {
            store::serve(config.clone(), disk.clone())
        });
        for index in 0..self.config.settings.workers {
            let (config, env) = (self.config.clone(), env.clone());
            let name = worker::host_name(index);
            sim.host(name.as_str(), move || {
                let name = worker::host_name(index);
                let rng = env.host_rng(&name);
                worker::serve(config.clone(), name, rng)
            });
        }
    }

    fn client(&self, _process: u64, _env: &ClientEnv) -> Box<dyn Client> {
        Box::new(client::QueueClient::new(self.config.clone()))
    }

    /// Producers enqueue; a read reads the effect ledger of a key (what
    /// the final read and the jobs checker need).
    fn op_kinds(&self) -> Vec<harness::history::OpKind> {
        use harness::history::OpKind;
        vec![OpKind::Enqueue, OpKind::Read]
    }

    /// The server notices a worker gone when its lease expires, and comes
    /// back from its own crash by replaying its log.
    fn detection_signals(&self) -> Vec<harness::detection::DetectionSignal> {
        use harness::detection::DetectionSignal;
        vec![
            DetectionSignal::event("lease expired"),
            DetectionSignal::event("queue: queue recovered"),
        ]
    }
}
