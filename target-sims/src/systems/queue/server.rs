//! The queue server: a persistent job queue with leases.
//!
//! Model: every job is `ready`, `leased` (invisible until its visibility
//! timeout) or `done`. An enqueue is appended to the log and fsync'd before
//! it is acknowledged, and is idempotent by job id (a producer may resend
//! it). A lease hands the oldest ready job to a worker with a fencing
//! token, unique and increasing across restarts (`epoch << 32 | sequence`,
//! the epoch bumped durably at every start). A lease not completed within
//! the visibility timeout expires and the job is redelivered. Completion is
//! logged too. Leases themselves are not persisted: after a restart every
//! job not done is ready again, and the new epoch's tokens fence the old
//! leases at the effect store.
//!
//! Requests (one line each): `E job key` → `ok` | `busy`; `L worker` →
//! `job <id> <key> <token>` | `empty`; `C job token` → `ok`; `P key` →
//! `ok <pending>`. A disk error answers `error disk`.

use super::log::{RecordLog, DATA_DIR};
use super::settings::QueueConfig;
use crate::systems::wire::LineConn;
use harness::disk::Disk;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::Mutex;
use tokio::time::Instant;
use turmoil::net::TcpListener;

pub const HOST: &str = "queue";
pub const PORT: u16 = 7100;
/// Most job ids the queue remembers (for deduplicating enqueues).
pub const MAX_KNOWN_JOBS: usize = 1_000_000;
const LOG: &str = "queue.log";
const EPOCH: &str = "epoch";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobState {
    Ready,
    Leased { token: u64, until: Instant },
    Done,
}

struct Job {
    key: String,
    state: JobState,
    deliveries: u32,
}

struct Queue {
    config: Arc<QueueConfig>,
    log: RecordLog,
    epoch: u64,
    sequence: u64,
    jobs: BTreeMap<i64, Job>,
    ready: VecDeque<i64>,
    /// Leases by expiry, so expiring them is O(expired).
    leases: BTreeMap<(Instant, i64), u64>,
    /// Jobs not done, per key.
    pending: BTreeMap<String, u64>,
}

pub async fn serve(config: Arc<QueueConfig>, disk: Disk) -> turmoil::Result {
    let queue = Rc::new(Mutex::new(recover(config, disk).await?));
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let queue = queue.clone();
        tokio::task::spawn_local(async move {
            let mut conn = LineConn::new(stream);
            while let Ok(Some(line)) = conn.recv().await {
                let line = line.to_string();
                let reply = queue.lock().await.handle(&line).await;
                if conn.send(&reply).await.is_err() {
                    break;
                }
            }
        });
    }
}

async fn recover(config: Arc<QueueConfig>, disk: Disk) -> std::io::Result<Queue> {
    let (log, records) = RecordLog::open(disk.clone(), LOG).await?;
    let epoch_path = format!("{DATA_DIR}/{EPOCH}");
    let previous: u64 = match disk.read(&epoch_path).await {
        // Never restart the epoch: tokens would repeat and fencing break.
        Ok(bytes) => String::from_utf8_lossy(&bytes)
            .trim()
            .parse()
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, "epoch file corrupt")
            })?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => 0,
        Err(err) => return Err(err),
    };
    let epoch = previous + 1;
    let tmp = format!("{epoch_path}.tmp");
    disk.write(&tmp, epoch.to_string().as_bytes()).await?;
    disk.sync(&tmp).await?;
    disk.rename(&tmp, &epoch_path).await?;

    let mut queue = Queue {
        config,
        log,
        epoch,
        sequence: 0,
        jobs: BTreeMap::new(),
        ready: VecDeque::new(),
        leases: BTreeMap::new(),
        pending: BTreeMap::new(),
    };
    for record in &records {
        let words: Vec<&str> = record.split(' ').collect();
        match words.as_slice() {
            ["E", job, key] => {
                if let Ok(job) = job.parse() {
                    queue.insert(job, key);
                }
            }
            ["C", job] => {
                if let Ok(job) = job.parse() {
                    queue.mark_done(job);
                }
            }
            _ => {}
        }
    }
    let pending: u64 = queue.pending.values().sum();
    tracing::info!(
        target: "queue",
        epoch,
        records = records.len() as u64,
        pending,
        "queue recovered"
    );
    Ok(queue)
}

impl Queue {
    fn insert(&mut self, job: i64, key: &str) {
        if self.jobs.contains_key(&job) {
            return;
        }
        self.jobs.insert(
            job,
            Job {
                key: key.to_string(),
                state: JobState::Ready,
                deliveries: 0,
            },
        );
        self.ready.push_back(job);
        *self.pending.entry(key.to_string()).or_default() += 1;
    }

    fn mark_done(&mut self, job: i64) {
        let Some(entry) = self.jobs.get_mut(&job) else {
            return;
        };
        if let JobState::Leased { until, .. } = entry.state {
            self.leases.remove(&(until, job));
        }
        if entry.state != JobState::Done {
            entry.state = JobState::Done;
            if let Some(n) = self.pending.get_mut(&entry.key) {
                *n -= 1;
            }
        }
    }

    fn pending_total(&self) -> u64 {
        self.pending.values().sum()
    }

    /// Returns expired leases' jobs to the front of the queue, oldest first.
    fn expire_leases(&mut self) {
        let now = Instant::now();
        let mut expired = Vec::new();
        while let Some(entry) = self.leases.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((_, job), token) = entry.remove_entry();
            expired.push((job, token));
        }
        for (job, token) in expired.into_iter().rev() {
            if let Some(entry) = self.jobs.get_mut(&job) {
                entry.state = JobState::Ready;
                self.ready.push_front(job);
                tracing::info!(target: "queue", job, token, "lease expired");
                harness::assert_reachable!(
                    "a lease expired",
                    &harness::serde_json::json!({ "job": job, "token": token })
                );
            }
        }
    }

    async fn handle(&mut self, line: &str) -> String {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["E", job, key] => match job.parse() {
                Ok(job) => self.enqueue(job, key).await,
                Err(_) => "error bad job id".into(),
            },
            ["L", worker] => self.lease(worker).await,
            ["C", job, token] => match (job.parse(), token.parse::<u64>()) {
                (Ok(job), Ok(token)) => self.complete(job, token).await,
                _ => "error bad completion".into(),
            },
            ["P", key] => {
                self.expire_leases();
                format!("ok {}", self.pending.get(*key).copied().unwrap_or(0))
            }
            _ => "error bad request".into(),
        }
    }

    async fn enqueue(&mut self, job: i64, key: &str) -> String {
        if self.jobs.contains_key(&job) {
            return "ok".into();
        }
        if self.pending_total() >= self.config.settings.capacity
            || self.jobs.len() >= MAX_KNOWN_JOBS
        {
            return "busy".into();
        }
        if self.log.append(&format!("E {job} {key}")).await.is_err() {
            return "error disk".into();
        }
        self.insert(job, key);
        tracing::debug!(target: "queue", job, key, "job enqueued");
        "ok".into()
    }

    async fn lease(&mut self, worker: &str) -> String {
        self.expire_leases();
        while let Some(job) = self.ready.pop_front() {
            let Some(entry) = self.jobs.get(&job) else {
                continue;
            };
            if entry.state != JobState::Ready {
                continue;
            }
            let key = entry.key.clone();
            self.sequence += 1;
            assert!(
                self.sequence < 1 << 32,
                "lease sequence overflowed into the epoch bits"
            );
            let token = (self.epoch << 32) | self.sequence;
            if self.config.ack_on_receive {
                // The bug: handing a job out is taken as its completion.
                if self.log.append(&format!("C {job}")).await.is_err() {
                    self.ready.push_front(job);
                    return "error disk".into();
                }
                self.mark_done(job);
            } else {
                let until = Instant::now() + self.config.visibility_timeout;
                self.leases.insert((until, job), token);
                let entry = self.jobs.get_mut(&job).expect("looked up above");
                entry.state = JobState::Leased { token, until };
            }
            let entry = self.jobs.get_mut(&job).expect("looked up above");
            entry.deliveries += 1;
            if entry.deliveries > 1 {
                tracing::info!(target: "queue", job, token, worker, deliveries = entry.deliveries, "job redelivered");
            } else {
                tracing::info!(target: "queue", job, token, worker, "job leased");
            }
            return format!("job {job} {key} {token}");
        }
        "empty".into()
    }

    /// A worker reports a job's effect applied (or found already applied).
    /// The token is not checked: the effect store fences stale leases, and
    /// a completion is only sent once the effect is in place.
    async fn complete(&mut self, job: i64, token: u64) -> String {
        match self.jobs.get(&job).map(|j| j.state) {
            None => return "error unknown job".into(),
            Some(JobState::Done) => return "ok".into(),
            Some(_) => {}
        }
        if self.log.append(&format!("C {job}")).await.is_err() {
            return "error disk".into();
        }
        self.mark_done(job);
        tracing::info!(target: "queue", job, token, "job completed");
        "ok".into()
    }
}
