//! Generated scenario files, some valid and many not, through `chaos check`
//! and `chaos replay` (with or without a `--set`): whatever the input, the process never panics or
//! aborts, exits 0, 1 or 2, and a replay of an accepted scenario stays
//! within its step budget ((duration + drain) / tick + 1 steps) and its
//! operation cap.
//!
//! The values are drawn from lists that mix ordinary values with the edge
//! cases issue 10 found (huge durations, tiny or non-finite rates, groups
//! as hosts, hosts on both sides, arrays for tables), so that a modest
//! number of cases still reaches them. `FUZZ_CASES=N` runs more.

mod common;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const TARGETS: &[&str] = &["register", "kv", "queue", "chain", "nope"];
const DURATIONS: &[&str] = &[
    "1s", "2s", "300ms", "0s", "5124095h", "8760h", "-1s", "soon",
];
const TICKS: &[&str] = &["1ms", "10ms", "0s", "1h"];
const RATES: &[&str] = &[
    "5.0", "0.07", "1e-30", "1e-6", "100000.0", "nan", "inf", "-2.0", "\"fast\"",
];
const CLIENTS: &[&str] = &["1", "3", "0", "20", "-1", "10001"];
const MAX_OPS: &[&str] = &["1000", "10", "0", "200000"];
const MIXES: &[&str] = &[
    "{ read = 1, write = 1 }",
    "{ enqueue = 1 }",
    "{ read = 1, dequeue = 1 }",
    "{ cas = 2, append = 1 }",
    "{ read = 0 }",
    "[7, 1, 3.5]",
];
const KINDS: &[&str] = &[
    "partition",
    "isolate",
    "crash",
    "restart",
    "pause",
    "bounce",
    "partition-oneway",
    "latency",
    "loss",
    "heal",
    "disk-full",
    "clock-jump",
    "bogus",
];
const HOSTS: &[&str] = &[
    "\"server\"",
    "\"servers\"",
    "\"n1\"",
    "\"all\"",
    "\"client-0\"",
    "\"nope\"",
    "[\"server\"]",
];
const SETS: &[&str] = &[
    "[[\"server\"], [\"clients\"]]",
    "[[\"server\"], [\"server\"]]",
    "[[\"servers\"]]",
    "[[\"n1\"], [\"n2\", \"n3\"]]",
    "\"server\"",
];

/// The first value of `list` (an ordinary one) most of the time, else any.
fn pick(list: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop_oneof![5 => Just(list[0]), 1 => proptest::sample::select(list)]
}

/// Entries that are valid for the register target, to mix in.
const GOOD_EVENTS: &[&str] = &[
    "\n[[faults.events]]\nkind = \"isolate\"\nhost = \"server\"\nat = \"300ms\"\nduration = \"200ms\"\n",
    "\n[[faults.events]]\nkind = \"crash\"\nhost = \"servers\"\nat = \"500ms\"\nduration = \"8760h\"\n",
    "\n[[faults.events]]\nkind = \"partition\"\nsides = [[\"server\"], [\"clients\"]]\nat = \"1s\"\n",
];

/// One `[[faults.events]]` entry, with keys that may or may not belong.
fn event() -> impl Strategy<Value = String> {
    (
        pick(KINDS),
        pick(HOSTS),
        pick(DURATIONS),
        proptest::option::of(pick(DURATIONS)),
        pick(SETS),
        any::<u8>(),
    )
        .prop_map(|(kind, host, at, duration, set, extras)| {
            let mut e = format!("\n[[faults.events]]\nkind = \"{kind}\"\nat = \"{at}\"\n");
            if let Some(d) = duration {
                e += &format!("duration = \"{d}\"\n");
            }
            if extras & 1 != 0 {
                e += &format!("host = {host}\n");
            }
            if extras & 2 != 0 {
                e += &format!("sides = {set}\n");
            }
            if extras & 4 != 0 {
                e += &format!("from = {set}\nto = {set}\n");
            }
            if extras & 0x38 == 0x38 {
                e += "latency = \"50ms\"\nrate = 0.2\n";
            }
            if extras & 0xd0 == 0xd0 {
                e += "offset = \"-5s\"\ncapacity_bytes = 100\n";
            }
            e
        })
}

fn scenario() -> impl Strategy<Value = String> {
    (
        pick(TARGETS),
        (pick(DURATIONS), pick(TICKS), pick(DURATIONS)),
        (pick(RATES), pick(CLIENTS), pick(MAX_OPS), pick(MIXES)),
        proptest::collection::vec(
            prop_oneof![
                2 => proptest::sample::select(GOOD_EVENTS).prop_map(str::to_string),
                1 => event(),
            ],
            0..3,
        ),
        any::<u8>(),
    )
        .prop_map(|(target, (duration, tick, drain), (rate, clients, max_ops, mix), events, extras)| {
            let mut s = format!("name = \"fuzz\"\n[target]\nsystem = \"{target}\"\n");
            if target == "kv" && extras & 1 != 0 {
                s += "replicas = 3\n";
            }
            s += &format!("[simulation]\nduration = \"{duration}\"\ntick = \"{tick}\"\ndrain = \"{drain}\"\n");
            if extras & 0x72 == 0x72 {
                // A duplicate key.
                s += &format!("duration = \"{duration}\"\n");
            }
            s += &format!(
                "[workload]\nrate = {rate}\nclients = {clients}\nmax_ops = {max_ops}\nmix = {mix}\n"
            );
            if extras & 4 != 0 {
                s += "final_read = true\n";
            }
            if extras & 0xc0 == 0xc0 {
                s += "bogus_key = 1\n";
            }
            for e in events {
                s += &e;
            }
            s
        })
}

/// Overrides a replay may get (none most of the time).
const OVERRIDES: &[&str] = &[
    "",
    "workload.rate=0.07",
    "workload.rate=1e-30",
    "workload.rate=nan",
    "workload.clients=0",
    "workload=[7, 1, 3.5]",
    "simulation.tick=\"10ms\"",
    "network.tcp_capacity=0",
    "faults.events=[]",
    "target.nope=1",
    "workload.max_ops=5",
];

#[test]
fn generated_scenarios_never_abort_and_replays_stay_bounded() {
    let cases = std::env::var("FUZZ_CASES").map_or(64, |n| n.parse().unwrap());
    let dir = scratch("fuzz");
    let mut runner = TestRunner::new(Config {
        cases,
        // The CLI runs as its own process: failures are not shrunk.
        max_shrink_iters: 0,
        failure_persistence: None,
        ..Config::default()
    });
    let accepted = std::cell::Cell::new(0u32);
    runner
        .run(
            &(scenario(), 0u64..4, pick(OVERRIDES)),
            |(text, seed, set)| {
                let file = dir.join("fuzz.toml");
                std::fs::write(&file, &text).unwrap();
                let out = chaos(&["check", file.to_str().unwrap()]);
                let check = code(&out);
                prop_assert!(
                    check == 0 || check == 2,
                    "check exited {check}: {}\n{text}",
                    stderr(&out)
                );
                prop_assert!(
                    !stderr(&out).contains("panicked"),
                    "{}\n{text}",
                    stderr(&out)
                );
                if check != 0 {
                    prop_assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
                    if std::env::var_os("FUZZ_VERBOSE").is_some() {
                        eprintln!("rejected: {}", stderr(&out).trim());
                    }
                    return Ok(());
                }
                accepted.set(accepted.get() + 1);
                let reports = dir.join("reports");
                // A report left by an earlier case must not be read for this one.
                let _ = std::fs::remove_dir_all(&reports);
                let seed = seed.to_string();
                let mut args = vec![
                    "replay",
                    file.to_str().unwrap(),
                    "--seed",
                    &seed,
                    "--report-dir",
                    reports.to_str().unwrap(),
                ];
                if !set.is_empty() {
                    args.extend(["--set", set]);
                }
                let out = chaos(&args);
                let replay = code(&out);
                prop_assert!(
                    replay <= 2,
                    "replay --set {set:?} exited {replay}: {}\n{text}",
                    stderr(&out)
                );
                if replay == 2 {
                    // Only an override can make an accepted file unusable.
                    prop_assert!(!set.is_empty(), "{}\n{text}", stderr(&out));
                    prop_assert!(stderr(&out).contains("--set "), "{}", stderr(&out));
                    return Ok(());
                }
                let report = read_json(&reports.join(format!("fuzz/seed-{seed}/report.json")));
                let scenario = &report["scenario"];
                let steps = report["run"]["steps"].as_u64().unwrap();
                let ns = |v: &serde_json::Value| -> u128 {
                    harness::duration::parse_duration(v.as_str().unwrap())
                        .unwrap()
                        .as_nanos()
                };
                let sim = &scenario["simulation"];
                let budget =
                    (ns(&sim["duration"]) + ns(&sim["drain"])) / ns(&sim["tick"]).max(1) + 1;
                prop_assert!(
                    u128::from(steps) <= budget,
                    "{steps} steps > {budget}\n{text}"
                );
                let ops = report["history"]["operations"].as_u64().unwrap();
                let cap = scenario["workload"]["max_ops"].as_u64().unwrap();
                // Final reads come on top of the cap, one per key.
                prop_assert!(
                    ops <= cap + 64,
                    "{ops} operations for max_ops {cap}\n{text}"
                );
                Ok(())
            },
        )
        .unwrap();
    eprintln!(
        "{cases} generated scenarios, {} accepted and replayed",
        accepted.get()
    );
}
