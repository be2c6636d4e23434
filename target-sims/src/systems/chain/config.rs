//! The chain's configuration, checked: what the hosts are built from.
//!
//! [`ChainSettings::check`] turns the settings a scenario wrote into this:
//! every time and count in range, every primitive's configuration built
//! from its table and the primitive's own defaults and validated by the
//! primitive, errors keyed to the setting that caused them.
//!
//! One file, past 600 lines, because it is one idea: one short section per
//! `[target]` table, all built on the same range checks and error renaming
//! at the top, so that every setting is checked the same way.

use super::settings::{
    BackoffKind, BreakerSettings, BudgetSetting, BudgetTable, BulkheadSettings, ChainSettings,
    FallbackMode, FallbackSettings, HedgeSettings, RetrySettings, Routing, ShedSettings,
    SlowdownSettings, SurgeSettings, MAX_BACKENDS, MAX_HANDLERS, MAX_QUEUE, MAX_SETTING_DURATION,
    MAX_SURGE_KEYS, MAX_SURGE_RATE, MAX_WORKERS,
};
use crate::primitives::{
    Backoff, BreakerConfig, BulkheadConfig, ConfigError, FallbackConfig, HedgeConfig, Jitter,
    PoolConfig, QueueDelay, RetryBudgetConfig, RetryConfig, ScalerConfig, ShedConfig,
};
use harness::target::SettingsError;
use std::time::Duration;

/// The chain's configuration, checked: what the hosts are built from.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    pub backends: u32,
    pub routing: Routing,
    pub client_timeout: Duration,
    pub gateway: GatewayConfig,
    pub backend: BackendConfig,
}

#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub handlers: usize,
    pub request_timeout: Duration,
    pub attempt_timeout: Duration,
    pub retry: Option<RetryConfig>,
    /// The budget retries (and hedges, if they ask) spend.
    pub budget: Option<RetryBudgetConfig>,
    pub retry_uses_budget: bool,
    pub breaker: Option<BreakerConfig>,
    pub bulkhead: Option<BulkheadConfig>,
    pub fallback: Option<FallbackPlan>,
    pub hedge: Option<HedgeConfig>,
    pub hedge_uses_budget: bool,
    pub surges: Vec<Surge>,
}

/// What the gateway answers a read with when the backends cannot.
#[derive(Clone, Debug)]
pub struct FallbackPlan {
    pub config: FallbackConfig,
    /// `nil` when nothing is cached.
    pub default_nil: bool,
}

#[derive(Clone, Debug)]
pub struct Surge {
    pub at: Duration,
    pub duration: Duration,
    pub rate: f64,
    pub keys: u32,
}

#[derive(Clone, Debug)]
pub struct BackendConfig {
    pub service_time: Duration,
    pub service_jitter: Duration,
    /// The worker pool: fixed (min = max) unless autoscaled.
    pub pool: PoolConfig,
    pub autoscaled: bool,
    pub shed: Option<ShedConfig>,
    pub slowdowns: Vec<Slowdown>,
}

#[derive(Clone, Debug)]
pub struct Slowdown {
    /// 0-based backend indices it applies to.
    pub backends: Vec<u32>,
    pub at: Duration,
    pub duration: Duration,
    pub extra: Duration,
}

impl BackendConfig {
    /// Extra service time for backend `index` at simulated time `now`.
    pub fn slowdown_at(&self, index: u32, now: Duration) -> Duration {
        self.slowdowns
            .iter()
            .filter(|s| s.backends.contains(&index) && now >= s.at && now < s.at + s.duration)
            .map(|s| s.extra)
            .sum()
    }
}

/// The name of backend `index` (0-based): `backend-1`, `backend-2`, …
pub fn backend_name(index: u32) -> String {
    format!("backend-{}", index + 1)
}

/// A primitive rejected its configuration: report it at `prefix.field`.
fn primitive_error(prefix: &str, error: ConfigError, rename: &[(&str, &str)]) -> SettingsError {
    let field = rename
        .iter()
        .find(|(from, _)| *from == error.field)
        .map_or(error.field, |(_, to)| to);
    SettingsError::new(format!("{prefix}.{field}"), error.to_string())
}

fn check_duration(
    key: &str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), SettingsError> {
    if value < min || value > max {
        return Err(SettingsError::new(
            key,
            format!(
                "{} is out of range: expected {} to {}",
                harness::duration::format_duration(value),
                harness::duration::format_duration(min),
                harness::duration::format_duration(max)
            ),
        ));
    }
    Ok(())
}

fn check_count(key: &str, value: u64, min: u64, max: u64) -> Result<(), SettingsError> {
    if value < min || value > max {
        return Err(SettingsError::new(
            key,
            format!("expected {min} to {max}, found {value}"),
        ));
    }
    Ok(())
}

impl ChainSettings {
    /// Checks every setting and builds the primitives' configurations.
    pub fn check(&self) -> Result<ChainConfig, SettingsError> {
        let ms = Duration::from_millis;
        check_count("backends", self.backends.into(), 1, MAX_BACKENDS.into())?;
        check_duration(
            "client_timeout",
            self.client_timeout,
            ms(1),
            MAX_SETTING_DURATION,
        )?;
        check_count("handlers", self.handlers as u64, 1, MAX_HANDLERS as u64)?;
        check_duration(
            "request_timeout",
            self.request_timeout,
            ms(1),
            MAX_SETTING_DURATION,
        )?;
        check_duration(
            "attempt_timeout",
            self.attempt_timeout,
            ms(1),
            MAX_SETTING_DURATION,
        )?;
        if self.client_timeout <= self.request_timeout {
            return Err(SettingsError::new(
                "client_timeout",
                format!(
                    "must be longer than request_timeout ({}), so the gateway answers before the client gives up",
                    harness::duration::format_duration(self.request_timeout)
                ),
            ));
        }
        check_count("workers", self.workers as u64, 1, MAX_WORKERS as u64)?;
        check_count("queue", self.queue as u64, 0, MAX_QUEUE as u64)?;
        check_duration(
            "service_time",
            self.service_time,
            Duration::ZERO,
            MAX_SETTING_DURATION,
        )?;
        check_duration(
            "service_jitter",
            self.service_jitter,
            Duration::ZERO,
            MAX_SETTING_DURATION,
        )?;

        let budget = self.budget_config()?;
        let retry = self.retry.as_ref().map(|r| r.config()).transpose()?;
        let breaker = self.breaker.as_ref().map(|b| b.config()).transpose()?;
        let bulkhead = self.bulkhead.as_ref().map(|b| b.config()).transpose()?;
        let fallback = self.fallback.as_ref().map(|f| f.plan()).transpose()?;
        let hedge = self.hedge.as_ref().map(|h| h.config()).transpose()?;
        let surges = self
            .surge
            .iter()
            .enumerate()
            .map(|(i, s)| s.check(&format!("surge[{i}]"), self.surge.len()))
            .collect::<Result<Vec<_>, _>>()?;

        let shed = self.shed.as_ref().map(|s| s.config()).transpose()?;
        let (pool, autoscaled) = self.pool_config()?;
        let slowdowns = self
            .slowdown
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.check(
                    &format!("slowdown[{i}]"),
                    self.slowdown.len(),
                    self.backends,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;

        Ok(ChainConfig {
            backends: self.backends,
            routing: self.routing,
            client_timeout: self.client_timeout,
            gateway: GatewayConfig {
                handlers: self.handlers,
                request_timeout: self.request_timeout,
                attempt_timeout: self.attempt_timeout,
                retry,
                retry_uses_budget: self
                    .retry
                    .as_ref()
                    .is_some_and(|r| r.budget != BudgetSetting::Off),
                budget,
                breaker,
                bulkhead,
                fallback,
                hedge,
                hedge_uses_budget: self.hedge.as_ref().is_some_and(|h| h.budget),
                surges,
            },
            backend: BackendConfig {
                service_time: self.service_time,
                service_jitter: self.service_jitter,
                pool,
                autoscaled,
                shed,
                slowdowns,
            },
        })
    }

    /// The gateway's budget: the retry's table, or the defaults when only
    /// the hedge asks for one.
    fn budget_config(&self) -> Result<Option<RetryBudgetConfig>, SettingsError> {
        let table = match self.retry.as_ref().map(|r| &r.budget) {
            Some(BudgetSetting::On(table)) => Some(table.clone()),
            _ if self.hedge.as_ref().is_some_and(|h| h.budget) => Some(BudgetTable::default()),
            _ => None,
        };
        let Some(table) = table else {
            return Ok(None);
        };
        let defaults = RetryBudgetConfig::default();
        let config = RetryBudgetConfig {
            max_tokens: table.max_tokens.unwrap_or(defaults.max_tokens),
            token_ratio: table.token_ratio.unwrap_or(defaults.token_ratio),
            min_retries_per_sec: table
                .min_retries_per_sec
                .unwrap_or(defaults.min_retries_per_sec),
        };
        config
            .validate()
            .map_err(|e| primitive_error("retry.budget", e, &[]))?;
        Ok(Some(config))
    }

    fn pool_config(&self) -> Result<(PoolConfig, bool), SettingsError> {
        let defaults = PoolConfig::default();
        let Some(auto) = &self.autoscale else {
            let fixed = ScalerConfig {
                min_workers: self.workers,
                max_workers: self.workers,
                initial_workers: self.workers,
                ..ScalerConfig::default()
            };
            return Ok((
                PoolConfig {
                    scaler: fixed,
                    max_queue: self.queue,
                    evaluation_interval: defaults.evaluation_interval,
                },
                false,
            ));
        };
        let d = ScalerConfig::default();
        let scaler = ScalerConfig {
            min_workers: auto.min_workers.unwrap_or(d.min_workers),
            max_workers: auto.max_workers.unwrap_or(d.max_workers),
            initial_workers: self.workers,
            scale_up_utilisation: auto.scale_up_utilisation.unwrap_or(d.scale_up_utilisation),
            scale_down_utilisation: auto
                .scale_down_utilisation
                .unwrap_or(d.scale_down_utilisation),
            scale_up_queue_per_worker: auto
                .scale_up_queue_per_worker
                .unwrap_or(d.scale_up_queue_per_worker),
            scale_up_step: auto.scale_up_step.unwrap_or(d.scale_up_step),
            scale_down_step: auto.scale_down_step.unwrap_or(d.scale_down_step),
            cooldown: auto.cooldown.unwrap_or(d.cooldown),
        };
        let pool = PoolConfig {
            scaler,
            max_queue: self.queue,
            evaluation_interval: auto
                .evaluation_interval
                .unwrap_or(defaults.evaluation_interval),
        };
        pool.validate().map_err(|e| {
            if e.field == "initial_workers" {
                SettingsError::new("workers", e.to_string())
            } else if e.field == "max_queue" {
                SettingsError::new("queue", e.to_string())
            } else {
                primitive_error("autoscale", e, &[])
            }
        })?;
        Ok((pool, true))
    }
}

impl RetrySettings {
    fn config(&self) -> Result<RetryConfig, SettingsError> {
        let defaults = RetryConfig::default();
        let Backoff::Exponential {
            base,
            cap,
            multiplier,
            jitter,
        } = Backoff::default()
        else {
            unreachable!("the default backoff is exponential")
        };
        let base = self.base.unwrap_or(base);
        let backoff = match self.backoff {
            BackoffKind::Fixed => {
                for (key, given) in [
                    ("cap", self.cap.is_some()),
                    ("multiplier", self.multiplier.is_some()),
                    ("jitter", self.jitter.is_some()),
                ] {
                    if given {
                        return Err(SettingsError::new(
                            format!("retry.{key}"),
                            "only exponential backoff takes this; fixed backoff waits `base` every time",
                        ));
                    }
                }
                Backoff::Fixed { delay: base }
            }
            BackoffKind::Exponential => Backoff::Exponential {
                base,
                cap: self.cap.unwrap_or(cap),
                multiplier: self.multiplier.unwrap_or(multiplier),
                jitter: self.jitter.map_or(jitter, Jitter::from),
            },
        };
        let config = RetryConfig {
            max_attempts: self.max_attempts,
            max_total: self.max_total.unwrap_or(defaults.max_total),
            backoff,
        };
        config.validate().map_err(|e| {
            primitive_error(
                "retry",
                e,
                &[
                    ("backoff.delay", "base"),
                    ("backoff.base", "base"),
                    ("backoff.cap", "cap"),
                    ("backoff.multiplier", "multiplier"),
                ],
            )
        })?;
        Ok(config)
    }
}

impl BreakerSettings {
    fn config(&self) -> Result<BreakerConfig, SettingsError> {
        let d = BreakerConfig::default();
        let config = BreakerConfig {
            window: self.window.map_or(d.window, |w| w.0),
            minimum_calls: self.minimum_calls.unwrap_or(d.minimum_calls),
            failure_rate_threshold: self
                .failure_rate_threshold
                .unwrap_or(d.failure_rate_threshold),
            slow_call_rate_threshold: self
                .slow_call_rate_threshold
                .unwrap_or(d.slow_call_rate_threshold),
            slow_call_duration: self.slow_call_duration.unwrap_or(d.slow_call_duration),
            open_duration: self.open_duration.unwrap_or(d.open_duration),
            open_multiplier: self.open_multiplier.unwrap_or(d.open_multiplier),
            max_open_duration: self.max_open_duration.unwrap_or(
                d.max_open_duration
                    .max(self.open_duration.unwrap_or_default()),
            ),
            half_open_calls: self.half_open_calls.unwrap_or(d.half_open_calls),
        };
        config.validate().map_err(|e| {
            primitive_error(
                "breaker",
                e,
                &[("window.calls", "window"), ("window.window", "window")],
            )
        })?;
        Ok(config)
    }
}

impl BulkheadSettings {
    fn config(&self) -> Result<BulkheadConfig, SettingsError> {
        let d = BulkheadConfig::default();
        let config = BulkheadConfig {
            max_concurrent: self.max_concurrent.unwrap_or(d.max_concurrent),
            max_queue: self.max_queue.unwrap_or(d.max_queue),
            max_wait: self.max_wait.unwrap_or(d.max_wait),
        };
        config
            .validate()
            .map_err(|e| primitive_error("bulkhead", e, &[]))?;
        Ok(config)
    }
}

impl FallbackSettings {
    fn plan(&self) -> Result<FallbackPlan, SettingsError> {
        let d = FallbackConfig::default();
        let cache = self.mode != FallbackMode::Default;
        if !cache && (self.max_age.is_some() || self.max_entries.is_some()) {
            return Err(SettingsError::new(
                "fallback",
                "mode \"default\" keeps no cache: max_age and max_entries do not apply",
            ));
        }
        let config = FallbackConfig {
            max_entries: if cache {
                self.max_entries.unwrap_or(d.max_entries)
            } else {
                0
            },
            max_age: self.max_age.unwrap_or(d.max_age),
        };
        config
            .validate()
            .map_err(|e| primitive_error("fallback", e, &[]))?;
        Ok(FallbackPlan {
            config,
            default_nil: self.mode != FallbackMode::Cache,
        })
    }
}

impl HedgeSettings {
    fn config(&self) -> Result<HedgeConfig, SettingsError> {
        let d = HedgeConfig::default();
        let config = HedgeConfig {
            delay: self.delay.unwrap_or(d.delay),
            max_hedges: self.max_hedges.unwrap_or(d.max_hedges),
        };
        config
            .validate()
            .map_err(|e| primitive_error("hedge", e, &[]))?;
        Ok(config)
    }
}

impl ShedSettings {
    fn config(&self) -> Result<ShedConfig, SettingsError> {
        let d = ShedConfig::default();
        let queue_delay = self.queue_delay.as_ref().map(|q| {
            let dd = QueueDelay::default();
            QueueDelay {
                target: q.target.unwrap_or(dd.target),
                interval: q.interval.unwrap_or(dd.interval),
            }
        });
        let config = ShedConfig {
            max_in_flight: self.max_in_flight.unwrap_or(d.max_in_flight),
            max_queue_depth: self.max_queue_depth.unwrap_or(d.max_queue_depth),
            queue_delay,
        };
        config
            .validate()
            .map_err(|e| primitive_error("shed", e, &[]))?;
        Ok(config)
    }
}

impl SurgeSettings {
    fn check(&self, key: &str, count: usize) -> Result<Surge, SettingsError> {
        // A single table is `surge`, an array's entries `surge[i]`.
        let key = if count == 1 { "surge" } else { key };
        check_duration(
            &format!("{key}.at"),
            self.at,
            Duration::ZERO,
            MAX_SETTING_DURATION,
        )?;
        check_duration(
            &format!("{key}.duration"),
            self.duration,
            Duration::from_millis(1),
            MAX_SETTING_DURATION,
        )?;
        if !(self.rate > 0.0 && self.rate <= MAX_SURGE_RATE) {
            return Err(SettingsError::new(
                format!("{key}.rate"),
                format!(
                    "expected requests per second in (0, {MAX_SURGE_RATE}], found {}",
                    self.rate
                ),
            ));
        }
        check_count(
            &format!("{key}.keys"),
            self.keys.into(),
            1,
            MAX_SURGE_KEYS.into(),
        )?;
        Ok(Surge {
            at: self.at,
            duration: self.duration,
            rate: self.rate,
            keys: self.keys,
        })
    }
}

impl SlowdownSettings {
    fn check(&self, key: &str, count: usize, backends: u32) -> Result<Slowdown, SettingsError> {
        let key = if count == 1 { "slowdown" } else { key };
        let indices: Vec<u32> = if self.host == "backends" {
            (0..backends).collect()
        } else {
            match (0..backends).find(|i| backend_name(*i) == self.host) {
                Some(i) => vec![i],
                None => {
                    return Err(SettingsError::new(
                        format!("{key}.host"),
                        format!(
                            "unknown host \"{}\": expected \"backends\" or backend-1 to backend-{backends}",
                            self.host
                        ),
                    ))
                }
            }
        };
        check_duration(
            &format!("{key}.at"),
            self.at,
            Duration::ZERO,
            MAX_SETTING_DURATION,
        )?;
        check_duration(
            &format!("{key}.duration"),
            self.duration,
            Duration::from_millis(1),
            MAX_SETTING_DURATION,
        )?;
        check_duration(
            &format!("{key}.extra"),
            self.extra,
            Duration::from_millis(1),
            MAX_SETTING_DURATION,
        )?;
        Ok(Slowdown {
            backends: indices,
            at: self.at,
            duration: self.duration,
            extra: self.extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::SlidingWindow;
    use crate::systems::chain::settings::{DEFAULT_BACKENDS, DEFAULT_QUEUE, DEFAULT_WORKERS};

    fn check(text: &str) -> Result<ChainConfig, SettingsError> {
        let table: toml::Table = toml::from_str(text).expect("valid TOML");
        harness::target::parse_settings::<ChainSettings>(&table)?.check()
    }

    #[test]
    fn no_settings_means_no_primitives_and_a_fixed_pool() {
        let c = check("").unwrap();
        assert_eq!(c.backends, DEFAULT_BACKENDS);
        assert_eq!(c.routing, Routing::Key);
        let g = &c.gateway;
        assert!(g.retry.is_none() && g.budget.is_none() && g.breaker.is_none());
        assert!(g.bulkhead.is_none() && g.fallback.is_none() && g.hedge.is_none());
        assert!(c.backend.shed.is_none() && !c.backend.autoscaled);
        let scaler = &c.backend.pool.scaler;
        assert_eq!(
            (scaler.min_workers, scaler.max_workers),
            (DEFAULT_WORKERS, DEFAULT_WORKERS)
        );
        assert_eq!(c.backend.pool.max_queue, DEFAULT_QUEUE);
    }

    #[test]
    fn primitive_tables_fill_in_the_primitives_defaults() {
        let c = check(
            r#"
            retry = { max_attempts = 5, jitter = "equal" }
            breaker = { window = "5s", minimum_calls = 4 }
            fallback = "default"
            hedge = { budget = true }
            "#,
        )
        .unwrap();
        let g = &c.gateway;
        let retry = g.retry.as_ref().unwrap();
        assert_eq!(retry.max_attempts, 5);
        let Backoff::Exponential { base, jitter, .. } = retry.backoff else {
            panic!("exponential by default")
        };
        assert_eq!((base, jitter), (Duration::from_millis(100), Jitter::Equal));
        let breaker = g.breaker.as_ref().unwrap();
        assert_eq!(
            breaker.window,
            SlidingWindow::Time {
                window: Duration::from_secs(5)
            }
        );
        assert_eq!(breaker.failure_rate_threshold, 0.5);
        let fallback = g.fallback.as_ref().unwrap();
        assert!(fallback.default_nil);
        assert_eq!(fallback.config.max_entries, 0, "no cache in default mode");
        // Only the hedge asked for a budget: it gets the defaults.
        assert_eq!(g.budget, Some(RetryBudgetConfig::default()));
        assert!(g.hedge_uses_budget && !g.retry_uses_budget);
    }

    #[test]
    fn windows_can_be_one_table_or_many() {
        let c = check(
            r#"
            slowdown = [
              { host = "backends", at = "1s", duration = "2s", extra = "10ms" },
              { host = "backend-2", at = "2s", duration = "2s", extra = "5ms" },
            ]
            surge = { at = "1s", duration = "1s", rate = 10.0 }
            "#,
        )
        .unwrap();
        let b = &c.backend;
        let ms = Duration::from_millis;
        assert_eq!(b.slowdown_at(0, ms(1500)), ms(10));
        assert_eq!(b.slowdown_at(1, ms(2500)), ms(15));
        assert_eq!(b.slowdown_at(1, ms(3500)), ms(5));
        assert_eq!(b.slowdown_at(2, ms(3000)), Duration::ZERO);
        assert_eq!(c.gateway.surges.len(), 1);
        let e = check(
            r#"surge = [{ at = "1s", duration = "1s", rate = 1.0 }, { at = "1s", duration = "1s", rate = -1.0 }]"#,
        )
        .unwrap_err();
        assert_eq!(e.key, "surge[1].rate");
    }

    #[test]
    fn fixed_backoff_takes_only_a_base() {
        let c = check(r#"retry = { backoff = "fixed", base = "30ms" }"#).unwrap();
        assert_eq!(
            c.gateway.retry.unwrap().backoff,
            Backoff::Fixed {
                delay: Duration::from_millis(30)
            }
        );
        assert_eq!(
            check(r#"retry = { backoff = "fixed", jitter = "full" }"#)
                .unwrap_err()
                .key,
            "retry.jitter"
        );
    }
}
