//! The portfolio answers as one search would, and its answer depends on
//! the final budget alone however the budget is handed out.

use super::portfolio::Portfolio;
use super::search::{ChoiceOrder, Limits, Search, SearchResult};
use super::tests_random::{corrupt_reads, linearizable_history, Workload};
use super::*;
use proptest::prelude::*;

fn limits(max_states: u64) -> Limits<'static> {
    Limits {
        max_states,
        max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
        deadline: None,
        cancelled: &|| false,
    }
}

/// Whether a result is a decision, and which.
fn decision<S>(result: &SearchResult<S>) -> Option<bool> {
    match result {
        SearchResult::Linearizable { .. } => Some(true),
        SearchResult::NotLinearizable(_) => Some(false),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Asked for the ladder's budgets one after another, skipping any,
    /// the portfolio ends as one asked for the last budget straight away;
    /// it decides what a single search decides; and it is decided by a
    /// ladder budget exactly when the budget exceeds the states it
    /// reports, as the rounds assume.
    #[test]
    fn the_portfolio_depends_on_the_final_budget_only(
        seed in any::<u64>(),
        clients in 1usize..6,
        ops in 1usize..40,
        kv in any::<bool>(),
        first in 1u64..64,
        skips in proptest::collection::vec(any::<bool>(), 12),
    ) {
        let workload = if kv { Workload::Kv } else { Workload::Register };
        let history = corrupt_reads(linearizable_history(workload, seed, clients, ops), seed);
        let operations = history.operations().unwrap_or_default();
        let Ok(mut partitions) = partition(&operations, &Kv::for_key) else {
            return Ok(());
        };
        let max = 1 << 20;
        // A ladder whose first budget is `first`: 4^r times it.
        let budget = |round: u32| (first << (2 * round)).min(max);
        for p in &mut partitions {
            let memory = DEFAULT_MAX_MEMORY_BYTES;
            let mut straight = Portfolio::new(&mut p.model, &p.ops, memory, first);
            let straight = straight.run(&mut p.model, &p.ops, &limits(max));
            let single = Search::new(&mut p.model, &p.ops, memory, ChoiceOrder::CallOrder)
                .run(&mut p.model, &p.ops, &limits(max));
            prop_assert_eq!(decision(&straight.result), decision(&single.result));

            let mut stepped = Portfolio::new(&mut p.model, &p.ops, memory, first);
            let mut round = 0;
            let report = loop {
                let target = budget(round);
                let skip = skips.get(round as usize).copied().unwrap_or(false);
                if skip && target < max {
                    round += 1;
                    continue;
                }
                let report = stepped.run(&mut p.model, &p.ops, &limits(target));
                if report.result != SearchResult::OutOfStates || target >= max {
                    break report;
                }
                prop_assert_eq!(report.states_explored, target);
                round += 1;
            };
            prop_assert_eq!(&report, &straight);

            if decision(&straight.result).is_some() && straight.states_explored < max {
                for round in 0..12 {
                    let target = budget(round);
                    let mut fresh = Portfolio::new(&mut p.model, &p.ops, memory, first);
                    let report = fresh.run(&mut p.model, &p.ops, &limits(target));
                    if target > straight.states_explored {
                        prop_assert_eq!(&report, &straight);
                    } else {
                        prop_assert_eq!(&report.result, &SearchResult::OutOfStates);
                    }
                    if target >= max {
                        break;
                    }
                }
            }
        }
    }
}
