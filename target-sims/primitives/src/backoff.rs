//! Delays between retry attempts.
//!
//! Model: every delay a [`Backoff`] produces lies in `[min_delay, max_delay]`
//! (for exponential backoff, `[base, cap]`), whatever the jitter and however
//! many retries came before. Jitter draws from an RNG the caller supplies, so
//! a seeded run reproduces its delays exactly.
//!
//! The jitter schemes are the three in the AWS Architecture Blog post
//! "Exponential Backoff and Jitter" (Marc Brooker, 2015), with one change:
//! the blog's "full" and "equal" jitter may sleep less than `base` (full
//! jitter may sleep zero). Here every delay is at least `base`, because a
//! near-zero sleep after a failure is what turns retries into a storm and
//! because it gives callers one simple bound to rely on.

use std::time::Duration;

use rand::Rng;

use super::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};

/// How an exponential delay is randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// `min(cap, base · multiplier^n)` exactly: synchronised clients retry
    /// in lockstep, so use this only where there is one client.
    None,
    /// Uniform in `[base, min(cap, base · multiplier^n)]`.
    Full,
    /// Half the exponential ceiling fixed, half random: uniform in
    /// `[max(base, ceiling / 2), ceiling]`.
    Equal,
    /// `min(cap, uniform(base, 3 · previous delay))`, starting from `base`;
    /// grows without reference to the attempt number, so `multiplier` is
    /// unused.
    Decorrelated,
}

/// A backoff policy: what to wait before retry number `n` (0-based).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// The same delay every time.
    Fixed { delay: Duration },
    /// A delay growing geometrically from `base` up to `cap`.
    Exponential {
        base: Duration,
        cap: Duration,
        multiplier: f64,
        jitter: Jitter,
    },
}

impl Default for Backoff {
    /// Exponential from 100 ms, doubling, capped at 20 s, full jitter: the
    /// AWS SDK's default base delay (100 ms) and maximum backoff (20 s), the
    /// blog post's doubling, and the jitter scheme the post recommends.
    fn default() -> Self {
        Backoff::Exponential {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(20),
            multiplier: 2.0,
            jitter: Jitter::Full,
        }
    }
}

/// Largest growth factor accepted: beyond 10× per retry the cap is reached
/// after one or two retries and the policy is really "fixed at cap".
const MAX_MULTIPLIER: f64 = 10.0;

impl Backoff {
    /// Bounds: every duration in 1 ms ..= 1 h, `cap >= base`, `multiplier`
    /// in 1 ..= 10.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = Check { primitive: "retry" };
        match *self {
            Backoff::Fixed { delay } => {
                check.duration("backoff.delay", delay, MIN_DURATION, MAX_DURATION)
            }
            Backoff::Exponential {
                base,
                cap,
                multiplier,
                ..
            } => {
                check.duration("backoff.base", base, MIN_DURATION, MAX_DURATION)?;
                check.duration("backoff.cap", cap, MIN_DURATION, MAX_DURATION)?;
                check.relation(
                    cap >= base,
                    "backoff.cap",
                    cap,
                    format!("at least backoff.base ({base:?})"),
                )?;
                check.float("backoff.multiplier", multiplier, 1.0, MAX_MULTIPLIER)
            }
        }
    }

    /// The smallest delay this policy can produce.
    pub fn min_delay(&self) -> Duration {
        match *self {
            Backoff::Fixed { delay } => delay,
            Backoff::Exponential { base, .. } => base,
        }
    }

    /// The largest delay this policy can produce.
    pub fn max_delay(&self) -> Duration {
        match *self {
            Backoff::Fixed { delay } => delay,
            Backoff::Exponential { cap, .. } => cap,
        }
    }

    /// A fresh sequence of delays, for one request's retries.
    pub fn sequence(&self) -> BackoffSequence {
        BackoffSequence {
            backoff: *self,
            retries: 0,
            previous: self.min_delay(),
        }
    }
}

/// The delays for one request, in order. Decorrelated jitter depends on the
/// previous delay, hence a stateful sequence rather than a function of `n`.
#[derive(Debug, Clone)]
pub struct BackoffSequence {
    backoff: Backoff,
    retries: u32,
    previous: Duration,
}

impl BackoffSequence {
    /// The delay before the next retry.
    pub fn next_delay<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Duration {
        let delay = match self.backoff {
            Backoff::Fixed { delay } => delay,
            Backoff::Exponential {
                base,
                cap,
                multiplier,
                jitter,
            } => {
                let ceiling = exponential_ceiling(base, cap, multiplier, self.retries);
                match jitter {
                    Jitter::None => ceiling,
                    Jitter::Full => uniform(rng, base, ceiling),
                    Jitter::Equal => uniform(rng, (ceiling / 2).max(base), ceiling),
                    Jitter::Decorrelated => {
                        let upper = self.previous.saturating_mul(3).max(base);
                        uniform(rng, base, upper).min(cap)
                    }
                }
            }
        };
        self.retries = self.retries.saturating_add(1);
        self.previous = delay;
        assert!(
            delay >= self.backoff.min_delay() && delay <= self.backoff.max_delay(),
            "backoff delay {delay:?} outside its bounds"
        );
        delay
    }
}

/// `min(cap, base · multiplier^retries)`, computed without overflow.
fn exponential_ceiling(base: Duration, cap: Duration, multiplier: f64, retries: u32) -> Duration {
    let exponent = i32::try_from(retries).unwrap_or(i32::MAX);
    let nanos = base.as_nanos() as f64 * multiplier.powi(exponent);
    if !nanos.is_finite() || nanos >= cap.as_nanos() as f64 {
        cap
    } else {
        Duration::from_nanos(nanos as u64).clamp(base, cap)
    }
}

fn uniform<R: Rng + ?Sized>(rng: &mut R, low: Duration, high: Duration) -> Duration {
    debug_assert!(low <= high);
    let low_ns = low.as_nanos() as u64;
    let high_ns = high.as_nanos() as u64;
    Duration::from_nanos(rng.random_range(low_ns..=high_ns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn exp(jitter: Jitter) -> Backoff {
        Backoff::Exponential {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
            multiplier: 2.0,
            jitter,
        }
    }

    #[test]
    fn exponential_without_jitter_doubles_up_to_the_cap() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut seq = exp(Jitter::None).sequence();
        let delays: Vec<u64> = (0..7)
            .map(|_| seq.next_delay(&mut rng).as_millis() as u64)
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 2000, 2000]);
    }

    #[test]
    fn same_seed_same_delays() {
        for jitter in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let run = |seed| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut seq = exp(jitter).sequence();
                (0..10)
                    .map(|_| seq.next_delay(&mut rng))
                    .collect::<Vec<_>>()
            };
            assert_eq!(run(42), run(42));
            assert_ne!(run(42), run(43), "{jitter:?} ignores its rng");
        }
    }

    #[test]
    fn equal_jitter_keeps_at_least_half_the_ceiling() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut seq = exp(Jitter::Equal).sequence();
        for retry in 0..8u32 {
            let ceiling = (100u64 << retry).min(2000);
            let delay = seq.next_delay(&mut rng).as_millis() as u64;
            assert!(
                delay >= (ceiling / 2).max(100) && delay <= ceiling,
                "{delay}"
            );
        }
    }

    #[test]
    fn invalid_backoffs_are_rejected() {
        let inverted = Backoff::Exponential {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(1),
            multiplier: 2.0,
            jitter: Jitter::Full,
        };
        assert_eq!(inverted.validate().unwrap_err().field, "backoff.cap");
        let shrinking = Backoff::Exponential {
            base: Duration::from_millis(10),
            cap: Duration::from_secs(1),
            multiplier: 0.5,
            jitter: Jitter::Full,
        };
        assert_eq!(
            shrinking.validate().unwrap_err().field,
            "backoff.multiplier"
        );
        let zero = Backoff::Fixed {
            delay: Duration::ZERO,
        };
        assert_eq!(zero.validate().unwrap_err().field, "backoff.delay");
        assert!(Backoff::default().validate().is_ok());
    }

    fn any_jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![
            Just(Jitter::None),
            Just(Jitter::Full),
            Just(Jitter::Equal),
            Just(Jitter::Decorrelated)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every delay lies in [base, cap], for any valid policy and seed.
        #[test]
        fn every_delay_within_base_and_cap(
            base_ms in 1u64..5_000,
            extra_ms in 0u64..60_000,
            multiplier in 1.0f64..10.0,
            jitter in any_jitter(),
            seed in any::<u64>(),
        ) {
            let base = Duration::from_millis(base_ms);
            let cap = base + Duration::from_millis(extra_ms);
            let backoff = Backoff::Exponential { base, cap, multiplier, jitter };
            prop_assert!(backoff.validate().is_ok());
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut seq = backoff.sequence();
            for _ in 0..64 {
                let delay = seq.next_delay(&mut rng);
                prop_assert!(delay >= base && delay <= cap, "{:?} not in [{:?}, {:?}]", delay, base, cap);
            }
        }
    }
}
