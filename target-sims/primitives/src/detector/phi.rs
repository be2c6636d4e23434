//! The phi-accrual failure detector (Hayashibara, Défago, Yared, Katayama:
//! "The φ Accrual Failure Detector", SRDS 2004).
//!
//! Model: instead of a yes/no timeout, the detector outputs a suspicion
//! level `phi = −log10(P(a heartbeat arrives later than now))`, where the
//! probability comes from a distribution fitted to the last `max_samples`
//! inter-arrival times. `phi = 1` means a 10% chance the silence is normal,
//! `phi = 8` one in 10^8. The peer is suspected while `phi ≥ threshold`.
//! Because the distribution adapts to the observed jitter, the same
//! threshold gives quick detection on a steady network and few false
//! suspicions on a jittery one.
//!
//! Two distributions: the paper's normal fit (mean and standard deviation,
//! with a floor on the deviation so a perfectly regular history does not
//! make a few milliseconds' delay look impossible), and an exponential fit
//! on the mean alone, which is more tolerant of occasional long gaps.

use std::collections::VecDeque;
use std::f64::consts::{LN_10, SQRT_2};
use std::time::Duration;

use tokio::time::Instant;

use super::SuspicionModel;
use crate::config::{Check, ConfigError, MAX_DURATION, MIN_DURATION};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhiDistribution {
    Normal,
    Exponential,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhiConfig {
    /// Suspect at or above this phi. Default 8: Akka's and Cassandra's
    /// default. Bound: 0.1 ..= 100.
    pub threshold: f64,
    /// Inter-arrival times remembered. Default 1000: Akka's
    /// `max-sample-size`. Bound: 1 ..= 100,000.
    pub max_samples: usize,
    /// Floor on the fitted standard deviation. Default 100 ms: Akka's
    /// `min-std-deviation`. Bound: 1 ms ..= 1 h.
    pub min_std_deviation: Duration,
    /// Silence tolerated on top of the fitted distribution (a GC pause, a
    /// busy peer). Default 0 (the paper has none; Akka's cluster uses 3 s).
    /// Bound: 0 ..= 1 h.
    pub acceptable_pause: Duration,
    /// Assumed mean interval until two heartbeats have arrived. Default
    /// 1 s: Akka's `heartbeat-interval`. Bound: 1 ms ..= 1 h.
    pub first_interval_estimate: Duration,
    /// Default normal, as in the paper.
    pub distribution: PhiDistribution,
}

impl Default for PhiConfig {
    fn default() -> Self {
        PhiConfig {
            threshold: 8.0,
            max_samples: 1000,
            min_std_deviation: Duration::from_millis(100),
            acceptable_pause: Duration::ZERO,
            first_interval_estimate: Duration::from_secs(1),
            distribution: PhiDistribution::Normal,
        }
    }
}

/// One peer's inter-arrival statistics, in seconds.
#[derive(Debug, Clone)]
pub struct PhiHistory {
    last: Instant,
    intervals: VecDeque<f64>,
    sum: f64,
    sum_of_squares: f64,
}

impl PhiConfig {
    /// The suspicion level for `history` at `now`.
    pub fn phi(&self, history: &PhiHistory, now: Instant) -> f64 {
        let (mean, std_deviation) = self.fit(history);
        let silence = now.saturating_duration_since(history.last).as_secs_f64()
            - self.acceptable_pause.as_secs_f64();
        let phi = match self.distribution {
            PhiDistribution::Normal => {
                let z = (silence - mean) / (std_deviation * SQRT_2);
                -(0.5f64.ln() + ln_erfc(z)) / LN_10
            }
            // P(later) = exp(−silence / mean).
            PhiDistribution::Exponential => silence.max(0.0) / (mean * LN_10),
        };
        debug_assert!(phi >= 0.0 && !phi.is_nan(), "phi = {phi}");
        phi
    }

    /// `(mean, standard deviation)` of the intervals, in seconds.
    fn fit(&self, history: &PhiHistory) -> (f64, f64) {
        let n = history.intervals.len() as f64;
        let floor = self.min_std_deviation.as_secs_f64();
        if history.intervals.is_empty() {
            let mean = self.first_interval_estimate.as_secs_f64();
            return (mean, (mean / 4.0).max(floor));
        }
        let mean = history.sum / n;
        let variance = (history.sum_of_squares / n - mean * mean).max(0.0);
        (mean, variance.sqrt().max(floor))
    }
}

impl SuspicionModel for PhiConfig {
    type History = PhiHistory;

    const KIND: &'static str = "phi_accrual";

    fn validate(&self) -> Result<(), ConfigError> {
        let check = Check {
            primitive: "detector",
        };
        check.float("threshold", self.threshold, 0.1, 100.0)?;
        check.count("max_samples", self.max_samples, 1, 100_000)?;
        check.duration(
            "min_std_deviation",
            self.min_std_deviation,
            MIN_DURATION,
            MAX_DURATION,
        )?;
        check.duration(
            "acceptable_pause",
            self.acceptable_pause,
            Duration::ZERO,
            MAX_DURATION,
        )?;
        check.duration(
            "first_interval_estimate",
            self.first_interval_estimate,
            MIN_DURATION,
            MAX_DURATION,
        )
    }

    fn first_heartbeat(&self, at: Instant) -> PhiHistory {
        PhiHistory {
            last: at,
            intervals: VecDeque::with_capacity(self.max_samples.min(1024)),
            sum: 0.0,
            sum_of_squares: 0.0,
        }
    }

    fn heartbeat(&self, history: &mut PhiHistory, at: Instant) {
        if at <= history.last {
            // A duplicate or reordered heartbeat says nothing new.
            return;
        }
        let interval = (at - history.last).as_secs_f64();
        history.last = at;
        if history.intervals.len() == self.max_samples {
            let old = history.intervals.pop_front().expect("full means non-empty");
            history.sum -= old;
            history.sum_of_squares -= old * old;
        }
        history.intervals.push_back(interval);
        history.sum += interval;
        history.sum_of_squares += interval * interval;
        debug_assert!(history.intervals.len() <= self.max_samples);
    }

    fn suspects(&self, history: &PhiHistory, now: Instant) -> bool {
        self.phi(history, now) >= self.threshold
    }
}

impl<P: Ord + Clone + std::fmt::Debug> super::Detector<P, PhiConfig> {
    /// The current suspicion level of `peer`; `None` if never heard from.
    pub fn phi(&self, peer: &P, now: Instant) -> Option<f64> {
        self.peers
            .get(peer)
            .map(|tracked| self.model.phi(&tracked.history, now))
    }
}

/// `ln(erfc(x))`, accurate in the far tail where `erfc` itself underflows.
///
/// Uses the Chebyshev fit `erfc(x) ≈ t·exp(−x² + P(t))`, `t = 1/(1 + x/2)`
/// (Press et al., *Numerical Recipes*, §6.2), whose fractional error is
/// below 1.2e-7 for all `x ≥ 0` — relative accuracy, which is what a
/// logarithm of a tail probability needs.
fn ln_erfc(x: f64) -> f64 {
    if x < 0.0 {
        // erfc(x) = 2 − erfc(−x) lies in (1, 2]: no tail to protect.
        return (2.0 - ln_erfc(-x).exp()).ln();
    }
    let t = 1.0 / (1.0 + 0.5 * x);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    t.ln() - x * x + poly
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::PhiAccrualDetector;
    use proptest::prelude::*;

    #[test]
    fn ln_erfc_matches_reference_values() {
        // erfc reference values to 10 significant digits.
        for (x, erfc) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122_2),
            (1.0, 0.157_299_207_1),
            (2.0, 4.677_734_981e-3),
            (3.0, 2.209_049_700e-5),
            (5.0, 1.537_459_794e-12),
            (-1.0, 1.842_700_793),
        ] {
            let got = ln_erfc(x).exp();
            assert!(
                ((got - erfc) / erfc).abs() < 2e-7,
                "erfc({x}) = {got}, want {erfc}"
            );
        }
        // Far beyond f64's range for erfc itself: ln stays finite.
        assert!(
            (ln_erfc(40.0) - (-1600.0 - 40.0f64.ln() - 0.5 * std::f64::consts::PI.ln())).abs()
                < 0.01
        );
    }

    fn regular(
        config: PhiConfig,
        beats: u32,
        interval: Duration,
    ) -> (PhiAccrualDetector<u8>, Instant) {
        let mut d = PhiAccrualDetector::new("phi", config).unwrap();
        let t0 = Instant::now();
        for k in 0..beats {
            d.heartbeat(&1, t0 + interval * k);
        }
        (d, t0 + interval * (beats - 1))
    }

    #[test]
    fn normal_phi_on_regular_heartbeats() {
        let (d, last) = regular(PhiConfig::default(), 20, Duration::from_secs(1));
        let phi = |ms| d.phi(&1, last + Duration::from_millis(ms)).unwrap();
        // Half the mass lies beyond the mean: phi = log10(2).
        assert!((phi(1000) - 2f64.log10()).abs() < 1e-6);
        // Deviation floored at 100 ms: phi 8 is about 5.6 sigma out.
        assert!(phi(1500) < 8.0 && phi(1600) > 8.0);
        assert!(!d.is_suspected(&1, last + Duration::from_millis(1500)));
        assert!(d.is_suspected(&1, last + Duration::from_millis(1600)));
    }

    #[test]
    fn exponential_phi_grows_linearly() {
        let config = PhiConfig {
            distribution: PhiDistribution::Exponential,
            ..Default::default()
        };
        let (d, last) = regular(config, 5, Duration::from_secs(2));
        let phi = d.phi(&1, last + Duration::from_secs(2)).unwrap();
        assert!((phi - std::f64::consts::LOG10_E).abs() < 1e-9);
        let phi = d.phi(&1, last + Duration::from_secs(4)).unwrap();
        assert!((phi - 2.0 * std::f64::consts::LOG10_E).abs() < 1e-9);
    }

    #[test]
    fn acceptable_pause_delays_suspicion() {
        let config = PhiConfig {
            acceptable_pause: Duration::from_secs(3),
            ..Default::default()
        };
        let (d, last) = regular(config, 20, Duration::from_secs(1));
        assert!(!d.is_suspected(&1, last + Duration::from_millis(4500)));
        assert!(d.is_suspected(&1, last + Duration::from_millis(4700)));
    }

    #[test]
    fn invalid_config_is_rejected() {
        let err = PhiAccrualDetector::<u8>::new(
            "phi",
            PhiConfig {
                threshold: f64::NAN,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field, "threshold");
        assert_eq!(err.primitive, "detector");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Phi never decreases while a peer stays silent, and the history
        /// never exceeds `max_samples`.
        #[test]
        fn phi_is_monotone_in_silence(
            gaps_ms in prop::collection::vec(1u64..3000, 1..60),
            max_samples in 1usize..20,
            exponential in any::<bool>(),
        ) {
            let config = PhiConfig {
                max_samples,
                distribution: if exponential { PhiDistribution::Exponential } else { PhiDistribution::Normal },
                ..Default::default()
            };
            let mut d = PhiAccrualDetector::new("phi", config).unwrap();
            let mut now = Instant::now();
            d.heartbeat(&1u8, now);
            for gap in gaps_ms {
                now += Duration::from_millis(gap);
                d.heartbeat(&1, now);
            }
            prop_assert!(d.peers[&1].history.intervals.len() <= max_samples);
            let mut previous = 0.0;
            for step in 0..200u64 {
                let phi = d.phi(&1, now + Duration::from_millis(step * 50)).unwrap();
                prop_assert!(phi.is_finite() && phi >= previous - 1e-9, "{} after {}", phi, previous);
                previous = phi;
            }
        }
    }
}
