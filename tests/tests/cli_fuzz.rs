//! Generated command lines through the `chaos` binary: whatever the
//! arguments (every command, its flags with ordinary and odd values,
//! values left out, unknown flags, stray words, paths that do not exist or
//! are a file where a folder is wanted and the other way round), the
//! process never panics or dies of a signal, exits 0, 1 or 2 within a wall
//! time limit and a memory limit, says why when it exits 2, and a replay it
//! accepted stays within its step budget.
//!
//! Each case runs in a scratch folder of its own, so `new`, `run` and
//! `merge` write there and nowhere else. Values come from short lists
//! mixing ordinary values with the edge cases issue 10 found, so that a
//! modest number of cases reaches them; the commands that can run long
//! (`run`, `bugs`, `shrink`) are always given a scenario or target and
//! small seed counts, since a generated full-suite sweep would test the
//! sweep, not the command line. `CLI_FUZZ_CASES=N` runs N cases (default
//! 150, about ten seconds here); `CLI_FUZZ_VERBOSE=1` prints every
//! command line with its exit code; `CLI_FUZZ_BIN=PATH` runs another copy
//! of the binary.

mod common;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a generated command may take before it counts as a hang.
const WALL_LIMIT: Duration = Duration::from_secs(120);
/// Most resident memory a generated command may reach (its peak RSS).
const MEMORY_LIMIT_BYTES: u64 = 1 << 30;

/// Placeholders resolved against the case's folder and the repository:
/// `@S` the scratch folder, `@R` the repository root.
const SCENARIOS: &[&str] = &[
    "register-isolate",
    "register-crash-restart",
    "kv-leader-isolate",
    "queue-partition",
    "@R/tests/fixtures/register-coverage-unmet.toml",
    "@R/tests/fixtures/register-too-strict.toml",
    "nope",
    "",
    "-",
    "@R/README.md",
    "@R/scenarios",
    "@S/missing.toml",
    "@S/dir with space/x.toml",
    "ünïcode",
];
const SEEDS: &[&str] = &[
    "1",
    "0",
    "2",
    "-1",
    "x",
    "",
    "99999999999",
    "1000001",
    "18446744073709551615",
    "18446744073709551616",
    "1e3",
    " 1",
];
const SEED_RANGES: &[&str] = &[
    "0..2",
    "3..5",
    "5..3",
    "2..2",
    "0..18446744073709551615",
    "a..b",
    "..",
    "1",
    "0..1000001",
];
const DURATIONS: &[&str] = &["2s", "0s", "1ms", "-1s", "soon", "", "5124095h", "1e9h"];
const JOBS: &[&str] = &["1", "2", "0", "-1", "99999", "x"];
const SHARDS: &[&str] = &[
    "1/2",
    "2/2",
    "3/2",
    "0/2",
    "1/0",
    "1",
    "a/b",
    "1/18446744073709551616",
];
const HISTORY: &[&str] = &["failing", "all", "none", "some", ""];
const SETS: &[&str] = &[
    "workload.clients=2",
    "workload.rate=0.07",
    "workload.rate=1e-30",
    "workload.rate=nan",
    "workload.clients=0",
    "workload=[7, 1, 3.5]",
    "target.nope=1",
    "nokey",
    "=1",
    "simulation.tick=\"10ms\"",
    "workload.max_ops=5",
    "faults.events=[]",
];
const REPORT_DIRS: &[&str] = &["@S/reports", "@S/file", "/dev/null/x", "@S/a dir/r", ""];
const MODELS: &[&str] = &[
    "register",
    "kv",
    "counter",
    "queue",
    "list-append",
    "rw-register",
    "nope",
    "",
];
const HISTORY_FILES: &[&str] = &[
    "@S/register.edn",
    "@S/append.edn",
    "@R/tests/fixtures/histories/kv-swarm-seed-4.edn",
    "@R/README.md",
    "@S/file",
    "@S/empty",
    "@S",
    "@S/missing.edn",
    "/dev/null",
];
const NUMBERS: &[&str] = &["0", "1", "10", "4000000", "-5", "x", "18446744073709551616"];
const TARGETS: &[&str] = &["register", "queue", "nope", "", "kv"];
const NAMES: &[&str] = &["x", "", "../up", "a/b", "with space", "-dash", "ü"];

/// A flag and the values it may get; `None` values: a switch.
struct Flag {
    name: &'static str,
    values: Option<&'static [&'static str]>,
}

const fn flag(name: &'static str, values: &'static [&'static str]) -> Flag {
    Flag {
        name,
        values: Some(values),
    }
}

const fn switch(name: &'static str) -> Flag {
    Flag { name, values: None }
}

/// A command: its name, what its positionals are drawn from (at most how
/// many, at least one if `needs_one`), and its flags.
struct Spec {
    name: &'static str,
    positionals: &'static [&'static str],
    needs_one: bool,
    flags: &'static [Flag],
}

const REPORT_FLAGS_RUN: &[Flag] = &[
    flag("--seeds", SEEDS),
    flag("--seed-range", SEED_RANGES),
    flag("--jobs", JOBS),
    flag("--shard", SHARDS),
    flag("--time-budget", DURATIONS),
    flag("--history", HISTORY),
    flag("--report-dir", REPORT_DIRS),
    flag("--set", SETS),
    switch("--check-determinism"),
    switch("--shrink"),
    flag("--format", FORMATS),
];
const FORMATS: &[&str] = &["json", "text", "yaml", ""];

const COMMANDS: &[Spec] = &[
    Spec {
        name: "list",
        positionals: &["extra"],
        needs_one: false,
        flags: &[],
    },
    Spec {
        name: "run",
        positionals: SCENARIOS,
        needs_one: true,
        flags: REPORT_FLAGS_RUN,
    },
    Spec {
        name: "replay",
        positionals: SCENARIOS,
        needs_one: true,
        flags: &[
            flag("--seed", SEEDS),
            switch("--trace"),
            flag("--report-dir", REPORT_DIRS),
            flag("--set", SETS),
            switch("--check-determinism"),
            flag("--format", FORMATS),
        ],
    },
    Spec {
        name: "shrink",
        positionals: SCENARIOS,
        needs_one: true,
        flags: &[
            flag("--seed", SEEDS),
            flag("--max-runs", &["0", "1", "3", "-1", "x"]),
            flag("--out", &["@S/out.toml", "@S", "/dev/null/x", "@S/file/x"]),
            flag("--report-dir", REPORT_DIRS),
            flag("--set", SETS),
        ],
    },
    Spec {
        name: "check",
        positionals: SCENARIOS,
        needs_one: false,
        flags: &[],
    },
    Spec {
        name: "check-history",
        positionals: HISTORY_FILES,
        needs_one: true,
        flags: &[
            flag("--model", MODELS),
            flag("--max-states", NUMBERS),
            flag("--max-memory-bytes", NUMBERS),
            flag("--max-input-bytes", NUMBERS),
            flag(
                "--consistency",
                &["serializable", "snapshot-isolation", "nope", ""],
            ),
            flag("--max-txns", NUMBERS),
            flag("--format", FORMATS),
        ],
    },
    Spec {
        name: "bugs",
        positionals: &["extra"],
        needs_one: false,
        flags: &[
            flag("--max-seeds", &["1", "0", "2", "-1", "x"]),
            flag("--swarm-seeds", &["0", "1", "x"]),
            flag("--jobs", JOBS),
            flag("--format", FORMATS),
        ],
    },
    Spec {
        name: "merge",
        positionals: &["@S/reports", "@S", "@S/file", "@S/missing", "/dev/null"],
        needs_one: false,
        flags: &[flag("--report-dir", REPORT_DIRS)],
    },
    Spec {
        name: "new",
        positionals: NAMES,
        needs_one: false,
        flags: &[
            flag("--target", TARGETS),
            flag("--dir", &["@S/new", "@S/file", "/dev/null/x", "@S"]),
            switch("--force"),
        ],
    },
    Spec {
        name: "completions",
        positionals: &["bash", "zsh", "fish", "tcsh", ""],
        needs_one: false,
        flags: &[],
    },
    Spec {
        name: "bogus-command",
        positionals: &["x"],
        needs_one: false,
        flags: &[],
    },
];

/// Words that may land anywhere.
const STRAY: &[&str] = &[
    "--bogus",
    "-z",
    "--",
    "--help",
    "-h",
    "--version",
    "--seed=1",
    "--format",
    "json",
    "x",
    "",
];

/// One generated command line, with placeholders still in.
fn command_line() -> impl Strategy<Value = Vec<String>> {
    (
        0..COMMANDS.len(),
        proptest::collection::vec((any::<u16>(), any::<u8>()), 0..6),
        proptest::collection::vec(any::<u16>(), 0..3),
        (any::<u8>(), any::<u8>(), any::<u8>()),
        proptest::collection::vec((any::<u16>(), any::<u16>()), 0..3),
    )
        .prop_map(|(command, flags, positionals, (shape, n1, n2), strays)| {
            // Each bit of `noise` is set a quarter of the time: how odd
            // this case is beyond its values.
            let noise = n1 & n2;
            let shape = (shape & !0xfe) | (noise & 0xfe);
            let spec = &COMMANDS[command];
            let mut args = vec![spec.name.to_string()];
            let mut wanted = if shape & 0x40 != 0 {
                positionals.len()
            } else {
                positionals.len().min(1)
            };
            if spec.needs_one {
                wanted = wanted.max(1);
            } else if shape & 0x40 == 0 && spec.positionals.len() == 1 {
                // `list extra`, `bugs extra`: only when odd.
                wanted = 0;
            }
            for (i, p) in positionals.iter().chain([&0u16]).take(wanted).enumerate() {
                if spec.positionals.is_empty() {
                    break;
                }
                // Mostly the first (ordinary) value, first of all.
                let k = if i == 0 && shape & 1 == 0 {
                    0
                } else {
                    usize::from(*p) % spec.positionals.len()
                };
                args.push(spec.positionals[k].to_string());
            }
            let mut used = Vec::new();
            for (f, v) in &flags {
                if spec.flags.is_empty() {
                    break;
                }
                let flag = &spec.flags[usize::from(*f) % spec.flags.len()];
                // A flag given twice, now and then (`--set` may be).
                if used.contains(&flag.name) && flag.name != "--set" && shape & 4 == 0 {
                    continue;
                }
                used.push(flag.name);
                args.push(flag.name.to_string());
                if let Some(values) = flag.values {
                    match v % 8 {
                        // The value left out.
                        0 if shape & 2 != 0 => {}
                        1..=4 => args.push(values[0].to_string()),
                        _ => args.push(values[usize::from(*v) % values.len()].to_string()),
                    }
                }
            }
            // The bounds that keep a generated case short (see the module
            // docs), unless the case is about leaving them out.
            if shape & 0x30 != 0x30 {
                match spec.name {
                    "run" if !args.iter().any(|a| a.starts_with("--seed")) => {
                        args.extend(["--seeds".into(), "2".into()])
                    }
                    "bugs" => args.extend(["--target".into(), "register".into()]),
                    "shrink" if !args.iter().any(|a| a == "--max-runs") => {
                        args.extend(["--max-runs".into(), "3".into()])
                    }
                    _ => {}
                }
            }
            // Required flags, left out now and then.
            let required = match spec.name {
                "replay" | "shrink" => Some(("--seed", "1")),
                "new" => Some(("--target", "register")),
                _ => None,
            };
            if let Some((name, value)) = required {
                if shape & 8 == 0 && !args.iter().any(|a| a == name) {
                    args.extend([name.to_string(), value.to_string()]);
                }
            }
            if spec.name == "bugs" && !args.iter().any(|a| a == "--target") {
                args.extend(["--target".into(), TARGETS[usize::from(shape) % 3].into()]);
            }
            if spec.name == "check-history" && shape & 0x20 == 0 {
                args.extend(["--model".into(), "register".into()]);
            }
            for (place, word) in strays.into_iter().filter(|_| shape & 0x80 != 0) {
                let at = usize::from(place) % (args.len() + 1);
                args.insert(at, STRAY[usize::from(word) % STRAY.len()].to_string());
            }
            args
        })
}

/// What a finished case left: exit code (or the signal that ended it),
/// peak memory, wall time, and its output.
struct Outcome {
    code: Option<i32>,
    signal: Option<i32>,
    max_rss_bytes: u64,
    wall: Duration,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `cwd`, reaping it with `wait4` for its peak RSS,
/// killing it at [`WALL_LIMIT`].
fn run_measured(args: &[String], cwd: &Path) -> Outcome {
    let (out_path, err_path) = (cwd.join(".stdout"), cwd.join(".stderr"));
    // CLI_FUZZ_BIN: a copy of the binary, so a long fuzzing run is not
    // disturbed by a rebuild replacing it.
    let bin = std::env::var("CLI_FUZZ_BIN").unwrap_or(env!("CARGO_BIN_EXE_chaos-e2e").into());
    let child = Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .env_remove("CARGO_MANIFEST_DIR")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("the chaos binary runs");
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped; the out pointers
        // are valid for the call.
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(done >= 0, "wait4 failed");
        if done == pid {
            break;
        }
        if start.elapsed() > WALL_LIMIT {
            // SAFETY: signalling our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // The child is reaped: std's handle must not wait for it again.
    std::mem::forget(child);
    let exited = libc::WIFEXITED(status);
    Outcome {
        code: exited.then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        // Linux reports ru_maxrss in kilobytes.
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        wall: start.elapsed(),
        stdout: String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned(),
    }
}

fn resolve(arg: &str, case: &Path) -> String {
    arg.replace("@S", case.to_str().unwrap())
        .replace("@R", repo_root().to_str().unwrap())
}

/// A fresh case folder holding a regular file `file`, an empty file
/// `empty`, a folder whose name has a space, a small register history
/// (not linearizable) and a small list-append one.
fn fresh_case(dir: &Path) -> PathBuf {
    let case = dir.join("case");
    let _ = std::fs::remove_dir_all(&case);
    std::fs::create_dir_all(case.join("dir with space")).unwrap();
    std::fs::write(case.join("file"), "not a folder\n").unwrap();
    std::fs::write(case.join("empty"), "").unwrap();
    std::fs::write(
        case.join("register.edn"),
        "{:process 0, :type :invoke, :f :write, :value 1}\n\
         {:process 0, :type :ok, :f :write, :value 1}\n\
         {:process 1, :type :invoke, :f :read, :value nil}\n\
         {:process 1, :type :ok, :f :read, :value 2}\n",
    )
    .unwrap();
    std::fs::write(
        case.join("append.edn"),
        "{:index 0 :type :invoke :value [[:append 1 1] [:r 1 nil]]}\n\
         {:index 1 :type :ok :value [[:append 1 1] [:r 1 [1]]]}\n",
    )
    .unwrap();
    case
}

/// Every `report.json` under `dir`.
fn reports_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            reports_under(&path, found);
        } else if path.file_name().is_some_and(|n| n == "report.json") {
            found.push(path);
        }
    }
}

/// A replay's report keeps its step budget and operation cap, as in
/// `scenario_fuzz.rs`.
fn check_bounded(report: &Path) -> Result<(), String> {
    let report = read_json(report);
    let scenario = &report["scenario"];
    let ns = |v: &serde_json::Value| -> u128 {
        harness::duration::parse_duration(v.as_str().unwrap())
            .unwrap()
            .as_nanos()
    };
    let sim = &scenario["simulation"];
    let budget = (ns(&sim["duration"]) + ns(&sim["drain"])) / ns(&sim["tick"]).max(1) + 1;
    let steps = u128::from(report["run"]["steps"].as_u64().unwrap());
    if steps > budget {
        return Err(format!("{steps} steps > budget {budget}"));
    }
    let ops = report["history"]["operations"].as_u64().unwrap();
    let cap = scenario["workload"]["max_ops"].as_u64().unwrap();
    if ops > cap + 64 {
        return Err(format!("{ops} operations for max_ops {cap}"));
    }
    Ok(())
}

#[test]
fn generated_command_lines_never_abort_and_stay_bounded() {
    let cases = std::env::var("CLI_FUZZ_CASES").map_or(150, |n| n.parse().unwrap());
    let verbose = std::env::var_os("CLI_FUZZ_VERBOSE").is_some();
    let dir = scratch("cli-fuzz");
    let mut runner = TestRunner::new(Config {
        cases,
        // The CLI runs as its own process: failures are not shrunk.
        max_shrink_iters: 0,
        failure_persistence: None,
        ..Config::default()
    });
    let tally = std::cell::RefCell::new([0u32; 3]);
    let replays = std::cell::Cell::new(0u32);
    let peak = std::cell::Cell::new(0u64);
    runner
        .run(&command_line(), |raw| {
            let case = fresh_case(&dir);
            let args: Vec<String> = raw.iter().map(|a| resolve(a, &case)).collect();
            let out = run_measured(&args, &case);
            let shown = format!("chaos {raw:?}");
            if verbose {
                eprintln!(
                    "{:?} {:.2}s {} MB: {shown}",
                    out.code,
                    out.wall.as_secs_f64(),
                    out.max_rss_bytes >> 20
                );
            }
            prop_assert!(
                out.signal.is_none(),
                "{shown} died of signal {:?} after {:?}\n{}",
                out.signal,
                out.wall,
                out.stderr
            );
            let code = out.code.unwrap();
            prop_assert!(
                (0..=2).contains(&code),
                "{shown} exited {code}\n{}",
                out.stderr
            );
            prop_assert!(
                !out.stderr.contains("panicked") && !out.stdout.contains("panicked"),
                "{shown} panicked\n{}",
                out.stderr
            );
            prop_assert!(
                out.max_rss_bytes <= MEMORY_LIMIT_BYTES,
                "{shown} reached {} MB",
                out.max_rss_bytes >> 20
            );
            // A JSON summary is one whole document, whatever the verdict.
            let wants_json = raw.windows(2).any(|w| w[0] == "--format" && w[1] == "json");
            let asks_help = |a: &String| matches!(a.as_str(), "--help" | "-h" | "--version");
            if wants_json && code <= 1 && !raw.iter().any(asks_help) {
                prop_assert!(
                    serde_json::from_str::<serde_json::Value>(&out.stdout).is_ok(),
                    "{shown}: stdout is not one JSON document: {}",
                    out.stdout
                );
            }
            if code == 2 {
                prop_assert!(
                    out.stderr.contains("error"),
                    "{shown} exited 2 without saying why: {}",
                    out.stderr
                );
            }
            if raw[0] == "replay" && code <= 1 {
                let mut found = Vec::new();
                reports_under(&case, &mut found);
                for report in &found {
                    replays.set(replays.get() + 1);
                    check_bounded(report).map_err(|e| {
                        TestCaseError::fail(format!("{shown}: {}: {e}", report.display()))
                    })?;
                }
            }
            tally.borrow_mut()[code as usize] += 1;
            peak.set(peak.get().max(out.max_rss_bytes));
            Ok(())
        })
        .unwrap();
    let [pass, fail, usage] = *tally.borrow();
    eprintln!(
        "{cases} generated command lines: exit 0 {pass}, exit 1 {fail}, exit 2 {usage}; \
         {} replay reports within budget; peak RSS {} MB",
        replays.get(),
        peak.get() >> 20
    );
}
