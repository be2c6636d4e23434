//! The `[target]` settings of the `chain` system, as a scenario writes them
//! (see [`super::config`] for what they are checked and turned into).
//!
//! Every primitive is off unless its key is present. Each primitive table
//! takes the primitive's own field names and defaults (see
//! [`crate::primitives`]), so a scenario writes only what differs; a value
//! outside a primitive's bounds is rejected with the primitive's
//! [`ConfigError`] text, keyed to the setting (e.g. `retry.cap`).

use crate::primitives::{Jitter, RetryConfig, SlidingWindow};
use harness::duration::{parse_duration, serde_opt, serde_text};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

/// Most backends a chain may have: every host costs a poll per tick.
pub const MAX_BACKENDS: u32 = 16;
/// Default number of backends.
pub const DEFAULT_BACKENDS: u32 = 3;
/// Default requests the gateway works on at once (chosen here: a generous
/// thread pool, so only a scenario that means to exhaust it does).
pub const DEFAULT_HANDLERS: usize = 256;
/// Most handlers a scenario may configure.
pub const MAX_HANDLERS: usize = 100_000;
/// Default workers per backend.
pub const DEFAULT_WORKERS: usize = 4;
/// Most workers a backend may have (fixed or autoscaled).
pub const MAX_WORKERS: usize = 10_000;
/// Default requests a backend lets wait for a worker: Envoy's default
/// `max_pending_requests`, as for [`PoolConfig`].
pub const DEFAULT_QUEUE: usize = 1024;
/// Most requests a backend may let wait.
pub const MAX_QUEUE: usize = 1_000_000;
/// Longest any time setting of the chain may be: longer is a unit mistake.
pub const MAX_SETTING_DURATION: Duration = Duration::from_secs(3600);
/// Highest surge rate, in requests per second.
pub const MAX_SURGE_RATE: f64 = 100_000.0;
/// Most keys a surge spreads its reads over.
pub const MAX_SURGE_KEYS: u32 = 100_000;

fn default_backends() -> u32 {
    DEFAULT_BACKENDS
}
fn default_client_timeout() -> Duration {
    Duration::from_millis(800)
}
fn default_handlers() -> usize {
    DEFAULT_HANDLERS
}
fn default_request_timeout() -> Duration {
    Duration::from_millis(500)
}
fn default_attempt_timeout() -> Duration {
    Duration::from_millis(200)
}
fn default_workers() -> usize {
    DEFAULT_WORKERS
}
fn default_queue() -> usize {
    DEFAULT_QUEUE
}
fn default_service_time() -> Duration {
    Duration::from_millis(1)
}

/// `[target]` of `system = "chain"`, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSettings {
    /// Backend hosts `backend-1` … `backend-N`.
    #[serde(default = "default_backends")]
    pub backends: u32,
    /// How the gateway picks a backend.
    #[serde(default)]
    pub routing: Routing,
    /// How long a client waits for the gateway's answer.
    #[serde(with = "serde_text", default = "default_client_timeout")]
    pub client_timeout: Duration,
    /// Requests the gateway works on at once; the rest wait their turn.
    #[serde(default = "default_handlers")]
    pub handlers: usize,
    /// The gateway's deadline for one client request, retries included.
    #[serde(with = "serde_text", default = "default_request_timeout")]
    pub request_timeout: Duration,
    /// The gateway's bound on one call to a backend.
    #[serde(with = "serde_text", default = "default_attempt_timeout")]
    pub attempt_timeout: Duration,
    #[serde(default)]
    pub retry: Option<RetrySettings>,
    #[serde(default)]
    pub breaker: Option<BreakerSettings>,
    #[serde(default)]
    pub bulkhead: Option<BulkheadSettings>,
    #[serde(default)]
    pub fallback: Option<FallbackSettings>,
    #[serde(default)]
    pub hedge: Option<HedgeSettings>,
    /// Windows of extra, unrecorded open-loop traffic into the gateway.
    #[serde(default, deserialize_with = "one_or_many")]
    pub surge: Vec<SurgeSettings>,
    /// Workers per backend (the initial size when autoscaled).
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Requests a backend lets wait for a worker; more are refused `busy`.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Time a worker spends on one request.
    #[serde(with = "serde_text", default = "default_service_time")]
    pub service_time: Duration,
    /// Plus a uniform random extra of up to this much.
    #[serde(with = "serde_text", default)]
    pub service_jitter: Duration,
    #[serde(default)]
    pub shed: Option<ShedSettings>,
    #[serde(default)]
    pub autoscale: Option<AutoscaleSettings>,
    /// Windows of extra service time on some backends (CPU slowness).
    #[serde(default, deserialize_with = "one_or_many")]
    pub slowdown: Vec<SlowdownSettings>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Routing {
    /// Each key lives on one backend (`k<i>` on backend `i mod N` + 1);
    /// every attempt for a key goes there.
    #[default]
    Key,
    /// Backends are interchangeable replicas: requests rotate over them and
    /// each retry or hedge goes to the next one.
    RoundRobin,
}

/// `retry = { ... }`: the gateway retries failed backend calls.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySettings {
    #[serde(default = "RetrySettings::default_max_attempts")]
    pub max_attempts: u32,
    /// Bound on all attempts and sleeps (within the request deadline).
    #[serde(default, with = "serde_opt")]
    pub max_total: Option<Duration>,
    #[serde(default)]
    pub backoff: BackoffKind,
    /// The first delay (or every delay, for `fixed`).
    #[serde(default, with = "serde_opt")]
    pub base: Option<Duration>,
    #[serde(default, with = "serde_opt")]
    pub cap: Option<Duration>,
    #[serde(default)]
    pub multiplier: Option<f64>,
    #[serde(default)]
    pub jitter: Option<JitterKind>,
    /// `true` for a retry budget with its defaults, or its settings.
    #[serde(default)]
    pub budget: BudgetSetting,
}

impl RetrySettings {
    pub(super) fn default_max_attempts() -> u32 {
        RetryConfig::default().max_attempts
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackoffKind {
    #[default]
    Exponential,
    Fixed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JitterKind {
    None,
    Full,
    Equal,
    Decorrelated,
}

impl From<JitterKind> for Jitter {
    fn from(kind: JitterKind) -> Jitter {
        match kind {
            JitterKind::None => Jitter::None,
            JitterKind::Full => Jitter::Full,
            JitterKind::Equal => Jitter::Equal,
            JitterKind::Decorrelated => Jitter::Decorrelated,
        }
    }
}

/// `budget = true | false | { max_tokens, token_ratio, min_retries_per_sec }`.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum BudgetSetting {
    #[default]
    Off,
    On(BudgetTable),
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetTable {
    pub max_tokens: Option<u32>,
    pub token_ratio: Option<f64>,
    pub min_retries_per_sec: Option<f64>,
}

impl<'de> Deserialize<'de> for BudgetSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BudgetSetting;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "true, false, or a table of max_tokens, token_ratio, min_retries_per_sec",
                )
            }
            fn visit_bool<E: de::Error>(self, on: bool) -> Result<BudgetSetting, E> {
                Ok(if on {
                    BudgetSetting::On(BudgetTable::default())
                } else {
                    BudgetSetting::Off
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BudgetSetting, A::Error> {
                BudgetTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(BudgetSetting::On)
            }
        }
        d.deserialize_any(V)
    }
}

/// `breaker = { ... }`: one circuit breaker per backend.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSettings {
    /// A number of calls (`20`) or a time window (`"5s"`).
    #[serde(default)]
    pub window: Option<WindowSetting>,
    pub minimum_calls: Option<u32>,
    pub failure_rate_threshold: Option<f64>,
    pub slow_call_rate_threshold: Option<f64>,
    #[serde(default, with = "serde_opt")]
    pub slow_call_duration: Option<Duration>,
    #[serde(default, with = "serde_opt")]
    pub open_duration: Option<Duration>,
    pub open_multiplier: Option<f64>,
    #[serde(default, with = "serde_opt")]
    pub max_open_duration: Option<Duration>,
    pub half_open_calls: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSetting(pub SlidingWindow);

impl<'de> Deserialize<'de> for WindowSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = WindowSetting;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of calls (e.g. 20) or a duration (e.g. \"5s\")")
            }
            fn visit_i64<E: de::Error>(self, calls: i64) -> Result<WindowSetting, E> {
                let calls = u32::try_from(calls)
                    .map_err(|_| E::custom(format!("{calls} calls: expected 1 to 10000")))?;
                Ok(WindowSetting(SlidingWindow::Count { calls }))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<WindowSetting, E> {
                let window = parse_duration(text).map_err(E::custom)?;
                Ok(WindowSetting(SlidingWindow::Time { window }))
            }
        }
        d.deserialize_any(V)
    }
}

/// `bulkhead = { ... }`: one bulkhead per backend.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkheadSettings {
    pub max_concurrent: Option<usize>,
    pub max_queue: Option<usize>,
    #[serde(default, with = "serde_opt")]
    pub max_wait: Option<Duration>,
}

/// `fallback = "cache"` or `{ mode = "cache", max_age = "30s", max_entries = 1024 }`.
#[derive(Clone, Debug, PartialEq)]
pub struct FallbackSettings {
    pub mode: FallbackMode,
    pub max_age: Option<Duration>,
    pub max_entries: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FallbackMode {
    /// The last good answer for the key.
    Cache,
    /// `nil` for any key.
    Default,
    /// The last good answer, else `nil`.
    CacheOrDefault,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FallbackTable {
    mode: FallbackMode,
    #[serde(default, with = "serde_opt")]
    max_age: Option<Duration>,
    max_entries: Option<usize>,
}

impl<'de> Deserialize<'de> for FallbackSettings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FallbackSettings;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "\"cache\", \"default\", \"cache-or-default\", or a table with mode, max_age, max_entries",
                )
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<FallbackSettings, E> {
                let mode = FallbackMode::deserialize(de::value::StrDeserializer::<E>::new(text))?;
                Ok(FallbackSettings {
                    mode,
                    max_age: None,
                    max_entries: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FallbackSettings, A::Error> {
                let t = FallbackTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(FallbackSettings {
                    mode: t.mode,
                    max_age: t.max_age,
                    max_entries: t.max_entries,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `hedge = { delay, max_hedges, budget }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HedgeSettings {
    #[serde(default, with = "serde_opt")]
    pub delay: Option<Duration>,
    pub max_hedges: Option<u32>,
    /// Spend the gateway's retry budget on hedges (the retry's budget
    /// settings if it has one, else the defaults).
    #[serde(default)]
    pub budget: bool,
}

/// `shed = { ... }` on every backend.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShedSettings {
    pub max_in_flight: Option<usize>,
    pub max_queue_depth: Option<usize>,
    #[serde(default)]
    pub queue_delay: Option<QueueDelaySettings>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueDelaySettings {
    #[serde(default, with = "serde_opt")]
    pub target: Option<Duration>,
    #[serde(default, with = "serde_opt")]
    pub interval: Option<Duration>,
}

/// `autoscale = { ... }`: every backend's worker pool resizes itself,
/// starting from `workers`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscaleSettings {
    pub min_workers: Option<usize>,
    pub max_workers: Option<usize>,
    pub scale_up_utilisation: Option<f64>,
    pub scale_down_utilisation: Option<f64>,
    pub scale_up_queue_per_worker: Option<f64>,
    pub scale_up_step: Option<usize>,
    pub scale_down_step: Option<usize>,
    #[serde(default, with = "serde_opt")]
    pub cooldown: Option<Duration>,
    #[serde(default, with = "serde_opt")]
    pub evaluation_interval: Option<Duration>,
}

/// `surge = { at, duration, rate, keys }`: open-loop reads entering the
/// gateway at `rate` per second during the window, from a tenant the
/// history does not record.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurgeSettings {
    #[serde(with = "serde_text")]
    pub at: Duration,
    #[serde(with = "serde_text")]
    pub duration: Duration,
    pub rate: f64,
    /// Keys `k0` … the reads spread over.
    #[serde(default = "SurgeSettings::default_keys")]
    pub keys: u32,
}

impl SurgeSettings {
    fn default_keys() -> u32 {
        8
    }
}

/// `slowdown = { host, at, duration, extra }`: the host's workers take
/// `extra` longer per request during the window.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowdownSettings {
    /// A backend, or `backends` for all of them.
    pub host: String,
    #[serde(with = "serde_text")]
    pub at: Duration,
    #[serde(with = "serde_text")]
    pub duration: Duration,
    #[serde(with = "serde_text")]
    pub extra: Duration,
}

/// A table, or an array of tables, read as a list.
fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a table or an array of tables")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| vec![t])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
            Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq))
        }
    }
    d.deserialize_any(V(PhantomData))
}
