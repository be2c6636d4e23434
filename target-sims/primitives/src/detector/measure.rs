//! Measuring a detector: how fast it notices a stopped peer, and how often
//! it suspects a live one.
//!
//! Both measurements replay a synthetic, seeded heartbeat timeline through a
//! fresh detector — instants computed, nothing slept — so they are exact,
//! instant and reproducible, and can be run for simulated hours in a test.

use std::fmt;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::{Detector, PeerStatus, SuspicionModel};
use crate::config::ConfigError;

/// Heartbeats every `interval`, each gap independently off by up to
/// `jitter` either way (uniformly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatSchedule {
    pub interval: Duration,
    pub jitter: Duration,
}

impl HeartbeatSchedule {
    fn next_gap<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        assert!(
            self.jitter < self.interval,
            "jitter must leave every gap positive"
        );
        if self.jitter.is_zero() {
            return self.interval;
        }
        let low = (self.interval - self.jitter).as_nanos() as u64;
        let high = (self.interval + self.jitter).as_nanos() as u64;
        Duration::from_nanos(rng.random_range(low..=high))
    }
}

/// The peer id used on the synthetic timeline.
const PEER: u32 = 0;

/// Feeds `warmup_beats` heartbeats on `schedule`, then stops them, and
/// returns how long after the last heartbeat the detector first suspects
/// the peer, checking every `resolution`; `None` if not within `horizon`.
pub fn detection_time<M: SuspicionModel, R: Rng + ?Sized>(
    model: M,
    schedule: HeartbeatSchedule,
    warmup_beats: u32,
    resolution: Duration,
    horizon: Duration,
    rng: &mut R,
) -> Result<Option<Duration>, ConfigError> {
    assert!(!resolution.is_zero());
    let mut detector = Detector::new("measure", model)?;
    let mut now = Instant::now();
    detector.heartbeat(&PEER, now);
    for _ in 1..warmup_beats {
        now += schedule.next_gap(rng);
        detector.heartbeat(&PEER, now);
    }
    let last = now;
    let mut silence = Duration::ZERO;
    while silence <= horizon {
        if detector.status(&PEER, last + silence) == Some(PeerStatus::Suspected) {
            return Ok(Some(silence));
        }
        silence += resolution;
    }
    Ok(None)
}

/// What a detector did with a peer that never failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FalseSuspicions {
    pub heartbeats: u64,
    /// Status checks made.
    pub checks: u64,
    /// Checks that found the (live) peer suspected.
    pub suspected_checks: u64,
    /// Times the peer went from available to suspected.
    pub suspicions: u64,
}

impl FalseSuspicions {
    /// Fraction of checks at which a live peer was suspected.
    pub fn rate(&self) -> f64 {
        if self.checks == 0 {
            0.0
        } else {
            self.suspected_checks as f64 / self.checks as f64
        }
    }
}

impl fmt::Display for FalseSuspicions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} false suspicions; suspected at {} of {} checks ({:.4}%)",
            self.suspicions,
            self.suspected_checks,
            self.checks,
            100.0 * self.rate()
        )
    }
}

/// Runs a live peer's heartbeats on `schedule` for `duration`, polling the
/// detector every `check_every`, and counts its false suspicions.
pub fn false_suspicions<M: SuspicionModel, R: Rng + ?Sized>(
    model: M,
    schedule: HeartbeatSchedule,
    duration: Duration,
    check_every: Duration,
    rng: &mut R,
) -> Result<FalseSuspicions, ConfigError> {
    assert!(!check_every.is_zero());
    let mut detector = Detector::new("measure", model)?;
    let start = Instant::now();
    let end = start + duration;
    let mut counts = FalseSuspicions::default();
    let mut next_beat = start;
    let mut next_check = start + check_every;
    loop {
        // A heartbeat and a check at the same instant: the heartbeat first,
        // as a detector that processes messages before timers would.
        if next_beat <= next_check {
            if next_beat > end {
                break;
            }
            detector.heartbeat(&PEER, next_beat);
            counts.heartbeats += 1;
            next_beat += schedule.next_gap(rng);
        } else {
            if next_check > end {
                break;
            }
            let changes = detector.poll(next_check);
            counts.suspicions += changes
                .iter()
                .filter(|t| t.status == PeerStatus::Suspected)
                .count() as u64;
            counts.checks += 1;
            if detector.is_suspected(&PEER, next_check) {
                counts.suspected_checks += 1;
            }
            next_check += check_every;
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{HeartbeatConfig, PhiConfig};
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const SECOND: Duration = Duration::from_secs(1);

    fn jittery(jitter_ms: u64) -> HeartbeatSchedule {
        HeartbeatSchedule {
            interval: SECOND,
            jitter: Duration::from_millis(jitter_ms),
        }
    }

    #[test]
    fn phi_detects_faster_than_a_safe_timeout_with_no_false_suspicions() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let schedule = jittery(100);
        let ms = Duration::from_millis(10);
        let hour = Duration::from_secs(3600);

        let phi = detection_time(PhiConfig::default(), schedule, 100, ms, hour, &mut rng)
            .unwrap()
            .unwrap();
        let timeout = detection_time(
            HeartbeatConfig::default(),
            schedule,
            100,
            ms,
            hour,
            &mut rng,
        )
        .unwrap()
        .unwrap();
        assert!(phi < Duration::from_millis(1700), "phi took {phi:?}");
        assert_eq!(timeout, Duration::from_millis(4010));

        let live = false_suspicions(PhiConfig::default(), schedule, hour, ms, &mut rng).unwrap();
        assert_eq!(live.suspicions, 0, "{live}");
        assert!((3590..=3610).contains(&live.heartbeats), "{live:?}");
    }

    #[test]
    fn a_tight_timeout_falsely_suspects_a_jittery_peer() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let tight = HeartbeatConfig {
            timeout: Duration::from_millis(1100),
        };
        let live = false_suspicions(
            tight,
            jittery(300),
            Duration::from_secs(3600),
            Duration::from_millis(10),
            &mut rng,
        )
        .unwrap();
        assert!(live.suspicions > 100, "{live}");
        assert!(live.rate() > 0.0 && live.rate() < 0.2, "{live}");
    }

    #[test]
    fn measurements_are_reproducible_from_the_seed() {
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            false_suspicions(
                PhiConfig {
                    threshold: 1.0,
                    ..Default::default()
                },
                jittery(400),
                Duration::from_secs(600),
                Duration::from_millis(50),
                &mut rng,
            )
            .unwrap()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// The timeout detector suspects a stopped peer within one check
        /// resolution after its timeout, and never before.
        #[test]
        fn timeout_detection_time_is_the_timeout(
            timeout_ms in 1u64..10_000,
            resolution_ms in 1u64..100,
            seed in any::<u64>(),
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let timeout = Duration::from_millis(timeout_ms);
            let resolution = Duration::from_millis(resolution_ms);
            let found = detection_time(
                HeartbeatConfig { timeout }, jittery(200), 10, resolution, Duration::from_secs(60), &mut rng,
            ).unwrap().unwrap();
            prop_assert!(found > timeout && found <= timeout + resolution);
        }
    }
}
