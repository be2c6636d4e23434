//! The disk and clock faults in effect on each host.
//!
//! The nemesis switches these on and off at the plan's times (see
//! [`crate::fault::FaultAction`]); [`crate::disk::Disk`] and
//! [`crate::clock::WallClock`] consult them on every call. They live in a
//! thread-local that [`crate::sim::run`] installs for its run (a run is one
//! thread) and removes at its end, so outside a harness run — a target's
//! own unit tests on a bare turmoil `Sim` — no fault applies.
//!
//! Each host's random choices (whether a call with a probability fails,
//! which bit a corruption flips) come from the seed's `disk/<host>` stream,
//! drawn in the order the host's software makes its calls, which the
//! simulation makes deterministic. A draw happens only when a fault that
//! needs one is active, so a run without disk faults draws nothing.

use crate::duration::SignedDuration;
use crate::fault::{DiskOp, FaultAction, FaultId};
use crate::seed::Seed;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

/// Drift rates are kept in millionths, so clock arithmetic is exact
/// integer arithmetic.
const PPM: i128 = 1_000_000;

#[derive(Clone, Debug, PartialEq)]
struct DiskErrorFault {
    ops: Vec<DiskOp>,
    probability: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Drift {
    /// Simulated time the drift began.
    start: Duration,
    /// `rate` in millionths (rounded): the clock gains this many ns per
    /// millisecond of simulated time (loses, when negative).
    rate_ppm: i64,
}

/// The faults active on one host, and its random stream.
#[derive(Clone, Debug)]
pub struct HostFaults {
    errors: BTreeMap<FaultId, DiskErrorFault>,
    capacities: BTreeMap<FaultId, u64>,
    corruptions: BTreeMap<FaultId, f64>,
    latencies: BTreeMap<FaultId, Duration>,
    jumps: BTreeMap<FaultId, SignedDuration>,
    drifts: BTreeMap<FaultId, Drift>,
    rng: ChaCha8Rng,
}

impl HostFaults {
    /// No faults yet; random choices from the seed's `disk/<host>` stream.
    pub fn new(seed: Seed, host: &str) -> HostFaults {
        HostFaults {
            errors: BTreeMap::new(),
            capacities: BTreeMap::new(),
            corruptions: BTreeMap::new(),
            latencies: BTreeMap::new(),
            jumps: BTreeMap::new(),
            drifts: BTreeMap::new(),
            rng: seed.stream(&format!("disk/{host}")),
        }
    }

    /// Starts a disk or clock fault at simulated time `now` (other actions
    /// are ignored).
    pub fn start(&mut self, action: &FaultAction, now: Duration) {
        match action {
            FaultAction::DiskError {
                id,
                ops,
                probability,
                ..
            } => {
                self.errors.insert(
                    *id,
                    DiskErrorFault {
                        ops: ops.clone(),
                        probability: *probability,
                    },
                );
            }
            FaultAction::DiskFull {
                id, capacity_bytes, ..
            } => {
                self.capacities.insert(*id, *capacity_bytes);
            }
            FaultAction::DiskCorrupt {
                id, probability, ..
            } => {
                self.corruptions.insert(*id, *probability);
            }
            FaultAction::DiskSlow { id, latency, .. } => {
                self.latencies.insert(*id, *latency);
            }
            FaultAction::ClockJump { id, offset, .. } => {
                self.jumps.insert(*id, *offset);
            }
            FaultAction::ClockDrift { id, rate, .. } => {
                assert!(rate.is_finite(), "validated drift rate");
                self.drifts.insert(
                    *id,
                    Drift {
                        start: now,
                        rate_ppm: (rate * PPM as f64).round() as i64,
                    },
                );
            }
            _ => {}
        }
    }

    /// Ends one fault, whatever its kind: its effect is gone at once (a
    /// jumped or drifted clock steps back to where it would be without it).
    pub fn end(&mut self, id: FaultId) {
        self.errors.remove(&id);
        self.capacities.remove(&id);
        self.corruptions.remove(&id);
        self.latencies.remove(&id);
        self.jumps.remove(&id);
        self.drifts.remove(&id);
    }

    /// Ends every fault (the random stream goes on where it was).
    pub fn clear(&mut self) {
        self.errors.clear();
        self.capacities.clear();
        self.corruptions.clear();
        self.latencies.clear();
        self.jumps.clear();
        self.drifts.clear();
    }

    /// Whether any disk fault is active.
    pub fn has_disk_faults(&self) -> bool {
        !(self.errors.is_empty()
            && self.capacities.is_empty()
            && self.corruptions.is_empty()
            && self.latencies.is_empty())
    }

    /// How far this host's wall clock is from true (simulated) time at
    /// `now`: the sum of the active jumps, plus for each active drift its
    /// rate times the time since it began.
    pub fn clock_offset(&self, now: Duration) -> SignedDuration {
        let mut nanos: i128 = self.jumps.values().map(|j| j.as_nanos() as i128).sum();
        for drift in self.drifts.values() {
            let since = now.saturating_sub(drift.start).as_nanos() as i128;
            nanos += since * drift.rate_ppm as i128 / PPM;
        }
        SignedDuration::from_nanos(nanos.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }

    /// The latency every disk call gets: the largest active `disk-slow`.
    pub fn disk_latency(&self) -> Duration {
        self.latencies
            .values()
            .copied()
            .max()
            .unwrap_or(Duration::ZERO)
    }

    /// Whether a call of kind `op` fails with EIO: each active `disk-error`
    /// covering `op`, in fault order, fails it with its probability (1
    /// always, without a draw).
    pub fn draw_disk_error(&mut self, op: DiskOp) -> bool {
        for fault in self.errors.values() {
            if fault.ops.contains(&op) && draw(&mut self.rng, fault.probability) {
                return true;
            }
        }
        false
    }

    /// The capacity in force: the smallest active `disk-full` capacity.
    pub fn capacity_bytes(&self) -> Option<u64> {
        self.capacities.values().copied().min()
    }

    /// Corrupts the data one read call returns: with the largest active
    /// `disk-corrupt` probability, flips one uniformly chosen bit of
    /// `data`. Returns the index of the flipped bit (byte * 8 + bit).
    /// Empty data is returned as is, without a draw.
    pub fn corrupt(&mut self, data: &mut [u8]) -> Option<u64> {
        if data.is_empty() {
            return None;
        }
        let probability = self.corruptions.values().copied().reduce(f64::max)?;
        if !draw(&mut self.rng, probability) {
            return None;
        }
        let bit = self.rng.random_range(0..data.len() as u64 * 8);
        data[(bit / 8) as usize] ^= 1 << (bit % 8);
        Some(bit)
    }
}

/// `true` with `probability`; 0 and 1 draw nothing.
fn draw(rng: &mut ChaCha8Rng, probability: f64) -> bool {
    if probability >= 1.0 {
        true
    } else if probability <= 0.0 {
        false
    } else {
        rng.random_bool(probability)
    }
}

/// The hosts of one run that have had a disk or clock fault.
struct RunFaults {
    seed: Seed,
    hosts: BTreeMap<String, HostFaults>,
}

thread_local! {
    static FAULTS: RefCell<Option<RunFaults>> = const { RefCell::new(None) };
}

/// Starts a run on this thread with no host faults.
pub(crate) fn install(seed: Seed) {
    FAULTS.with(|f| {
        *f.borrow_mut() = Some(RunFaults {
            seed,
            hosts: BTreeMap::new(),
        })
    });
}

/// Ends the run on this thread: no host faults apply any more.
pub(crate) fn uninstall() {
    FAULTS.with(|f| *f.borrow_mut() = None);
}

/// Applies a plan action at simulated time `now`, if it is a disk or clock
/// fault or `heal all` (no-op outside a run).
pub(crate) fn apply(action: &FaultAction, now: Duration) {
    FAULTS.with(|f| {
        let mut f = f.borrow_mut();
        let Some(run) = f.as_mut() else { return };
        match action {
            FaultAction::DiskError { hosts, .. }
            | FaultAction::DiskFull { hosts, .. }
            | FaultAction::DiskCorrupt { hosts, .. }
            | FaultAction::DiskSlow { hosts, .. }
            | FaultAction::ClockJump { hosts, .. }
            | FaultAction::ClockDrift { hosts, .. } => {
                for host in hosts {
                    let seed = run.seed;
                    run.hosts
                        .entry(host.clone())
                        .or_insert_with(|| HostFaults::new(seed, host))
                        .start(action, now);
                }
            }
            FaultAction::EndDiskFault { id } | FaultAction::EndClockFault { id } => {
                for faults in run.hosts.values_mut() {
                    faults.end(*id);
                }
            }
            FaultAction::HealAll => {
                for faults in run.hosts.values_mut() {
                    faults.clear();
                }
            }
            _ => {}
        }
    });
}

/// Runs `f` on `host`'s faults; `None` when not in a run or the host has
/// never had a disk or clock fault (the common, cheap case).
pub(crate) fn with_host<R>(host: &str, f: impl FnOnce(&mut HostFaults) -> R) -> Option<R> {
    FAULTS.with(|faults| {
        let mut faults = faults.borrow_mut();
        faults.as_mut()?.hosts.get_mut(host).map(f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn host() -> HostFaults {
        HostFaults::new(Seed(7), "n1")
    }

    fn jump(id: FaultId, offset: SignedDuration) -> FaultAction {
        FaultAction::ClockJump {
            id,
            hosts: vec!["n1".into()],
            offset,
        }
    }

    fn drift(id: FaultId, rate: f64) -> FaultAction {
        FaultAction::ClockDrift {
            id,
            hosts: vec!["n1".into()],
            rate,
        }
    }

    fn errors(id: FaultId, ops: &[DiskOp], probability: f64) -> FaultAction {
        FaultAction::DiskError {
            id,
            hosts: vec!["n1".into()],
            ops: ops.to_vec(),
            probability,
        }
    }

    #[test]
    fn jumps_add_up_and_are_undone_at_their_end() {
        let mut h = host();
        assert_eq!(h.clock_offset(S(1)), SignedDuration::ZERO);
        h.start(&jump(1, SignedDuration::from_secs(-5)), S(2));
        h.start(&jump(2, SignedDuration::from_millis(300)), S(3));
        assert_eq!(h.clock_offset(S(4)), SignedDuration::from_millis(-4700));
        h.end(1);
        assert_eq!(h.clock_offset(S(5)), SignedDuration::from_millis(300));
        h.clear();
        assert_eq!(h.clock_offset(S(6)), SignedDuration::ZERO);
    }

    #[test]
    fn a_drift_accumulates_at_its_rate_and_is_removed_at_its_end() {
        let mut h = host();
        h.start(&drift(1, 0.5), S(2));
        assert_eq!(h.clock_offset(S(2)), SignedDuration::ZERO);
        assert_eq!(h.clock_offset(S(6)), SignedDuration::from_secs(2));
        h.start(&drift(2, -0.25), S(4));
        // 0.5 × 4 s − 0.25 × 2 s.
        assert_eq!(h.clock_offset(S(6)), SignedDuration::from_millis(1500));
        h.end(1);
        h.end(2);
        assert_eq!(h.clock_offset(S(7)), SignedDuration::ZERO);
    }

    #[test]
    fn a_clock_at_rate_minus_one_stands_still() {
        let mut h = host();
        h.start(&drift(1, -1.0), S(1));
        let wall = |t: Duration| t.as_nanos() as i64 + h.clock_offset(t).as_nanos();
        assert_eq!(wall(S(1)), wall(S(5)));
    }

    #[test]
    fn errors_hit_only_the_covered_operations_and_end_with_their_fault() {
        let mut h = host();
        h.start(&errors(1, &[DiskOp::Write, DiskOp::Sync], 1.0), S(0));
        assert!(h.has_disk_faults());
        assert!(h.draw_disk_error(DiskOp::Write));
        assert!(h.draw_disk_error(DiskOp::Sync));
        assert!(!h.draw_disk_error(DiskOp::Read));
        h.end(1);
        assert!(!h.draw_disk_error(DiskOp::Write));
        assert!(!h.has_disk_faults());
    }

    #[test]
    fn a_probability_fails_about_that_share_of_calls_and_is_seeded() {
        let run = |seed| {
            let mut h = HostFaults::new(Seed(seed), "n1");
            h.start(&errors(1, &DiskOp::ALL, 0.3), S(0));
            (0..1000)
                .map(|_| h.draw_disk_error(DiskOp::Read))
                .collect::<Vec<_>>()
        };
        let failed = run(1).iter().filter(|&&f| f).count();
        assert!((240..360).contains(&failed), "{failed}");
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn the_smallest_capacity_and_the_largest_latency_win() {
        let mut h = host();
        assert_eq!(h.capacity_bytes(), None);
        for (id, capacity_bytes) in [(1, 4096), (2, 1024)] {
            h.start(
                &FaultAction::DiskFull {
                    id,
                    hosts: vec!["n1".into()],
                    capacity_bytes,
                },
                S(0),
            );
        }
        for (id, ms) in [(3, 10), (4, 50)] {
            h.start(
                &FaultAction::DiskSlow {
                    id,
                    hosts: vec!["n1".into()],
                    latency: Duration::from_millis(ms),
                },
                S(0),
            );
        }
        assert_eq!(h.capacity_bytes(), Some(1024));
        assert_eq!(h.disk_latency(), Duration::from_millis(50));
        h.end(2);
        h.end(4);
        assert_eq!(h.capacity_bytes(), Some(4096));
        assert_eq!(h.disk_latency(), Duration::from_millis(10));
    }

    #[test]
    fn corruption_flips_exactly_one_bit() {
        let mut h = host();
        let clean = vec![0u8; 64];
        let mut data = clean.clone();
        assert_eq!(h.corrupt(&mut data), None, "no fault, no corruption");
        h.start(
            &FaultAction::DiskCorrupt {
                id: 1,
                hosts: vec!["n1".into()],
                probability: 1.0,
            },
            S(0),
        );
        let bit = h.corrupt(&mut data).unwrap();
        let flipped: u32 = data
            .iter()
            .zip(&clean)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(flipped, 1);
        assert_eq!(data[(bit / 8) as usize], 1 << (bit % 8));
        assert_eq!(h.corrupt(&mut []), None);
    }

    #[test]
    fn the_thread_local_state_applies_only_inside_a_run() {
        let action = jump(1, SignedDuration::from_secs(3));
        apply(&action, S(0));
        assert!(with_host("n1", |h| h.clock_offset(S(1))).is_none());
        install(Seed(1));
        apply(&action, S(0));
        assert_eq!(
            with_host("n1", |h| h.clock_offset(S(1))),
            Some(SignedDuration::from_secs(3))
        );
        assert!(with_host("n2", |_| ()).is_none(), "other hosts untouched");
        apply(&FaultAction::HealAll, S(2));
        assert_eq!(
            with_host("n1", |h| h.clock_offset(S(3))),
            Some(SignedDuration::ZERO)
        );
        uninstall();
        assert!(with_host("n1", |_| ()).is_none());
    }
}
