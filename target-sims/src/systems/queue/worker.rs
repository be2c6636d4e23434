//! A worker host: lease slots that take jobs from the queue, process them
//! and apply their effect at the store.
//!
//! Each slot loops: lease a job (`L`), `begin` it at the store (skip it if
//! its effect is already in place, drop it if the lease is already stale),
//! work on it for the service time, `apply` its effect with the lease token,
//! then complete it at the queue (`C`), retrying the completion a bounded
//! number of times. An `apply` whose answer is lost is never resent: the
//! lease expires, the job is redelivered, and the next worker's `begin`
//! finds out whether the effect landed. A crashed worker simply stops; its
//! leases expire.

use super::rpc::{Rpc, RpcError};
use super::settings::QueueConfig;
use super::{server, store};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Attempts to report a completion before leaving it to the lease timeout.
pub const MAX_COMPLETE_ATTEMPTS: u32 = 5;
/// Pause after a failed request before the slot tries again.
pub const RETRY_PAUSE: Duration = Duration::from_millis(50);

pub fn host_name(index: u32) -> String {
    format!("worker-{}", index + 1)
}

pub async fn serve(config: Arc<QueueConfig>, name: String, rng: ChaCha8Rng) -> turmoil::Result {
    let rng = Rc::new(RefCell::new(rng));
    let slots: Vec<_> = (0..config.settings.slots)
        .map(|index| {
            let slot = Slot {
                config: config.clone(),
                worker: name.clone(),
                rng: rng.clone(),
                queue: Rpc::new(server::HOST, server::PORT),
                store: Rpc::new(store::HOST, store::PORT),
            };
            tracing::debug!(target: "queue::worker", slot = index, "slot started");
            tokio::task::spawn_local(slot.run())
        })
        .collect();
    for slot in slots {
        slot.await?;
    }
    Ok(())
}

struct Slot {
    config: Arc<QueueConfig>,
    worker: String,
    rng: Rc<RefCell<ChaCha8Rng>>,
    queue: Rpc,
    store: Rpc,
}

struct Lease {
    job: i64,
    key: String,
    token: u64,
}

fn parse_lease(reply: &str) -> Option<Lease> {
    let words: Vec<&str> = reply.split(' ').collect();
    match words.as_slice() {
        ["job", job, key, token] => Some(Lease {
            job: job.parse().ok()?,
            key: key.to_string(),
            token: token.parse().ok()?,
        }),
        _ => None,
    }
}

impl Slot {
    async fn run(mut self) {
        let timeout = self.config.settings.request_timeout;
        loop {
            let reply = self
                .queue
                .call(&format!("L {}", self.worker), timeout)
                .await;
            match reply.as_deref().map(parse_lease) {
                Ok(Some(lease)) => self.process(lease).await,
                Ok(None) if reply.as_deref() == Ok("empty") => {
                    tokio::time::sleep(self.config.settings.poll_interval).await
                }
                _ => tokio::time::sleep(RETRY_PAUSE).await,
            }
        }
    }

    fn service_time(&self) -> Duration {
        let s = &self.config.settings;
        let jitter_ns = s.service_jitter.as_nanos() as u64;
        let extra = if jitter_ns == 0 {
            0
        } else {
            self.rng.borrow_mut().random_range(0..=jitter_ns)
        };
        s.service_time + Duration::from_nanos(extra)
    }

    async fn process(&mut self, lease: Lease) {
        let timeout = self.config.settings.request_timeout;
        let Lease { job, key, token } = &lease;
        let begin = self
            .store
            .call(&format!("B {job} {key} {token}"), timeout)
            .await;
        match begin.as_deref() {
            Ok("go") => {}
            Ok("done") => {
                tracing::info!(target: "queue::worker", job, token, "duplicate effect suppressed");
                self.complete(&lease).await;
                return;
            }
            // Fenced (the store logged that), unreachable or unsure:
            // leave the job to its lease timeout.
            _ => return,
        }
        tokio::time::sleep(self.service_time()).await;
        let apply = self
            .store
            .call(&format!("A {job} {key} {token}"), timeout)
            .await;
        match apply.as_deref() {
            Ok("applied") => self.complete(&lease).await,
            Ok("fenced") => {
                tracing::info!(target: "queue::worker", job, token, "late completion fenced")
            }
            Err(RpcError::MaybeSent) => {
                tracing::info!(target: "queue::worker", job, token, "effect outcome unknown")
            }
            _ => {}
        }
    }

    async fn complete(&mut self, lease: &Lease) {
        let timeout = self.config.settings.request_timeout;
        let request = format!("C {} {}", lease.job, lease.token);
        for attempt in 1..=MAX_COMPLETE_ATTEMPTS {
            if self.queue.call(&request, timeout).await.as_deref() == Ok("ok") {
                return;
            }
            if attempt < MAX_COMPLETE_ATTEMPTS {
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
        tracing::info!(target: "queue::worker", job = lease.job, token = lease.token, "completion abandoned");
    }
}
