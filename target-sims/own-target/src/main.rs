fn main() -> std::process::ExitCode {
    harness::cli::main(own_target::registry())
}
