//! Recovery across a sweep: each seed's per-fault measures
//! ([`SeedRecovery`], from [`RecoveryReport`]) folded, as the seeds
//! arrive, into per-scenario, per-fault-kind tallies
//! ([`RecoveryTallies`]) of fixed shape: counts and [`Histogram`]s, so a
//! sweep's memory does not grow with its seeds and any order of arrival
//! (any `--jobs`, any shard split) gives the same tallies. The summary
//! ([`ScenarioRecoverySummary`]) reads quantiles, availability and the
//! reliability curve R(t) off them.

use super::histogram::Histogram;
use crate::check::recovery::RecoveryReport;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One fault's measures, as a seed hands them to the sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedFault {
    pub kind: String,
    pub detect_ns: Option<u64>,
    /// Time to recover from the fault's start.
    pub recover_ns: Option<u64>,
    pub ops_during: u64,
    pub ok_during: u64,
}

/// One seed's recovery measures, for the sweep's tallies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRecovery {
    pub ops: u64,
    pub ok: u64,
    pub ops_during_faults: u64,
    pub ok_during_faults: u64,
    pub faults: Vec<SeedFault>,
}

impl SeedRecovery {
    pub fn of(report: &RecoveryReport) -> SeedRecovery {
        SeedRecovery {
            ops: report.ops,
            ok: report.ok,
            ops_during_faults: report.ops_during_faults,
            ok_during_faults: report.ok_during_faults,
            faults: report
                .faults
                .iter()
                .map(|f| SeedFault {
                    kind: f.kind.clone(),
                    detect_ns: f.detected.as_ref().map(|d| d.time_to_detect_ns),
                    recover_ns: f.recovered.as_ref().map(|r| r.time_to_recover_ns),
                    ops_during: f.ops_during,
                    ok_during: f.ok_during,
                })
                .collect(),
        }
    }
}

/// The faults of one kind across a scenario's seeds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindTally {
    pub faults: u64,
    /// Times to detect of the faults detected.
    pub detect: Histogram,
    /// Times to recover (from the start) of the faults recovered.
    pub recover: Histogram,
    pub ops_during: u64,
    pub ok_during: u64,
}

impl KindTally {
    fn merge(&mut self, other: &KindTally) {
        self.faults += other.faults;
        self.detect.merge(&other.detect);
        self.recover.merge(&other.recover);
        self.ops_during += other.ops_during;
        self.ok_during += other.ok_during;
    }
}

/// One scenario's seeds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioRecovery {
    pub seeds: u64,
    pub ops: u64,
    pub ok: u64,
    pub ops_during_faults: u64,
    pub ok_during_faults: u64,
    pub kinds: BTreeMap<String, KindTally>,
}

/// Every scenario's tallies, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecoveryTallies(pub BTreeMap<String, ScenarioRecovery>);

impl RecoveryTallies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, scenario: &str, seed: &SeedRecovery) {
        let s = self.0.entry(scenario.to_string()).or_default();
        s.seeds += 1;
        s.ops += seed.ops;
        s.ok += seed.ok;
        s.ops_during_faults += seed.ops_during_faults;
        s.ok_during_faults += seed.ok_during_faults;
        for f in &seed.faults {
            let k = s.kinds.entry(f.kind.clone()).or_default();
            k.faults += 1;
            if let Some(d) = f.detect_ns {
                k.detect.add(d);
            }
            if let Some(r) = f.recover_ns {
                k.recover.add(r);
            }
            k.ops_during += f.ops_during;
            k.ok_during += f.ok_during;
        }
    }

    pub fn merge(&mut self, other: &RecoveryTallies) {
        for (name, o) in &other.0 {
            let s = self.0.entry(name.clone()).or_default();
            s.seeds += o.seeds;
            s.ops += o.ops;
            s.ok += o.ok;
            s.ops_during_faults += o.ops_during_faults;
            s.ok_during_faults += o.ok_during_faults;
            for (kind, k) in &o.kinds {
                s.kinds.entry(kind.clone()).or_default().merge(k);
            }
        }
    }

    pub fn summaries(&self) -> BTreeMap<String, ScenarioRecoverySummary> {
        self.0
            .iter()
            .map(|(name, s)| (name.clone(), ScenarioRecoverySummary::of(s)))
            .collect()
    }
}

/// p50 / p90 / p99 / max of one measure, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Quantiles {
    fn of(h: &Histogram) -> Option<Quantiles> {
        let q = |p| ms(h.quantile(p).unwrap_or(0));
        (!h.is_empty()).then(|| Quantiles {
            count: h.count,
            p50_ms: q(50.0),
            p90_ms: q(90.0),
            p99_ms: q(99.0),
            max_ms: ms(h.max_ns),
        })
    }
}

fn ms(ns: u64) -> f64 {
    (ns as f64 / 1e6 * 1000.0).round() / 1000.0
}

fn ratio(ok: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| (ok as f64 / total as f64 * 10_000.0).round() / 10_000.0)
}

/// Most points of a reliability curve.
pub const MAX_CURVE_POINTS: usize = 33;

/// One fault kind of a scenario, as the summary shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindSummary {
    pub faults: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_detect: Option<Quantiles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_recover: Option<Quantiles>,
    /// Ok ratio of the operations invoked while a fault of this kind was
    /// active.
    pub ok_ratio_during: Option<f64>,
    /// R(t): `[t_ms, fraction]`, the fraction of this kind's faults not yet
    /// recovered `t_ms` after they began (faults never recovered stay in
    /// it), at most [`MAX_CURVE_POINTS`] points from t = 0.
    pub reliability: Vec<[f64; 2]>,
}

/// One scenario's recovery across its seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRecoverySummary {
    pub seeds: u64,
    pub ok_ratio: Option<f64>,
    pub ok_ratio_during_faults: Option<f64>,
    pub kinds: BTreeMap<String, KindSummary>,
}

impl ScenarioRecoverySummary {
    fn of(s: &ScenarioRecovery) -> ScenarioRecoverySummary {
        ScenarioRecoverySummary {
            seeds: s.seeds,
            ok_ratio: ratio(s.ok, s.ops),
            ok_ratio_during_faults: ratio(s.ok_during_faults, s.ops_during_faults),
            kinds: s
                .kinds
                .iter()
                .map(|(kind, k)| (kind.clone(), kind_summary(k)))
                .collect(),
        }
    }
}

fn kind_summary(k: &KindTally) -> KindSummary {
    let never = k.faults - k.recover.count;
    let fraction = |t_ns: u64| {
        let left = never + k.recover.above(t_ns);
        (left as f64 / k.faults.max(1) as f64 * 10_000.0).round() / 10_000.0
    };
    // The curve at t = 0 and at evenly spaced quantiles of the recovery
    // times: a step function's corners, bounded in number.
    let mut times: Vec<u64> = vec![0];
    let steps = (MAX_CURVE_POINTS - 1) as u64;
    for i in 1..=steps {
        if let Some(t) = k.recover.quantile(i as f64 * 100.0 / steps as f64) {
            times.push(t);
        }
    }
    times.dedup();
    KindSummary {
        faults: k.faults,
        time_to_detect: Quantiles::of(&k.detect),
        time_to_recover: Quantiles::of(&k.recover),
        ok_ratio_during: ratio(k.ok_during, k.ops_during),
        reliability: times.into_iter().map(|t| [ms(t), fraction(t)]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(kind: &str, detect_ms: Option<u64>, recover_ms: Option<u64>) -> SeedFault {
        SeedFault {
            kind: kind.into(),
            detect_ns: detect_ms.map(|m| m * 1_000_000),
            recover_ns: recover_ms.map(|m| m * 1_000_000),
            ops_during: 10,
            ok_during: 5,
        }
    }

    #[test]
    fn per_kind_quantiles_availability_and_reliability_from_known_seeds() {
        let mut tallies = RecoveryTallies::default();
        let seeds = [
            vec![
                fault("crash", Some(100), Some(1000)),
                fault("partition", Some(300), None),
            ],
            vec![fault("crash", Some(200), Some(2000))],
            vec![
                fault("crash", None, Some(3000)),
                fault("crash", Some(400), Some(4000)),
            ],
        ];
        for faults in seeds.iter().rev() {
            let seed = SeedRecovery {
                ops: 100,
                ok: 90,
                ops_during_faults: 20,
                ok_during_faults: 10,
                faults: faults.clone(),
            };
            tallies.add("s", &seed);
        }
        let summary = &tallies.summaries()["s"];
        assert_eq!((summary.seeds, summary.ok_ratio), (3, Some(0.9)));
        assert_eq!(summary.ok_ratio_during_faults, Some(0.5));
        let crash = &summary.kinds["crash"];
        assert_eq!(crash.faults, 4);
        let detect = crash.time_to_detect.as_ref().unwrap();
        assert_eq!((detect.count, detect.max_ms), (3, 400.0));
        assert!((200.0..201.0).contains(&detect.p50_ms), "{detect:?}");
        let recover = crash.time_to_recover.as_ref().unwrap();
        assert_eq!(
            (recover.count, recover.max_ms, recover.p99_ms),
            (4, 4000.0, 4000.0)
        );
        // R(0) = 1; after the second recovery half remain; after the last, none.
        assert_eq!(crash.reliability[0], [0.0, 1.0]);
        let at = |t: f64| crash.reliability.iter().rev().find(|p| p[0] <= t).unwrap()[1];
        assert_eq!(at(2_100.0), 0.5);
        assert_eq!(at(4_000.0), 0.0);
        // A partition never recovered keeps R at 1.
        let partition = &summary.kinds["partition"];
        assert_eq!(partition.time_to_recover, None);
        assert_eq!(partition.reliability, vec![[0.0, 1.0]]);
    }
}
