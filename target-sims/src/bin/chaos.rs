//! The `chaos` command for the bundled targets.

fn main() -> std::process::ExitCode {
    harness::cli::main(target_sims::registry())
}
