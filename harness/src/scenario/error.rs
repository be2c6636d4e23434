//! What a scenario that cannot be used reports: the file, line and column,
//! the key path, and what was expected. Parsing and validation both
//! produce it; parsing adds the position.

use std::fmt;
use std::path::PathBuf;

/// A scenario that cannot be used, and where the problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file, when the scenario came from one.
    pub file: Option<PathBuf>,
    /// 1-based line and column, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The key path, e.g. `workload.clients`; empty for the whole file.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}", file.display())?,
            // A command-line override is its own place.
            None if self.key.starts_with("--set ") => {
                return write!(f, "{}: {}", self.key, self.message)
            }
            None => f.write_str("<scenario>")?,
        }
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": key `{}`: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    /// An error with a key path but no position (scenarios built in Rust).
    pub fn at_key(key: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: None,
            line: None,
            column: None,
            key: key.into(),
            message: message.into(),
        }
    }
}
