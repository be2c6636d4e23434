//! What a check found, and the assertions a test makes on it.

use crate::check::Status;
use crate::report::replay_args;
use crate::suite::SeedResult;
use std::fmt;
use std::path::PathBuf;

/// Failing seeds described in full in a panic message; the rest are listed
/// by number only, so one bad sweep does not flood the test output.
pub const MAX_FAILURES_SHOWN: usize = 3;

/// Every seed of one check, sorted by seed.
#[derive(Clone, Debug)]
pub struct CheckSummary {
    /// The scenario's `name`.
    pub scenario: String,
    /// The results, one per seed, sorted by seed.
    pub results: Vec<SeedResult>,
    /// The scenario as given to [`check`](fn@crate::check), for replay commands.
    scenario_arg: String,
    overrides: Vec<String>,
    program: String,
    dir: PathBuf,
}

impl CheckSummary {
    pub(super) fn new(
        scenario: String,
        scenario_arg: String,
        overrides: Vec<String>,
        mut results: Vec<SeedResult>,
        program: String,
        dir: PathBuf,
    ) -> CheckSummary {
        results.sort_by_key(|r| r.seed);
        CheckSummary {
            scenario,
            results,
            scenario_arg,
            overrides,
            program,
            dir,
        }
    }

    /// Every seed passed every invariant (and at least one seed ran).
    pub fn passed(&self) -> bool {
        !self.results.is_empty() && self.results.iter().all(|r| r.status == Status::Pass)
    }

    /// The seeds that did not pass: failed or unknown.
    pub fn failures(&self) -> Vec<&SeedResult> {
        self.results
            .iter()
            .filter(|r| r.status != Status::Pass)
            .collect()
    }

    /// The first seed on which `invariant` failed.
    pub fn first_failure_of(&self, invariant: &str) -> Option<&SeedResult> {
        self.results
            .iter()
            .find(|r| r.failed.iter().any(|name| name == invariant))
    }

    /// The shell command that replays `seed` with its timeline.
    pub fn replay_command(&self, seed: u64) -> String {
        format!(
            "{} {} --trace",
            self.program,
            replay_args(&self.scenario_arg, seed, &self.overrides)
        )
    }

    /// Panics unless every seed passed, naming the first failing seeds,
    /// what failed and how to replay them.
    #[track_caller]
    pub fn assert_passed(&self) -> &CheckSummary {
        if self.results.is_empty() {
            panic!("chaos check of {}: no seeds were run", self.scenario);
        }
        if !self.passed() {
            panic!(
                "chaos check of {}: {} of {} seeds did not pass\n{}",
                self.scenario,
                self.failures().len(),
                self.results.len(),
                self.describe(self.failures())
            );
        }
        self
    }

    /// Panics unless some seed failed `invariant` (`linearizable`,
    /// `durability`, `availability`, …); returns the first such seed, so a
    /// test can look further (its `problems`, its `replay`).
    #[track_caller]
    pub fn assert_fails_with(&self, invariant: &str) -> &SeedResult {
        if let Some(first) = self.first_failure_of(invariant) {
            return first;
        }
        let failures = self.failures();
        if failures.is_empty() {
            panic!(
                "chaos check of {}: expected some seed to fail `{invariant}`, but all {} seeds passed",
                self.scenario,
                self.results.len()
            );
        }
        panic!(
            "chaos check of {}: expected some seed to fail `{invariant}`; {} of {} seeds did not pass, \
             but on other invariants\n{}",
            self.scenario,
            failures.len(),
            self.results.len(),
            self.describe(failures)
        );
    }

    fn describe(&self, failures: Vec<&SeedResult>) -> String {
        let mut out = String::new();
        for r in failures.iter().take(MAX_FAILURES_SHOWN) {
            out.push_str(&format!("seed {} ({}):\n", r.seed, r.status.as_str()));
            for problem in &r.problems {
                out.push_str(&format!("  {problem}\n"));
            }
            out.push_str(&format!("  replay: {}\n", self.replay_command(r.seed)));
        }
        if failures.len() > MAX_FAILURES_SHOWN {
            let rest: Vec<String> = failures[MAX_FAILURES_SHOWN..]
                .iter()
                .map(|r| r.seed.to_string())
                .collect();
            out.push_str(&format!("also seeds {}\n", rest.join(", ")));
        }
        out.push_str(&format!(
            "(replay commands run from {})",
            self.dir.display()
        ));
        out
    }
}

impl fmt::Display for CheckSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failures = self.failures();
        write!(
            f,
            "{}: {} seeds, {} passed",
            self.scenario,
            self.results.len(),
            self.results.len() - failures.len()
        )?;
        if !failures.is_empty() {
            write!(f, "\n{}", self.describe(failures))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(seed: u64, status: Status, problems: &[&str]) -> SeedResult {
        SeedResult {
            scenario: "s".into(),
            seed,
            status,
            problems: problems.iter().map(|p| p.to_string()).collect(),
            failed: match status {
                Status::Fail => problems
                    .iter()
                    .filter_map(|p| p.split_once(": ").map(|(name, _)| name.to_string()))
                    .collect(),
                _ => Vec::new(),
            },
            trace_hash: String::new(),
            replay: String::new(),
            fault_kinds: Vec::new(),
            reached: Vec::new(),
            assertions: Vec::new(),
            recovery: None,
        }
    }

    fn summary(results: Vec<SeedResult>) -> CheckSummary {
        CheckSummary::new(
            "s".into(),
            "scenarios/s.toml".into(),
            vec!["target.bug=x".into()],
            results,
            "cargo run --release --".into(),
            PathBuf::from("/crate"),
        )
    }

    fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let payload = std::panic::catch_unwind(f).unwrap_err();
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn a_failed_check_names_the_seed_the_invariant_and_the_replay_command() {
        let s = summary(vec![
            result(0, Status::Pass, &[]),
            result(
                1,
                Status::Fail,
                &["linearizable: could not be linearized at op 7"],
            ),
        ]);
        assert!(!s.passed());
        let message = panic_message(|| {
            s.assert_passed();
        });
        assert!(message.contains("1 of 2 seeds did not pass"), "{message}");
        assert!(message.contains("seed 1 (fail)"), "{message}");
        assert!(
            message.contains("linearizable: could not be linearized at op 7"),
            "{message}"
        );
        assert!(
            message.contains(
                "replay: cargo run --release -- replay scenarios/s.toml --seed 1 --set target.bug=x --trace"
            ),
            "{message}"
        );
        assert!(message.contains("run from /crate"), "{message}");
        assert_eq!(s.assert_fails_with("linearizable").seed, 1);
    }

    #[test]
    fn expecting_a_failure_that_did_not_happen_says_what_did() {
        let passing = summary(vec![result(0, Status::Pass, &[])]);
        let message = panic_message(|| {
            passing.assert_fails_with("linearizable");
        });
        assert!(message.contains("but all 1 seeds passed"), "{message}");
        let other = summary(vec![result(
            4,
            Status::Fail,
            &["availability: ok ratio 0.2 after the heal"],
        )]);
        let message = panic_message(|| {
            other.assert_fails_with("linearizable");
        });
        assert!(message.contains("but on other invariants"), "{message}");
        assert!(message.contains("seed 4 (fail)"), "{message}");
        assert!(message.contains("availability: ok ratio"), "{message}");
    }

    #[test]
    fn unknown_is_not_a_pass_and_not_a_failure_of_the_invariant() {
        let s = summary(vec![result(
            2,
            Status::Unknown,
            &["linearizable: search budget exhausted"],
        )]);
        assert!(!s.passed());
        assert!(s.first_failure_of("linearizable").is_none());
        // A seed failed by one invariant while another was unknown.
        let mut mixed = result(
            3,
            Status::Fail,
            &["availability: down", "linearizable: budget exhausted"],
        );
        mixed.failed = vec!["availability".into()];
        let s = summary(vec![mixed]);
        assert!(s.first_failure_of("linearizable").is_none());
        assert_eq!(s.first_failure_of("availability").map(|r| r.seed), Some(3));
        assert!(!summary(Vec::new()).passed(), "no seeds is not a pass");
    }

    #[test]
    fn long_failure_lists_are_cut_to_seed_numbers() {
        let s = summary(
            (0..6)
                .map(|seed| result(seed, Status::Fail, &["durability: lost"]))
                .collect(),
        );
        let message = format!("{s}");
        assert_eq!(message.matches("replay:").count(), MAX_FAILURES_SHOWN);
        assert!(message.contains("also seeds 3, 4, 5"), "{message}");
    }
}
