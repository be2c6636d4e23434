//! `check-history` for transactional histories (list-append, rw-register):
//! the flags that only those models take, and the printed verdict.

use super::{EXIT_FAIL, EXIT_PASS};
use crate::check::Status;
use std::path::PathBuf;

/// `check-history` options for list-append and rw-register histories.
#[derive(Debug, clap::Args)]
pub(super) struct TxnCheckArgs {
    /// For list-append and rw-register: the consistency model to check
    /// (strict-serializable, the default; serializable, snapshot-isolation,
    /// repeatable-read, read-committed).
    #[arg(long)]
    consistency: Option<String>,
    /// For list-append and rw-register: most transactions checked.
    #[arg(long)]
    max_txns: Option<u64>,
    /// For list-append and rw-register: most inferred dependency edges.
    #[arg(long)]
    max_edges: Option<u64>,
    /// For list-append and rw-register: most steps spent finding example cycles.
    #[arg(long)]
    max_search_steps: Option<u64>,
}

impl TxnCheckArgs {
    pub(super) fn is_set(&self) -> bool {
        self.consistency.is_some()
            || self.max_txns.is_some()
            || self.max_edges.is_some()
            || self.max_search_steps.is_some()
    }
}

pub(super) fn check_txn_history(
    model: crate::check::transactional::TxnModel,
    args: &TxnCheckArgs,
    max_input_bytes: u64,
    files: &[PathBuf],
    json: bool,
) -> Result<u8, String> {
    use crate::check::transactional::{check, Options, TransactionalSpec};
    let spec = TransactionalSpec {
        model,
        consistency: match &args.consistency {
            Some(level) => level.parse()?,
            None => crate::check::transactional::Consistency::StrictSerializable,
        },
        max_txns: args.max_txns,
        max_edges: args.max_edges,
        max_search_steps: args.max_search_steps,
    };
    let options = Options::from_spec(&spec);
    let level = options.consistency;
    let mut worst = EXIT_PASS;
    let colour = super::output::stdout_colour();
    let mut verdicts = Vec::new();
    for file in files {
        let history = super::tools::read_history(file, max_input_bytes)?;
        let started = std::time::Instant::now();
        let verdict = check(&history, &options);
        let elapsed = started.elapsed();
        let word = match verdict.status {
            Status::Pass => level.as_str().to_string(),
            Status::Fail => format!("not-{level}"),
            Status::Unknown => "unknown".to_string(),
        };
        if verdict.status != Status::Pass {
            worst = EXIT_FAIL;
        }
        if json {
            verdicts.push(super::output::HistoryVerdict::new(
                file, &verdict, word, elapsed,
            ));
            continue;
        }
        println!(
            "{} {} ({:.1} ms): {}",
            file.display(),
            crate::report::text::paint(verdict.status, &word, colour),
            elapsed.as_secs_f64() * 1e3,
            verdict.summary
        );
        if verdict.status == Status::Pass {
            continue;
        }
        if let Some(expected) = &verdict.expected {
            println!("  expected: {expected}");
        }
        // Each anomaly that rules the model out, with its first example.
        let anomalies = verdict.details.get("anomalies").and_then(|a| a.as_array());
        for anomaly in anomalies.into_iter().flatten() {
            let rules_out = anomaly["rules_out"]
                .as_array()
                .is_some_and(|models| models.iter().any(|m| m.as_str() == Some(level.as_str())));
            if !rules_out {
                continue;
            }
            println!(
                "  {}: {}",
                anomaly["type"].as_str().unwrap_or("?"),
                anomaly["meaning"].as_str().unwrap_or("")
            );
            let lines = anomaly["examples"][0]["explanation"].as_array();
            for line in lines.into_iter().flatten() {
                println!("    {}", line.as_str().unwrap_or(""));
            }
        }
        for event in &verdict.evidence {
            println!("  {}", crate::history::jepsen::write_edn_event(event));
        }
    }
    if json {
        let model_name = model.to_string();
        super::output::print_json(&super::output::HistorySummary::new(
            &model_name,
            Some(level.as_str()),
            verdicts,
        ));
    }
    Ok(worst)
}
