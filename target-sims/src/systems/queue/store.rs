//! The effect store: where a job's effect lands, with fencing.
//!
//! Model: the effect of a job is one increment of its entry in a ledger
//! (times applied, and when first). The effect itself is not idempotent;
//! processing is made exactly-once by two checks a worker goes through:
//!
//! - `begin` (idempotency by job id): a worker about to process a job asks
//!   whether its effect is already in place (`done`: skip it) and registers
//!   its lease token as the job's newest claim;
//! - `apply` (fencing): the effect is accepted only with a token at least
//!   the newest claim, so a worker whose lease expired and whose job was
//!   redelivered (and claimed again) is refused (`fenced`).
//!
//! Together these make a second application impossible: a second worker
//! either begins after the first applied (and sees `done`) or before (and
//! its newer claim fences the first). A worker never resends an `apply`
//! whose answer it did not get. Claims and effects are fsync'd before they
//! are answered, and recovered from the log on restart.
//!
//! Requests: `B job key token` → `go` | `done` | `fenced`; `A job key
//! token` → `applied` | `fenced`; `L key` → `ok <open> <count>
//! <job>:<times>:<first_ns> …`, where `open` counts claims still within a
//! visibility timeout and not yet applied.

use super::log::RecordLog;
use super::settings::QueueConfig;
use crate::systems::wire::LineConn;
use harness::disk::Disk;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::Mutex;
use turmoil::net::TcpListener;

pub const HOST: &str = "store";
pub const PORT: u16 = 7200;
/// Most ledger entries one `L` reply carries (it is one line).
pub const MAX_LEDGER_REPLY_ENTRIES: usize = 2_000;
const LOG: &str = "effects.log";

#[derive(Clone, Debug, Default)]
struct Entry {
    key: String,
    newest_claim: u64,
    claimed_ns: u64,
    times_applied: u64,
    first_applied_ns: u64,
}

struct Store {
    config: Arc<QueueConfig>,
    log: RecordLog,
    entries: BTreeMap<i64, Entry>,
}

fn now_ns() -> u64 {
    turmoil::sim_elapsed().map_or(0, |d| d.as_nanos() as u64)
}

pub async fn serve(config: Arc<QueueConfig>, disk: Disk) -> turmoil::Result {
    let store = Rc::new(Mutex::new(recover(config, disk).await?));
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let store = store.clone();
        tokio::task::spawn_local(async move {
            let mut conn = LineConn::new(stream);
            while let Ok(Some(line)) = conn.recv().await {
                let line = line.to_string();
                let reply = store.lock().await.handle(&line).await;
                if conn.send(&reply).await.is_err() {
                    break;
                }
            }
        });
    }
}

async fn recover(config: Arc<QueueConfig>, disk: Disk) -> std::io::Result<Store> {
    let (log, records) = RecordLog::open(disk, LOG).await?;
    let mut store = Store {
        config,
        log,
        entries: BTreeMap::new(),
    };
    for record in &records {
        let words: Vec<&str> = record.split(' ').collect();
        if let [kind @ ("B" | "A"), job, key, token, at] = words.as_slice() {
            let (Ok(job), Ok(token), Ok(at)) = (job.parse(), token.parse(), at.parse()) else {
                continue;
            };
            store.record(kind, job, key, token, at);
        }
    }
    let applied = store
        .entries
        .values()
        .filter(|e| e.times_applied > 0)
        .count() as u64;
    tracing::info!(target: "queue::store", records = records.len() as u64, applied, "store recovered");
    Ok(store)
}

impl Store {
    /// Applies a logged claim (`B`) or effect (`A`) to the ledger.
    fn record(&mut self, kind: &str, job: i64, key: &str, token: u64, at_ns: u64) {
        let entry = self.entries.entry(job).or_insert_with(|| Entry {
            key: key.to_string(),
            ..Entry::default()
        });
        if token > entry.newest_claim {
            entry.newest_claim = token;
            entry.claimed_ns = at_ns;
        }
        if kind == "A" {
            if entry.times_applied == 0 {
                entry.first_applied_ns = at_ns;
            }
            entry.times_applied += 1;
        }
    }

    fn fenced(&self, job: i64, token: u64) -> bool {
        self.config.fencing
            && self
                .entries
                .get(&job)
                .is_some_and(|e| token < e.newest_claim)
    }

    async fn handle(&mut self, line: &str) -> String {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            [kind @ ("B" | "A"), job, key, token] => {
                let (Ok(job), Ok(token)) = (job.parse::<i64>(), token.parse::<u64>()) else {
                    return "error bad request".into();
                };
                if self.fenced(job, token) {
                    tracing::info!(target: "queue::store", job, token, "stale lease fenced");
                    return "fenced".into();
                }
                let applied = self.entries.get(&job).map_or(0, |e| e.times_applied);
                if *kind == "B" && applied > 0 && self.config.idempotent {
                    return "done".into();
                }
                let at = now_ns();
                if self
                    .log
                    .append(&format!("{kind} {job} {key} {token} {at}"))
                    .await
                    .is_err()
                {
                    return "error disk".into();
                }
                self.record(kind, job, key, token, at);
                if *kind == "A" {
                    let times = applied + 1;
                    tracing::info!(target: "queue::store", job, token, times, "effect applied");
                    "applied".into()
                } else {
                    "go".into()
                }
            }
            ["L", key] => self.ledger(key),
            _ => "error bad request".into(),
        }
    }

    fn ledger(&self, key: &str) -> String {
        let now = now_ns();
        let visibility_ns = self.config.visibility_timeout.as_nanos() as u64;
        let mut open = 0u64;
        let mut listed = Vec::new();
        for (job, entry) in self.entries.iter().filter(|(_, e)| e.key == key) {
            if entry.times_applied > 0 {
                listed.push(format!(
                    "{job}:{}:{}",
                    entry.times_applied, entry.first_applied_ns
                ));
            } else if now.saturating_sub(entry.claimed_ns) < visibility_ns {
                open += 1;
            }
        }
        if listed.len() > MAX_LEDGER_REPLY_ENTRIES {
            return "error ledger-too-large".into();
        }
        format!("ok {open} {} {}", listed.len(), listed.join(" "))
    }
}
