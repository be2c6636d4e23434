//! A run's history, exported beside its report so that other tools (and
//! `chaos check-history`) can check it again.
//!
//! Two files, both one event per line in recorded order, values, process
//! ids and simulated times exactly as the run recorded them:
//!
//! - `history.edn`: Jepsen's EDN maps, the format `check-history` reads
//!   (see [`crate::history::jepsen`]);
//! - `history.jsonl`: the same events as JSON objects, the serde form of
//!   [`Event`](crate::history::Event), for tools that do not read EDN.
//!
//! A history the run truncated (its event limit was reached) cannot prove
//! safety; the EDN file then starts with a `;` comment saying how many
//! events were dropped, which EDN readers skip, so the reader is told
//! without the events changing.

use super::write_atomic_with;
use crate::history::jepsen::write_edn_event;
use crate::history::History;
use std::io;
use std::path::Path;

/// The EDN history file's name in a run folder.
pub const HISTORY_EDN: &str = "history.edn";
/// The JSON-lines history file's name in a run folder.
pub const HISTORY_JSONL: &str = "history.jsonl";

/// Which seeds of `chaos run` get their history written beside the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryExport {
    /// Seeds that did not pass (failed or unknown): the ones someone will
    /// want to check again.
    #[default]
    Failing,
    /// Every seed (a passing history is evidence too, and costs disk).
    All,
    /// No seed.
    None,
}

impl HistoryExport {
    /// Whether a seed that ended with `passed` gets its history written.
    pub fn writes(self, passed: bool) -> bool {
        match self {
            HistoryExport::Failing => !passed,
            HistoryExport::All => true,
            HistoryExport::None => false,
        }
    }
}

/// Writes `history.edn` and `history.jsonl` into `dir`, each atomically.
pub fn write_history(dir: &Path, history: &History) -> io::Result<()> {
    write_atomic_with(&dir.join(HISTORY_EDN), |out| {
        if history.dropped_events > 0 {
            writeln!(
                out,
                "; truncated: the run dropped {} events after its history limit; \
                 a check of this file cannot prove safety",
                history.dropped_events
            )?;
        }
        for event in &history.events {
            out.write_all(write_edn_event(event).as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    write_atomic_with(&dir.join(HISTORY_JSONL), |out| {
        for event in &history.events {
            serde_json::to_writer(&mut *out, event)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::jepsen::parse_edn;
    use crate::history::{Event, EventType, Op, OpKind, Value};

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("history-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn sample() -> History {
        let mut h = History::new();
        let op = |f, value| Op {
            f,
            key: Some("k\"1".into()),
            value,
        };
        for (time_ns, process, kind, f, value, error) in [
            (5, 3, EventType::Invoke, OpKind::Write, Value::Int(-7), None),
            (9, 3, EventType::Ok, OpKind::Write, Value::Int(-7), None),
            (
                10,
                1 << 40,
                EventType::Invoke,
                OpKind::Read,
                Value::Nil,
                None,
            ),
            (
                12,
                1 << 40,
                EventType::Info,
                OpKind::Read,
                Value::Nil,
                Some("timeout".to_string()),
            ),
        ] {
            h.push(Event {
                time_ns,
                process,
                kind,
                op: op(f, value),
                attempts: 2,
                degraded: false,
                error,
            });
        }
        h
    }

    #[test]
    fn both_files_read_back_as_the_recorded_history() {
        let dir = scratch("roundtrip");
        let history = sample();
        write_history(&dir, &history).unwrap();
        let edn = std::fs::read_to_string(dir.join(HISTORY_EDN)).unwrap();
        assert_eq!(parse_edn(&edn).unwrap(), history);
        let jsonl = std::fs::read_to_string(dir.join(HISTORY_JSONL)).unwrap();
        let events: Vec<Event> = jsonl
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(events, history.events);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_truncated_history_says_so_in_a_comment_the_reader_skips() {
        let dir = scratch("truncated");
        let mut history = sample();
        history.dropped_events = 4;
        write_history(&dir, &history).unwrap();
        let edn = std::fs::read_to_string(dir.join(HISTORY_EDN)).unwrap();
        assert!(edn.starts_with("; truncated: the run dropped 4 events"));
        assert_eq!(parse_edn(&edn).unwrap().events, history.events);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_write_failure_is_an_error() {
        let dir = scratch("unwritable");
        // A file where the folder should be.
        std::fs::write(&dir, b"not a folder").unwrap();
        assert!(write_history(&dir, &sample()).is_err());
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn the_default_exports_only_seeds_that_did_not_pass() {
        assert!(HistoryExport::default().writes(false));
        assert!(!HistoryExport::default().writes(true));
        assert!(HistoryExport::All.writes(true));
        assert!(!HistoryExport::None.writes(false));
    }
}
