//! Fallback and graceful degradation.
//!
//! Model: a call tries, in order, the primary, then the backup (if given),
//! then the last good answer for the same key (if cached and younger than
//! `max_age`), then a default value (if configured). The answer comes back
//! as [`Degraded`], which says where it came from, so availability can count
//! a stale or default answer separately from a real one. Only when every
//! step fails does the call fail, with the errors it saw.
//!
//! The cache keeps the last good answer (from primary or backup) per key,
//! at most `max_entries` keys; when full it forgets the key whose answer is
//! oldest. Keys are ordered (`BTreeMap`), so nothing depends on hash order.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;

use super::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackConfig {
    /// Keys whose last good answer is kept. Default 1024 (chosen here: a
    /// simulated service's working set). Bound: 0 ..= 1,000,000 (0 turns
    /// the cache off).
    pub max_entries: usize,
    /// Oldest cached answer still served. Default 60 s (chosen here: stale
    /// enough to ride out a failover, fresh enough to be useful). Bound:
    /// 1 ms ..= 1 h.
    pub max_age: Duration,
}

impl Default for FallbackConfig {
    fn default() -> Self {
        FallbackConfig {
            max_entries: 1024,
            max_age: Duration::from_secs(60),
        }
    }
}

impl FallbackConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check {
            primitive: "fallback",
        };
        check.count("max_entries", self.max_entries, 0, 1_000_000)?;
        check.duration("max_age", self.max_age, MIN_DURATION, MAX_DURATION)
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Primary,
    Backup,
    /// The last good answer, `age` old.
    Cache {
        age: Duration,
    },
    Default,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Primary => "primary",
            Source::Backup => "backup",
            Source::Cache { .. } => "cache",
            Source::Default => "default",
        }
    }
}

/// An answer and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degraded<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Degraded<T> {
    /// Anything but the primary's own answer.
    pub fn is_degraded(&self) -> bool {
        self.source != Source::Primary
    }
}

/// Every step of the chain failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackFailed<E> {
    pub primary: E,
    /// The backup's error, if there was a backup.
    pub backup: Option<E>,
}

impl<E: fmt::Display> fmt::Display for FallbackFailed<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "primary failed: {}", self.primary)?;
        if let Some(backup) = &self.backup {
            write!(f, "; backup failed: {backup}")?;
        }
        write!(f, "; no cached or default answer")
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for FallbackFailed<E> {}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    stored_at: Instant,
    seq: u64,
}

/// Last good answers, bounded, evicting the oldest-stored key.
#[derive(Debug)]
struct Cache<K, V> {
    entries: BTreeMap<K, Entry<V>>,
    /// `seq → key`, oldest first.
    by_age: BTreeMap<u64, K>,
    next_seq: u64,
}

impl<K: Ord + Clone, V: Clone> Cache<K, V> {
    fn store(&mut self, key: K, value: V, now: Instant, max_entries: usize) {
        if max_entries == 0 {
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(old) = self.entries.insert(
            key.clone(),
            Entry {
                value,
                stored_at: now,
                seq,
            },
        ) {
            self.by_age.remove(&old.seq);
        }
        self.by_age.insert(seq, key);
        while self.entries.len() > max_entries {
            let (_, oldest) = self.by_age.pop_first().expect("by_age mirrors entries");
            self.entries.remove(&oldest);
        }
        debug_assert_eq!(self.entries.len(), self.by_age.len());
    }

    fn get(&self, key: &K, now: Instant, max_age: Duration) -> Option<(V, Duration)> {
        let entry = self.entries.get(key)?;
        let age = now.saturating_duration_since(entry.stored_at);
        (age <= max_age).then(|| (entry.value.clone(), age))
    }
}

type DefaultFn<K, V> = Rc<dyn Fn(&K) -> V>;

/// A fallback chain for answers of type `V` keyed by `K`; clones share the
/// cache.
pub struct Fallback<K, V> {
    name: Rc<str>,
    config: FallbackConfig,
    cache: Rc<RefCell<Cache<K, V>>>,
    default: Option<DefaultFn<K, V>>,
}

impl<K, V> Clone for Fallback<K, V> {
    fn clone(&self) -> Self {
        Fallback {
            name: self.name.clone(),
            config: self.config.clone(),
            cache: self.cache.clone(),
            default: self.default.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Fallback<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fallback")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("has_default", &self.default.is_some())
            .finish_non_exhaustive()
    }
}

impl<K: Ord + Clone + fmt::Debug, V: Clone> Fallback<K, V> {
    /// A chain with a cache and no default value.
    pub fn new(name: impl Into<String>, config: FallbackConfig) -> Result<Self, ConfigError> {
        let name: String = name.into();
        config.validate().map_err(|e| e.named(&name))?;
        Ok(Fallback {
            name: name.into(),
            config,
            cache: Rc::new(RefCell::new(Cache {
                entries: BTreeMap::new(),
                by_age: BTreeMap::new(),
                next_seq: 0,
            })),
            default: None,
        })
    }

    /// Ends the chain with `value` for any key.
    pub fn with_default(self, value: V) -> Self
    where
        V: 'static,
    {
        self.with_default_fn(move |_| value.clone())
    }

    /// Ends the chain with a per-key default.
    pub fn with_default_fn(mut self, default: impl Fn(&K) -> V + 'static) -> Self {
        self.default = Some(Rc::new(default));
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cached answer for `key` and its age, if fresh enough to serve.
    pub fn cached(&self, key: &K) -> Option<(V, Duration)> {
        self.cache
            .borrow()
            .get(key, Instant::now(), self.config.max_age)
    }

    /// Primary, then cache, then default.
    pub async fn call<E, P>(&self, key: K, primary: P) -> Result<Degraded<V>, FallbackFailed<E>>
    where
        P: Future<Output = Result<V, E>>,
    {
        self.chain(key, primary, None::<std::future::Ready<Result<V, E>>>)
            .await
    }

    /// Primary, then backup, then cache, then default. `backup` is not
    /// polled unless the primary fails.
    pub async fn call_with_backup<E, P, B>(
        &self,
        key: K,
        primary: P,
        backup: B,
    ) -> Result<Degraded<V>, FallbackFailed<E>>
    where
        P: Future<Output = Result<V, E>>,
        B: Future<Output = Result<V, E>>,
    {
        self.chain(key, primary, Some(backup)).await
    }

    async fn chain<E, P, B>(
        &self,
        key: K,
        primary: P,
        backup: Option<B>,
    ) -> Result<Degraded<V>, FallbackFailed<E>>
    where
        P: Future<Output = Result<V, E>>,
        B: Future<Output = Result<V, E>>,
    {
        let primary_error = match primary.await {
            Ok(value) => return Ok(self.fresh(key, value, Source::Primary)),
            Err(error) => error,
        };
        let backup_error = match backup {
            Some(backup) => match backup.await {
                Ok(value) => return Ok(self.fresh(key, value, Source::Backup)),
                Err(error) => Some(error),
            },
            None => None,
        };
        if let Some((value, age)) = self.cached(&key) {
            return Ok(self.degraded(&key, value, Source::Cache { age }));
        }
        if let Some(default) = &self.default {
            let value = default(&key);
            return Ok(self.degraded(&key, value, Source::Default));
        }
        tracing::debug!(
            target: "primitive::fallback",
            name = %self.name,
            key = ?key,
            "fallback exhausted"
        );
        Err(FallbackFailed {
            primary: primary_error,
            backup: backup_error,
        })
    }

    fn fresh(&self, key: K, value: V, source: Source) -> Degraded<V> {
        if source == Source::Backup {
            self.trace_used(&key, source);
        }
        self.cache
            .borrow_mut()
            .store(key, value.clone(), Instant::now(), self.config.max_entries);
        Degraded { value, source }
    }

    fn degraded(&self, key: &K, value: V, source: Source) -> Degraded<V> {
        self.trace_used(key, source);
        Degraded { value, source }
    }

    fn trace_used(&self, key: &K, source: Source) {
        let age_ms = match source {
            Source::Cache { age } => age.as_millis() as u64,
            _ => 0,
        };
        tracing::debug!(
            target: "primitive::fallback",
            name = %self.name,
            key = ?key,
            source = source.as_str(),
            age_ms,
            "fallback used"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::capture_events;
    use proptest::prelude::*;

    fn fallback(max_entries: usize) -> Fallback<u32, String> {
        Fallback::new(
            "profile",
            FallbackConfig {
                max_entries,
                max_age: Duration::from_secs(10),
            },
        )
        .unwrap()
    }

    async fn ok(v: &str) -> Result<String, &'static str> {
        Ok(v.to_owned())
    }

    async fn down() -> Result<String, &'static str> {
        Err("down")
    }

    #[tokio::test(start_paused = true)]
    async fn walks_the_chain_and_marks_the_source() {
        let (_guard, events) = capture_events();
        let f = fallback(8).with_default("anonymous".to_owned());
        let primary = f.call(1, ok("alice")).await.unwrap();
        assert_eq!(primary.source, Source::Primary);
        assert!(!primary.is_degraded());

        let backup = f.call_with_backup(2, down(), ok("bob")).await.unwrap();
        assert_eq!(
            (backup.value.as_str(), backup.source),
            ("bob", Source::Backup)
        );

        tokio::time::advance(Duration::from_secs(3)).await;
        let cached = f.call_with_backup(1, down(), down()).await.unwrap();
        assert_eq!(cached.value, "alice");
        assert_eq!(
            cached.source,
            Source::Cache {
                age: Duration::from_secs(3)
            }
        );
        assert!(cached.is_degraded());

        let default = f.call(3, down()).await.unwrap();
        assert_eq!(
            (default.value.as_str(), default.source),
            ("anonymous", Source::Default)
        );

        let sources: Vec<_> = events
            .named("fallback used")
            .iter()
            .map(|e| e.field("source").unwrap().to_owned())
            .collect();
        assert_eq!(sources, ["backup", "cache", "default"]);
    }

    #[tokio::test(start_paused = true)]
    async fn stale_answers_expire_and_then_the_call_fails() {
        let f = fallback(8);
        f.call(1, ok("alice")).await.unwrap();
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(
            f.call_with_backup(1, down(), down()).await,
            Err(FallbackFailed {
                primary: "down",
                backup: Some("down")
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn backup_is_not_run_when_primary_succeeds() {
        let f = fallback(8);
        let ran = std::cell::Cell::new(false);
        let backup = async {
            ran.set(true);
            ok("never").await
        };
        f.call_with_backup(1, ok("alice"), backup).await.unwrap();
        assert!(!ran.get());
    }

    #[test]
    fn invalid_config_is_rejected() {
        let err = Fallback::<u32, u32>::new(
            "f",
            FallbackConfig {
                max_age: Duration::ZERO,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field, "max_age");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The cache never holds more than `max_entries` keys, and a key
        /// that is still cached holds its most recent good answer.
        #[test]
        fn cache_is_bounded_and_keeps_the_latest_answer(
            max_entries in 0usize..8,
            writes in prop::collection::vec((0u32..16, any::<u32>()), 0..100),
        ) {
            let t0 = Instant::now();
            let mut cache = Cache { entries: BTreeMap::new(), by_age: BTreeMap::new(), next_seq: 0 };
            let mut latest = BTreeMap::new();
            for (key, value) in writes {
                cache.store(key, value, t0, max_entries);
                latest.insert(key, value);
                prop_assert!(cache.entries.len() <= max_entries);
                prop_assert_eq!(cache.entries.len(), cache.by_age.len());
            }
            for (key, entry) in &cache.entries {
                prop_assert_eq!(entry.value, latest[key]);
            }
        }
    }
}
