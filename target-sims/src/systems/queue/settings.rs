//! The `[target]` settings of the `queue` system, their defaults and checks.

use harness::duration::serde_text;
use harness::target::SettingsError;
use serde::Deserialize;
use std::time::Duration;

/// Default worker hosts.
pub const DEFAULT_WORKERS: u32 = 3;
/// Most worker hosts: every host costs a poll per tick.
pub const MAX_WORKERS: u32 = 16;
/// Default jobs one worker processes at once.
pub const DEFAULT_SLOTS: u32 = 2;
/// Most jobs one worker may process at once.
pub const MAX_SLOTS: u32 = 64;
/// Default jobs the queue holds (ready or leased) before refusing `busy`.
pub const DEFAULT_CAPACITY: u64 = 10_000;
/// Most jobs a queue may be configured to hold.
pub const MAX_CAPACITY: u64 = 1_000_000;
/// Cap on producer attempts per enqueue.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;
/// Longest any time setting may be: longer is a unit mistake.
pub const MAX_SETTING_DURATION: Duration = Duration::from_secs(3600);

fn default_workers() -> u32 {
    DEFAULT_WORKERS
}
fn default_slots() -> u32 {
    DEFAULT_SLOTS
}
fn default_service_time() -> Duration {
    Duration::from_millis(100)
}
fn default_service_jitter() -> Duration {
    Duration::from_millis(50)
}
fn default_visibility_timeout() -> Duration {
    Duration::from_secs(1)
}
fn default_request_timeout() -> Duration {
    Duration::from_millis(200)
}
fn default_poll_interval() -> Duration {
    Duration::from_millis(20)
}
fn default_capacity() -> u64 {
    DEFAULT_CAPACITY
}
fn default_attempt_timeout() -> Duration {
    Duration::from_millis(300)
}
fn default_max_attempts() -> u32 {
    3
}
fn default_backoff() -> Duration {
    Duration::from_millis(50)
}

/// A planted bug (`bug = "..."`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bug {
    /// The queue marks a job done when it hands it out, not when the
    /// worker completes it: a worker that dies mid-job loses the job.
    AckOnReceive,
    /// Workers do not check whether a job's effect was already applied: a
    /// job redelivered after its effect (a crash or a lost completion
    /// before the ack) is applied again.
    NonIdempotent,
    /// The visibility timeout is a quarter of the service time and the
    /// effect store does not fence stale leases: every job is redelivered
    /// while its first worker is still on it, and both apply it.
    ShortVisibilityTimeout,
}

/// `[target]` of `system = "queue"`, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// Worker hosts `worker-1` … `worker-N`.
    #[serde(default = "default_workers")]
    pub workers: u32,
    /// Jobs each worker processes at once (lease slots).
    #[serde(default = "default_slots")]
    pub slots: u32,
    /// Time a worker spends on one job, plus up to `service_jitter`.
    #[serde(with = "serde_text", default = "default_service_time")]
    pub service_time: Duration,
    #[serde(with = "serde_text", default = "default_service_jitter")]
    pub service_jitter: Duration,
    /// How long a leased job stays invisible before it is redelivered.
    #[serde(with = "serde_text", default = "default_visibility_timeout")]
    pub visibility_timeout: Duration,
    /// A worker's timeout per request to the queue or the store.
    #[serde(with = "serde_text", default = "default_request_timeout")]
    pub request_timeout: Duration,
    /// How long an idle worker slot waits before asking for work again.
    #[serde(with = "serde_text", default = "default_poll_interval")]
    pub poll_interval: Duration,
    /// Jobs the queue holds (ready or leased) before refusing enqueues.
    #[serde(default = "default_capacity")]
    pub capacity: u64,
    /// Producer: timeout per attempt, attempts per enqueue, pause between.
    #[serde(with = "serde_text", default = "default_attempt_timeout")]
    pub attempt_timeout: Duration,
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    #[serde(with = "serde_text", default = "default_backoff")]
    pub backoff: Duration,
    /// A planted bug to switch on.
    #[serde(default)]
    pub bug: Option<Bug>,
}

/// The checked configuration every host of a queue system shares.
#[derive(Clone, Debug)]
pub struct QueueConfig {
    pub settings: QueueSettings,
    /// The visibility timeout in force (the bug shortens it).
    pub visibility_timeout: Duration,
    /// The store rejects effects from leases older than the newest.
    pub fencing: bool,
    /// Workers skip jobs whose effect is already applied.
    pub idempotent: bool,
    /// The queue forgets a job when it hands it out.
    pub ack_on_receive: bool,
}

impl QueueSettings {
    pub fn check(self) -> Result<QueueConfig, SettingsError> {
        let range = |key: &str, value: u64, max: u64| {
            if value == 0 || value > max {
                Err(SettingsError::new(
                    key,
                    format!("expected 1 to {max}, found {value}"),
                ))
            } else {
                Ok(())
            }
        };
        range("workers", self.workers.into(), MAX_WORKERS.into())?;
        range("slots", self.slots.into(), MAX_SLOTS.into())?;
        range("capacity", self.capacity, MAX_CAPACITY)?;
        range(
            "max_attempts",
            self.max_attempts.into(),
            MAX_ATTEMPTS_LIMIT.into(),
        )?;
        for (key, value, may_be_zero) in [
            ("service_time", self.service_time, true),
            ("service_jitter", self.service_jitter, true),
            ("visibility_timeout", self.visibility_timeout, false),
            ("request_timeout", self.request_timeout, false),
            ("poll_interval", self.poll_interval, false),
            ("attempt_timeout", self.attempt_timeout, false),
            ("backoff", self.backoff, true),
        ] {
            if value.is_zero() && !may_be_zero {
                return Err(SettingsError::new(key, "must be greater than zero"));
            }
            if value > MAX_SETTING_DURATION {
                return Err(SettingsError::new(
                    key,
                    format!("{value:?} is longer than the {MAX_SETTING_DURATION:?} limit"),
                ));
            }
        }
        // A lease must outlast the work plus the effect's round trip, or
        // every job is redelivered while still being worked on.
        let longest_job = self.service_time + self.service_jitter + self.request_timeout * 2;
        if self.visibility_timeout <= longest_job {
            return Err(SettingsError::new(
                "visibility_timeout",
                format!(
                    "{:?} does not outlast a job: it must exceed service_time + service_jitter + 2 × request_timeout = {longest_job:?}",
                    self.visibility_timeout
                ),
            ));
        }
        let bug = self.bug;
        let visibility_timeout = match bug {
            Some(Bug::ShortVisibilityTimeout) => {
                (self.service_time / 4).max(Duration::from_millis(1))
            }
            _ => self.visibility_timeout,
        };
        Ok(QueueConfig {
            visibility_timeout,
            fencing: bug != Some(Bug::ShortVisibilityTimeout),
            idempotent: bug != Some(Bug::NonIdempotent),
            ack_on_receive: bug == Some(Bug::AckOnReceive),
            settings: self,
        })
    }
}
