//! `chaos` with the bundled targets, built inside the test crate so the
//! end-to-end tests can spawn it as a real process.

fn main() -> std::process::ExitCode {
    harness::cli::main(target_sims::registry())
}
