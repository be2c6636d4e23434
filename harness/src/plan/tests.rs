//! Expanding scenarios: same seed same plan, random storms within their
//! bounds, manual events with their ends and windows.

use super::partitions::{majority_minority, Clients};
use super::*;
use crate::duration::{format_duration, SignedDuration};
use crate::fault::{fault_kind, DiskOp};
use crate::scenario::{FaultEventSpec, RandomFaultsSpec, ScenarioBuilder};

fn topology(n: usize) -> Topology {
    Topology {
        servers: (1..=n).map(|i| format!("n{i}")).collect(),
        clients: vec!["client-0".into()],
    }
}

fn random_scenario() -> Scenario {
    ScenarioBuilder::new("swarm", "test")
        .duration(Duration::from_secs(30))
        .random_faults(RandomFaultsSpec::with_kinds(RandomFaultKind::ALL.to_vec()))
        .build()
}

#[test]
fn the_same_seed_gives_the_same_plan() {
    let s = random_scenario();
    assert_eq!(expand(&s, &topology(5), 9), expand(&s, &topology(5), 9));
    assert_ne!(
        expand(&s, &topology(5), 9).events,
        expand(&s, &topology(5), 10).events
    );
}

#[test]
fn a_random_plan_heals_everything_before_the_recovery_window() {
    for seed in 0..50 {
        let plan = expand(&random_scenario(), &topology(5), seed);
        let storm_end = Duration::from_secs(25);
        assert!(plan.last_heal.unwrap() <= storm_end, "seed {seed}");
        assert!(plan.events.iter().all(|e| e.at <= storm_end));
        assert!(matches!(
            plan.events.last().unwrap().action,
            FaultAction::HealAll
        ));
        assert!(plan
            .fault_windows
            .iter()
            .all(|w| w.end.unwrap() <= storm_end));
    }
}

#[test]
fn swarm_seeds_enable_different_kind_sets() {
    let s = random_scenario();
    let sets: std::collections::BTreeSet<Vec<RandomFaultKind>> = (0..20)
        .map(|seed| expand(&s, &topology(5), seed).enabled_fault_kinds)
        .collect();
    assert!(
        sets.len() > 5,
        "swarm should vary the enabled kinds: {sets:?}"
    );
    assert!(sets.iter().all(|k| !k.is_empty()));
}

#[test]
fn majority_minority_keeps_a_strict_majority_with_the_clients() {
    let mut rng = Seed(1).stream("plan");
    let FaultAction::Partition { sides, .. } =
        majority_minority(1, &topology(5), &mut rng, None, Clients::WithMajority)
    else {
        panic!()
    };
    assert_eq!(sides[0].len(), 2);
    assert_eq!(sides[1].len(), 4);
    assert!(sides[1].contains(&"client-0".to_string()));
}

#[test]
fn disk_and_clock_faults_expand_to_start_end_and_a_window() {
    let s = ScenarioBuilder::new("m", "test")
        .fault(FaultEventSpec::DiskError {
            at: Duration::from_secs(2),
            duration: Some(Duration::from_secs(3)),
            host: "n1".into(),
            ops: vec![DiskOp::Sync, DiskOp::Read, DiskOp::Sync],
            probability: 1.0,
        })
        .fault(FaultEventSpec::ClockJump {
            at: Duration::from_secs(1),
            duration: None,
            host: "servers".into(),
            offset: SignedDuration::from_secs(-5),
        })
        .build();
    let plan = expand(&s, &topology(3), 0);
    let actions: Vec<_> = plan.events.iter().map(|e| e.action.describe()).collect();
    assert_eq!(
        actions,
        [
            "clock-jump n1,n2,n3 (-5s)",
            "disk-error n1 (read,sync p=1.00)",
            "end disk fault #1"
        ]
    );
    assert_eq!(plan.fault_windows.len(), 2);
    assert_eq!(plan.fault_windows[1].end, Some(Duration::from_secs(5)));
    assert_eq!(plan.fault_windows[0].end, None, "no duration: never healed");
    assert_eq!(plan.last_heal, None);
}

#[test]
fn random_disk_and_clock_faults_draw_their_parameters_in_range() {
    let mut random = RandomFaultsSpec::with_kinds(vec![
        RandomFaultKind::DiskError,
        RandomFaultKind::DiskFull,
        RandomFaultKind::DiskCorrupt,
        RandomFaultKind::DiskSlow,
        RandomFaultKind::ClockJump,
        RandomFaultKind::ClockDrift,
    ]);
    random.swarm = false;
    let s = ScenarioBuilder::new("swarm", "test")
        .duration(Duration::from_secs(60))
        .random_faults(random)
        .build();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..5 {
        let plan = expand(&s, &topology(3), seed);
        for event in &plan.events {
            match &event.action {
                FaultAction::DiskError {
                    probability, ops, ..
                } => {
                    assert!((0.2..=1.0).contains(probability));
                    assert_eq!(ops, &DiskOp::all());
                }
                FaultAction::DiskFull { capacity_bytes, .. } => {
                    assert!(*capacity_bytes <= 65_536)
                }
                FaultAction::DiskCorrupt { probability, .. } => {
                    assert!((0.1..=0.5).contains(probability))
                }
                FaultAction::DiskSlow { latency, .. } => assert!((Duration::from_millis(10)
                    ..=Duration::from_millis(200))
                    .contains(latency)),
                FaultAction::ClockJump { offset, .. } => {
                    assert!(offset.magnitude() <= Duration::from_secs(10))
                }
                FaultAction::ClockDrift { rate, .. } => assert!((-0.5..=0.5).contains(rate)),
                _ => {}
            }
            if let Some(kind) = fault_kind(&event.action) {
                seen.insert(kind);
            }
        }
        assert!(plan.fault_windows.iter().all(|w| w.end.is_some()));
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
}

/// Adding kinds must not move the random choices of scenarios that do
/// not use them: this plan's events are pinned.
#[test]
fn existing_kinds_expand_as_before_the_disk_and_clock_kinds() {
    let s = ScenarioBuilder::new("swarm", "test")
        .duration(Duration::from_secs(30))
        .random_faults(RandomFaultsSpec::with_kinds(
            RandomFaultKind::ALL[..9].to_vec(),
        ))
        .build();
    let plan = expand(&s, &topology(5), 9);
    let text: Vec<String> = plan
        .events
        .iter()
        .map(|e| format!("{} {}", format_duration(e.at), e.action.describe()))
        .collect();
    let digest = crate::seed::fnv1a(text.join("\n").as_bytes());
    assert_eq!(digest, PINNED_SWARM_DIGEST, "{text:#?}");
}

const PINNED_SWARM_DIGEST: u64 = 2_985_031_220_743_548_604;

#[test]
fn manual_faults_get_an_end_event_and_a_window() {
    let s = ScenarioBuilder::new("m", "test")
        .fault(FaultEventSpec::Crash {
            at: Duration::from_secs(2),
            duration: Some(Duration::from_secs(3)),
            host: "n1".into(),
            spread: None,
        })
        .build();
    let plan = expand(&s, &topology(3), 0);
    assert_eq!(plan.events.len(), 2);
    assert_eq!(plan.events[1].at, Duration::from_secs(5));
    assert_eq!(plan.last_heal, Some(Duration::from_secs(5)));
    assert!(plan.fault_active_at(Duration::from_secs(3)));
    assert!(!plan.fault_active_at(Duration::from_secs(5)));
}

fn clock_storm(compound: f64) -> Scenario {
    let mut random = RandomFaultsSpec::with_kinds(vec![
        RandomFaultKind::ClockJump,
        RandomFaultKind::ClockDrift,
    ]);
    random.swarm = false;
    random.compound = compound;
    ScenarioBuilder::new("swarm", "test")
        .duration(Duration::from_secs(60))
        .random_faults(random)
        .build()
}

/// Each clock fault's host, start and end, in the order they start.
fn clock_faults(plan: &Plan) -> Vec<(String, Duration, Duration)> {
    let mut faults = Vec::new();
    for e in &plan.events {
        let (id, hosts) = match &e.action {
            FaultAction::ClockJump { id, hosts, .. }
            | FaultAction::ClockDrift { id, hosts, .. } => (*id, hosts),
            _ => continue,
        };
        let window = plan.fault_windows.iter().find(|w| w.id == id).unwrap();
        faults.push((hosts[0].clone(), e.at, window.end.unwrap()));
    }
    faults
}

#[test]
fn compound_faults_pile_onto_the_fault_before_on_the_same_server() {
    for seed in 0..10 {
        let faults = clock_faults(&expand(&clock_storm(1.0), &topology(5), seed));
        assert!(faults.len() > 3, "seed {seed}: {faults:?}");
        for pair in faults.windows(2) {
            let ((host, _, end), (next_host, next_start, _)) = (&pair[0], &pair[1]);
            assert_eq!(host, next_host, "seed {seed}: {faults:?}");
            assert!(
                next_start <= end,
                "seed {seed}: starts while the first lasts"
            );
        }
    }
    // Without it, consecutive faults hit servers drawn independently.
    let independent = (0..10)
        .flat_map(|seed| clock_faults(&expand(&clock_storm(0.0), &topology(5), seed)))
        .collect::<Vec<_>>();
    assert!(independent.windows(2).any(|p| p[0].0 != p[1].0));
}

#[test]
fn swarm_kinds_bounds_how_many_kinds_a_seed_enables() {
    let mut random = RandomFaultsSpec::with_kinds(RandomFaultKind::ALL.to_vec());
    random.swarm_kinds = Some([1, 2]);
    let s = ScenarioBuilder::new("swarm", "test")
        .duration(Duration::from_secs(30))
        .random_faults(random)
        .build();
    let sets: std::collections::BTreeSet<Vec<RandomFaultKind>> = (0..40)
        .map(|seed| expand(&s, &topology(5), seed).enabled_fault_kinds)
        .inspect(|kinds| assert!((1..=2).contains(&kinds.len()), "{kinds:?}"))
        .collect();
    assert!(sets.len() > 10, "different kinds per seed: {sets:?}");
    assert!(sets.iter().any(|k| k.len() == 1) && sets.iter().any(|k| k.len() == 2));
}

#[test]
fn a_split_with_clients_leaves_clients_on_both_sides_and_the_role_in_the_minority() {
    let topology = Topology {
        servers: (1..=5).map(|i| format!("n{i}")).collect(),
        clients: (0..3).map(|i| format!("client-{i}")).collect(),
    };
    let mut minority_clients = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let mut rng = Seed(seed).stream("plan");
        let action = majority_minority(
            1,
            &topology,
            &mut rng,
            Some("role:leader"),
            Clients::Divided,
        );
        let FaultAction::Partition { sides, .. } = action else {
            panic!()
        };
        let clients_of =
            |side: &Vec<String>| side.iter().filter(|h| h.starts_with("client")).count();
        assert!(
            clients_of(&sides[0]) >= 1 && clients_of(&sides[1]) >= 1,
            "{sides:?}"
        );
        assert_eq!(
            clients_of(&sides[0]) + clients_of(&sides[1]),
            3,
            "{sides:?}"
        );
        assert_eq!(sides[0][0], "role:leader", "{sides:?}");
        minority_clients.insert(clients_of(&sides[0]));
    }
    // One or two of the three client hosts go with the minority.
    assert_eq!(minority_clients.into_iter().collect::<Vec<_>>(), [1, 2]);
    // With one client host there is nothing to divide: it reaches both.
    let mut rng = Seed(1).stream("plan");
    let FaultAction::Partition { sides, .. } =
        majority_minority(1, &self::topology(5), &mut rng, None, Clients::Divided)
    else {
        panic!()
    };
    assert!(!sides.concat().contains(&"client-0".to_string()));
}

#[test]
fn clock_skew_drifts_every_server_for_the_whole_storm() {
    let mut random = RandomFaultsSpec::with_kinds(vec![RandomFaultKind::Crash]);
    random.clock_skew = Some([-0.95, 0.5]);
    let s = ScenarioBuilder::new("swarm", "test")
        .duration(Duration::from_secs(30))
        .random_faults(random.clone())
        .build();
    let mut rates = Vec::new();
    for seed in 0..10 {
        let plan = expand(&s, &topology(5), seed);
        let skews: Vec<_> = plan
            .events
            .iter()
            .filter_map(|e| match &e.action {
                FaultAction::ClockDrift { id, hosts, rate } => {
                    Some((e.at, *id, hosts.clone(), *rate))
                }
                _ => None,
            })
            .collect();
        assert_eq!(skews.len(), 5, "one per server: {skews:?}");
        for (i, (at, id, hosts, rate)) in skews.iter().enumerate() {
            assert_eq!(*at, random.start);
            assert_eq!(hosts, &vec![format!("n{}", i + 1)]);
            assert!((-0.95..=0.5).contains(rate), "{rate}");
            // It lasts until the storm's closing heal.
            let window = plan.fault_windows.iter().find(|w| w.id == *id).unwrap();
            assert_eq!(window.end, plan.last_heal);
            rates.push(*rate);
        }
    }
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    assert_eq!(rates.len(), 50, "drawn per server and seed");
    // Without it, the same storm has no clock fault at all.
    random.clock_skew = None;
    let s = ScenarioBuilder::new("swarm", "test")
        .duration(Duration::from_secs(30))
        .random_faults(random)
        .build();
    assert!(clock_faults(&expand(&s, &topology(5), 3)).is_empty());
}
