//! `chaos` with the bundled targets, built inside the test crate so the
//! end-to-end tests can spawn it as a real process.
//!
//! `CHAOS_E2E_WITHOUT_BUNDLED=1` drops the bundled scenario folder, so a
//! test can see what a user's own binary does where no scenarios are.
//! `CHAOS_E2E_OWN_NAME=1` lets its files name it by its own file name, as
//! a user's binary does.

fn main() -> std::process::ExitCode {
    let mut registry = target_sims::registry();
    if std::env::var_os("CHAOS_E2E_WITHOUT_BUNDLED").is_some() {
        registry = registry.without_bundled_scenarios();
    }
    // It stands in for `chaos`: its replay commands in files say so, as
    // the real binary's do, rather than naming this test-only one. (The
    // first name set wins; `cli::main` would otherwise set its own.)
    if std::env::var_os("CHAOS_E2E_OWN_NAME").is_none() {
        harness::report::set_replay_program("chaos");
    }
    harness::cli::main(registry)
}
