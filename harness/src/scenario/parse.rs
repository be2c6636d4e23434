//! Reading scenario files, with errors that point at the line.
//!
//! Three layers can reject a file: TOML syntax, the shape of the data
//! (unknown keys, wrong types, bad durations) and meaning (unknown target or
//! host, a ratio above 1). Each reports a key path such as
//! `faults.events[2].sides[0][1]`; this module maps that path back to a
//! line and column of the file through an index built from the TOML parser's
//! spans, so every error reads `file:line:col: key: what was expected`.

use super::{diagnose, Scenario};
use crate::target::Registry;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Re-exported so `scenario::parse::ScenarioError`, its old path, keeps
/// working.
pub use super::error::ScenarioError;
/// Re-exported from [`crate::target`], whose settings errors name keys the
/// same way.
pub use crate::target::path_to_string;

/// Reads, parses and validates a scenario file against the registry.
pub fn load_file(path: &Path, registry: &Registry) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|err| ScenarioError {
        file: Some(path.to_path_buf()),
        line: None,
        column: None,
        key: String::new(),
        message: format!("cannot read the file: {err}"),
    })?;
    parse_str(&text, Some(path), registry)
}

/// Parses and validates scenario text. `file` only labels errors.
pub fn parse_str(
    text: &str,
    file: Option<&Path>,
    registry: &Registry,
) -> Result<Scenario, ScenarioError> {
    let located = |key: String, span: Option<std::ops::Range<usize>>, message: String| {
        let (line, column) = match span {
            Some(span) => {
                let (l, c) = line_col(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ScenarioError {
            file: file.map(Path::to_path_buf),
            line,
            column,
            key,
            message,
        }
    };

    let table = DeTable::parse(text).map_err(|err| {
        let message = err.message().trim();
        let key = match err.span() {
            Some(span) if message == "duplicate key" => {
                diagnose::duplicate_key(text, span).unwrap_or_default()
            }
            _ => String::new(),
        };
        let message = if key.is_empty() {
            format!("invalid TOML: {message}")
        } else {
            "invalid TOML: duplicate key: it is already set above (a key may be given once)"
                .to_string()
        };
        located(key, err.span(), message)
    })?;
    let index = SpanIndex::build(&table);

    let deserializer = toml::de::Deserializer::from(table);
    let scenario: Scenario = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let mut key = path_to_string(err.path());
        let inner = err.into_inner();
        let message = tidy_serde_message(inner.message());
        if let Some(field) =
            event_entry(text, &key).and_then(|entry| diagnose::culprit_in_event(&entry, &message))
        {
            key = format!("{key}.{field}");
        }
        let span = index.lookup(&key).or(inner.span());
        located(key, span, message)
    })?;
    if let Some(key) = toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|file| diagnose::array_for_table(&file, &scenario))
    {
        return Err(located(
            key.clone(),
            index.lookup(&key),
            format!("expected a table (`[{key}]` or `{{ key = value, ... }}`), found an array"),
        ));
    }

    super::validate(&scenario, registry).map_err(|err| {
        let span = index.lookup(&err.key);
        located(err.key, span, err.message)
    })?;
    Ok(scenario)
}

/// The `[[faults.events]]` entry `key` names, when the key is exactly one
/// (`faults.events[3]`): serde's path stops there for anything inside it.
fn event_entry(text: &str, key: &str) -> Option<toml::Table> {
    let index: usize = key
        .strip_prefix("faults.events[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    let file: toml::Table = toml::from_str(text).ok()?;
    file.get("faults")?
        .get("events")?
        .get(index)?
        .as_table()
        .cloned()
}

/// serde's messages quote with backticks and list alternatives; keep them,
/// but drop trailing whitespace and TOML's own position suffixes.
fn tidy_serde_message(message: &str) -> String {
    message.trim().to_string()
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, column)
}

/// Key path → byte span of the key (or of the array element) in the file.
struct SpanIndex {
    spans: Vec<(String, std::ops::Range<usize>)>,
}

impl SpanIndex {
    fn build(table: &Spanned<DeTable<'_>>) -> SpanIndex {
        let mut index = SpanIndex { spans: Vec::new() };
        index.walk_table(String::new(), table.get_ref());
        index
    }

    fn walk_table(&mut self, prefix: String, table: &DeTable<'_>) {
        for (key, value) in table.iter() {
            let path = if prefix.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{prefix}.{}", key.get_ref())
            };
            self.spans.push((path.clone(), key.span()));
            self.walk_value(path, value);
        }
    }

    fn walk_value(&mut self, path: String, value: &Spanned<DeValue<'_>>) {
        match value.get_ref() {
            DeValue::Table(table) => self.walk_table(path, table),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{path}[{i}]");
                    self.spans.push((item_path.clone(), item.span()));
                    self.walk_value(item_path, item);
                }
            }
            _ => {}
        }
    }

    /// The span of `key`, or of its closest ancestor that is in the file
    /// (a missing key is reported at the table that lacks it).
    fn lookup(&self, key: &str) -> Option<std::ops::Range<usize>> {
        let mut key = key;
        loop {
            if let Some((_, span)) = self.spans.iter().find(|(k, _)| k == key) {
                return Some(span.clone());
            }
            let cut = key.rfind(['.', '['])?;
            key = &key[..cut];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 8), (2, 3));
    }
}
