//! `chaos` with the bundled targets, built inside the test crate so the
//! end-to-end tests can spawn it as a real process.
//!
//! `CHAOS_E2E_WITHOUT_BUNDLED=1` drops the bundled scenario folder, so a
//! test can see what a user's own binary does where no scenarios are.

fn main() -> std::process::ExitCode {
    let mut registry = target_sims::registry();
    if std::env::var_os("CHAOS_E2E_WITHOUT_BUNDLED").is_some() {
        registry = registry.without_bundled_scenarios();
    }
    harness::cli::main(registry)
}
