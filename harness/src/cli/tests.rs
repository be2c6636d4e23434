//! The command line's own declarations: every flag and argument of every
//! command says what it is for in `--help`.

use super::args::Cli;
use clap::CommandFactory;

#[test]
fn every_flag_and_argument_is_described_in_help() {
    let cli = Cli::command();
    let mut undocumented = Vec::new();
    let mut seen = 0;
    for command in cli.get_subcommands() {
        assert!(
            command.get_about().is_some(),
            "{} has no description",
            command.get_name()
        );
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            seen += 1;
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                undocumented.push(format!("{} {id}", command.get_name()));
            }
        }
    }
    assert!(seen > 40, "only {seen} arguments found");
    assert!(
        undocumented.is_empty(),
        "undescribed in --help: {undocumented:?}"
    );
}

#[test]
fn jobs_must_be_between_one_and_the_cap() {
    use super::args::{parse_jobs, MAX_JOBS};
    assert_eq!(parse_jobs("4"), Ok(4));
    assert_eq!(parse_jobs(&MAX_JOBS.to_string()), Ok(MAX_JOBS));
    assert!(parse_jobs("0").unwrap_err().contains("at least 1"));
    assert!(parse_jobs("1025").unwrap_err().contains("1024"));
    assert!(parse_jobs("x")
        .unwrap_err()
        .contains("number of worker threads"));
}
