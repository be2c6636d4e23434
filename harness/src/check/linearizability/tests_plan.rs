//! The plan's promise, tested without threads: however its work is
//! interleaved, however many searches run at once and wherever a search
//! that is no longer needed stops, what it reports is the same.
//!
//! Keys are simulated: each ends (linearizable, not linearizable or out of
//! memory) after a fixed number of states, or never. A random schedule
//! starts and finishes pieces of work in any order on up to four virtual
//! threads, and stops a search no longer needed at any state before its
//! target, as a real one polled at a random moment would. The result must
//! equal that of running each piece to its end, one at a time, in order.

use super::rounds::{Checked, Item, KeyResult, Ladder, Plan};
use super::search::{SearchReport, SearchResult, Stuck};
use proptest::prelude::*;

/// How a simulated key's search ends, and after how many states.
#[derive(Clone, Copy, Debug)]
enum End {
    Linearizable,
    NotLinearizable,
    OutOfMemory,
}

#[derive(Clone, Copy, Debug)]
struct FakeKey {
    /// `None`: the search never ends on its own.
    ends: Option<(u64, End)>,
}

/// SplitMix64: enough randomness for a schedule, from one seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What a search of `key` from `progress` states to `target` reports when
/// it runs to its end, or stops at `stop` if that comes first.
fn report(key: &FakeKey, index: usize, stop: Option<u64>, target: u64) -> SearchReport<u8> {
    let (result, states) = match (key.ends, stop) {
        (Some((states, _)), Some(stop)) if stop < states => (SearchResult::Cancelled, stop),
        (None, Some(stop)) => (SearchResult::Cancelled, stop),
        (Some((states, end)), _) if states < target => {
            let result = match end {
                End::Linearizable => SearchResult::Linearizable { order: Vec::new() },
                End::NotLinearizable => SearchResult::NotLinearizable(Stuck {
                    op: index,
                    prefix_tail: vec![index],
                    refused_states: vec![index as u8],
                }),
                End::OutOfMemory => SearchResult::OutOfMemory,
            };
            (result, states)
        }
        _ => (SearchResult::OutOfStates, target),
    };
    SearchReport {
        result,
        states_explored: states,
        longest_prefix: index + states as usize % 7,
    }
}

/// Runs the plan over `keys`; `rng` (if any) picks the interleaving and
/// where needless searches stop, otherwise one piece runs at a time.
fn run(keys: &[FakeKey], ladder: Ladder, memory: u64, rng: Option<&mut Rng>) -> Checked<u8> {
    let mut plan = Plan::new(keys.len(), ladder, memory);
    let progress_bytes = |states: u64| states * 64;
    let mut progress = vec![0u64; keys.len()];
    let finish = |plan: &mut Plan<u8>, progress: &mut [u64], item: Item, stop: Option<u64>| {
        let r = report(&keys[item.key], item.key, stop, item.target);
        let paused = match r.result {
            SearchResult::OutOfStates | SearchResult::Cancelled => {
                progress[item.key] = r.states_explored;
                progress_bytes(r.states_explored)
            }
            _ => 0,
        };
        plan.finish(item, r, paused);
    };
    let Some(rng) = rng else {
        while let Some(item) = plan.next(0) {
            finish(&mut plan, &mut progress, item, None);
        }
        assert_eq!(plan.running(), 0);
        return plan.into_checked();
    };
    let threads = 1 + rng.below(4) as usize;
    let mut running: Vec<(usize, Item)> = Vec::new();
    loop {
        let idle: Vec<usize> = (0..threads)
            .filter(|t| running.iter().all(|(r, _)| r != t))
            .collect();
        let start = !idle.is_empty() && (running.is_empty() || rng.below(2) == 0);
        if start {
            let thread = idle[rng.below(idle.len() as u64) as usize];
            if let Some(item) = plan.next(thread) {
                running.push((thread, item));
                continue;
            }
            if running.is_empty() {
                break;
            }
        }
        let (_, item) = running.swap_remove(rng.below(running.len() as u64) as usize);
        // A search polls now and then: if it is no longer needed as far
        // as it was asked, it may stop anywhere before its target.
        let stop = (plan.need(item.key) < item.target && rng.below(3) != 0).then(|| {
            let from = progress[item.key];
            from + rng.below(item.target - from)
        });
        finish(&mut plan, &mut progress, item, stop);
    }
    assert_eq!(plan.running(), 0);
    plan.into_checked()
}

fn fake_keys() -> impl Strategy<Value = Vec<FakeKey>> {
    let end = prop_oneof![
        4 => Just(End::NotLinearizable),
        3 => Just(End::Linearizable),
        1 => Just(End::OutOfMemory),
    ];
    let states = prop_oneof![0u64..1100, 0u64..20_000, 0u64..200_000];
    let key = prop::option::weighted(0.8, (states, end)).prop_map(|ends| FakeKey { ends });
    prop::collection::vec(key, 1..12)
}

fn summary(checked: &Checked<u8>) -> (Vec<KeyResult<u8>>, u64) {
    (checked.keys.clone(), checked.last_round_states)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_report_does_not_depend_on_the_schedule(
        keys in fake_keys(),
        max_states in prop_oneof![1u64..5000, 5000u64..300_000],
        memory in prop_oneof![Just(u64::MAX), 1u64..2_000_000],
        seed in any::<u64>(),
    ) {
        let ladder = Ladder::new(max_states);
        let in_order = summary(&run(&keys, ladder, memory, None));
        let mut rng = Rng(seed);
        for _ in 0..4 {
            let scheduled = summary(&run(&keys, ladder, memory, Some(&mut rng)));
            prop_assert_eq!(&scheduled, &in_order);
        }
        // The reported failure is the one with the earliest round, first
        // in key order among those of that round.
        let earliest = keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| match k.ends {
                Some((states, End::NotLinearizable)) if states < ladder.max() => {
                    Some((ladder.round_of(states), i))
                }
                _ => None,
            })
            .min();
        let reported = in_order.0.iter().position(|k| {
            matches!(k.outcome, super::rounds::Outcome::NotLinearizable(_))
        });
        prop_assert_eq!(reported, earliest.map(|(_, i)| i));
    }
}
