//! The harness's client: a producer, and the reader of the effect ledger.
//!
//! `enqueue` sends the job (its id is the operation's value, its queue the
//! key) to the queue server, resending after a timeout: enqueues are
//! idempotent by job id, so a resend cannot queue a job twice. It is `ok`
//! once the queue said the job is durably queued, `fail` when no attempt
//! can have queued it, and `info` when one may have.
//!
//! `read` of key `k` returns the effect ledger of queue `k` in the form
//! the `jobs` checker reads (`[[job times_applied first_applied_ns] …]`),
//! but only once the system is quiet: the queue has nothing pending for
//! `k`, the store no claim in progress, and both stay so across a short
//! settling pause with the ledger unchanged. Otherwise it fails with an
//! error starting `not-drained` (its value the ledger so far), and the
//! final reader asks again.

use super::rpc::{Rpc, RpcError};
use super::settings::QueueConfig;
use super::{server, store};
use harness::check::jobs::NOT_DRAINED;
use harness::history::{Op, OpKind, Value};
use harness::target::{Client, Completion, LocalBoxFuture};
use std::sync::Arc;
use std::time::Duration;

/// Pause between the two looks a ledger read takes, long enough for a job
/// handed out just before the first look to reach the store.
pub const SETTLE: Duration = Duration::from_millis(50);

pub struct QueueClient {
    config: Arc<QueueConfig>,
    queue: Rpc,
    store: Rpc,
}

/// What one look at the system found.
enum Look {
    Quiet(Vec<Value>),
    Busy(String, Vec<Value>),
}

impl QueueClient {
    pub fn new(config: Arc<QueueConfig>) -> QueueClient {
        QueueClient {
            config,
            queue: Rpc::new(server::HOST, server::PORT),
            store: Rpc::new(store::HOST, store::PORT),
        }
    }

    async fn enqueue(&mut self, op: &Op) -> Completion {
        let value = op.value.clone();
        let (Some(job), Some(key)) = (op.value.as_int(), op.key.as_deref()) else {
            return Completion::unavailable(value, "an enqueue needs a key and an integer job id");
        };
        let s = &self.config.settings;
        let request = format!("E {job} {key}");
        let mut maybe_queued = false;
        let mut last_error = "unreachable";
        for attempt in 1..=s.max_attempts {
            match self.queue.call(&request, s.attempt_timeout).await {
                Ok(reply) if reply == "ok" => return Completion::ok(value).with_attempts(attempt),
                Ok(reply) if reply == "busy" => last_error = "busy",
                // A disk error may leave the record durable after all.
                Ok(_) => {
                    maybe_queued = true;
                    last_error = "server-error";
                }
                Err(RpcError::NotSent) => last_error = "unreachable",
                Err(RpcError::MaybeSent) => {
                    maybe_queued = true;
                    last_error = "timeout";
                }
            }
            if attempt < s.max_attempts {
                tokio::time::sleep(s.backoff).await;
            }
        }
        let completion = if maybe_queued {
            Completion::info(value).with_error(last_error)
        } else {
            Completion::unavailable(value, last_error)
        };
        completion.with_attempts(s.max_attempts)
    }

    /// The pending count of queue `key` and its ledger at the store.
    async fn look(&mut self, key: &str) -> Result<Look, String> {
        let timeout = self.config.settings.attempt_timeout;
        let pending = self
            .queue
            .call(&format!("P {key}"), timeout)
            .await
            .map_err(|_| "queue unreachable".to_string())?;
        let pending: u64 = pending
            .strip_prefix("ok ")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("queue answered {pending:?}"))?;
        let reply = self
            .store
            .call(&format!("L {key}"), timeout)
            .await
            .map_err(|_| "store unreachable".to_string())?;
        let words: Vec<&str> = reply.split(' ').filter(|w| !w.is_empty()).collect();
        let ["ok", open, count, entries @ ..] = words.as_slice() else {
            return Err(format!("store answered {reply:?}"));
        };
        let malformed = || format!("store sent a malformed ledger: {reply:?}");
        let open: u64 = open.parse().map_err(|_| malformed())?;
        if count.parse::<usize>().ok() != Some(entries.len()) {
            return Err(malformed());
        }
        let mut ledger = Vec::with_capacity(entries.len());
        for entry in entries {
            let parts: Vec<i64> = entry.split(':').filter_map(|p| p.parse().ok()).collect();
            if parts.len() != 3 {
                return Err(malformed());
            }
            ledger.push(Value::List(parts.into_iter().map(Value::Int).collect()));
        }
        Ok(if pending > 0 {
            Look::Busy(format!("{NOT_DRAINED}: {pending} jobs pending"), ledger)
        } else if open > 0 {
            Look::Busy(format!("{NOT_DRAINED}: {open} jobs in progress"), ledger)
        } else {
            Look::Quiet(ledger)
        })
    }

    /// A refused read still carries the ledger so far, so duplicates show
    /// even when the queue never drains.
    fn refused(why: String, ledger: Vec<Value>) -> Completion {
        Completion::fail(Value::List(ledger)).with_error(why)
    }

    async fn read_ledger(&mut self, op: &Op) -> Completion {
        let key = op.key.as_deref().unwrap_or("k0");
        let first = match self.look(key).await {
            Ok(Look::Quiet(ledger)) => ledger,
            Ok(Look::Busy(why, ledger)) => return Self::refused(why, ledger),
            Err(why) => return Completion::unavailable(Value::Nil, why),
        };
        tokio::time::sleep(SETTLE).await;
        match self.look(key).await {
            Ok(Look::Quiet(ledger)) if ledger == first => Completion::ok(Value::List(ledger)),
            Ok(Look::Quiet(ledger)) => Self::refused(
                format!("{NOT_DRAINED}: the ledger changed while settling"),
                ledger,
            ),
            Ok(Look::Busy(why, ledger)) => Self::refused(why, ledger),
            Err(why) => Completion::unavailable(Value::Nil, why),
        }
    }
}

impl Client for QueueClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(async move {
            match op.f {
                OpKind::Enqueue => self.enqueue(op).await,
                OpKind::Read => self.read_ledger(op).await,
                _ => Completion::unavailable(op.value.clone(), "unsupported operation"),
            }
        })
    }
}
