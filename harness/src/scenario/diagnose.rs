//! Second looks at a rejected or suspicious scenario file, for what serde's
//! first answer leaves vague.
//!
//! - serde cannot follow a key path into an internally tagged enum, so an
//!   error inside one `[[faults.events]]` entry comes back naming only
//!   `faults.events[N]`. [`culprit_in_event`] finds the key by trying the
//!   entry again without each key in turn.
//! - TOML's "duplicate key" names no key: [`duplicate_key`] reads it from
//!   the error's span and the table header above it.
//! - serde's derived structs also accept a sequence, field by field
//!   (`workload = [7, 1, 3.5]` reads as clients 7, client_hosts 1, rate
//!   3.5). [`array_for_table`] compares the file with the scenario it
//!   produced and finds any array that was read as a table.

use super::faults::FaultEventSpec;
use super::Scenario;

/// The key of the `[[faults.events]]` entry `entry` whose value `message`
/// is about, if it can be told.
///
/// An unknown key names itself. For a bad value, the entry is
/// deserialised again without each key: the key whose removal changes
/// the error is the one whose value was rejected. serde visits a table's
/// keys before it checks for missing ones, so removing a good key leaves
/// the same error, while removing the bad one leaves "missing field", the
/// next bad value's error, or none.
pub(super) fn culprit_in_event(entry: &toml::Table, message: &str) -> Option<String> {
    if let Some(unknown) = backticked_after(message, "unknown field `") {
        return entry.contains_key(&unknown).then_some(unknown);
    }
    if message.starts_with("missing field") {
        // Rightly about the entry as a whole.
        return None;
    }
    let error_without = |key: Option<&str>| {
        let mut without = entry.clone();
        if let Some(key) = key {
            without.remove(key);
        }
        toml::Value::Table(without)
            .try_into::<FaultEventSpec>()
            .err()
            .map(|err| err.message().trim().to_string())
    };
    let original = error_without(None)?;
    // Without the culprit the error changes (to "missing field", to the
    // next bad value, or to none); without any other key it stays, since
    // the culprit's value is still visited before missing keys are checked.
    entry
        .keys()
        .filter(|key| key.as_str() != "kind")
        .find(|key| error_without(Some(key)).as_deref() != Some(original.as_str()))
        .cloned()
}

/// The text between `prefix` and the next backtick.
fn backticked_after(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

/// The dotted path of the key a "duplicate key" error's `span` covers: the
/// key's text, under the nearest `[table]` header above it.
pub(super) fn duplicate_key(text: &str, span: std::ops::Range<usize>) -> Option<String> {
    let key = text.get(span.clone())?.trim();
    if key.is_empty() {
        return None;
    }
    let before = &text[..span.start];
    let header = before.lines().rev().find_map(|line| {
        let line = line.trim();
        let inner = line.strip_prefix('[')?;
        let inner = inner.strip_prefix('[').unwrap_or(inner);
        let end = inner.find(']')?;
        Some(inner[..end].trim().to_string())
    });
    // A duplicated [table] header covers the header's own key.
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    if text[line_start..].trim_start().starts_with('[') {
        return Some(key.to_string());
    }
    Some(match header {
        Some(table) if !table.is_empty() => format!("{table}.{key}"),
        _ => key.to_string(),
    })
}

/// The first key path where the file has an array but the scenario read
/// from it has a table: an array that serde took field by field.
pub(super) fn array_for_table(file: &toml::Table, scenario: &Scenario) -> Option<String> {
    let read = serde_json::to_value(scenario).ok()?;
    let file = serde_json::to_value(file).ok()?;
    first_array_for_object(&file, &read, String::new())
}

/// Walks `given` (what the user wrote) beside `read` (what it became).
pub(super) fn first_array_for_object(
    given: &serde_json::Value,
    read: &serde_json::Value,
    path: String,
) -> Option<String> {
    use serde_json::Value;
    match (given, read) {
        (Value::Array(_), Value::Object(_)) => Some(path),
        (Value::Object(given), Value::Object(read)) => given.iter().find_map(|(key, value)| {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            // `[target]` settings are flattened into the target table.
            let read_value = read
                .get(key)
                .or_else(|| read.get("settings").and_then(|s| s.get(key)))?;
            first_array_for_object(value, read_value, child)
        }),
        (Value::Array(given), Value::Array(read)) => given
            .iter()
            .zip(read)
            .enumerate()
            .find_map(|(i, (g, r))| first_array_for_object(g, r, format!("{path}[{i}]"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    fn error_of(entry: &toml::Table) -> String {
        toml::Value::Table(entry.clone())
            .try_into::<FaultEventSpec>()
            .unwrap_err()
            .message()
            .to_string()
    }

    #[test]
    fn a_bad_value_in_an_event_is_found_by_its_key() {
        let e =
            entry("kind = \"partition-oneway\"\nat = \"1s\"\nfrom = \"r1\"\nto = [\"server\"]\n");
        assert_eq!(culprit_in_event(&e, &error_of(&e)), Some("from".into()));
        let e = entry("kind = \"crash\"\nhost = \"n1\"\nat = \"soon\"\n");
        assert_eq!(culprit_in_event(&e, &error_of(&e)), Some("at".into()));
        // Two bad values: the one serde reported is named.
        let e = entry("kind = \"crash\"\nhost = \"n1\"\nat = \"-1s\"\nduration = \"soon\"\n");
        let culprit = if error_of(&e).contains("-1s") {
            "at"
        } else {
            "duration"
        };
        assert_eq!(culprit_in_event(&e, &error_of(&e)), Some(culprit.into()));
    }

    #[test]
    fn an_unknown_key_names_itself_and_a_missing_one_stays_with_the_entry() {
        let e = entry("kind = \"crash\"\nat = \"1s\"\nhots = \"n1\"\n");
        assert_eq!(culprit_in_event(&e, &error_of(&e)), Some("hots".into()));
        let e = entry("kind = \"crash\"\nat = \"1s\"\n");
        assert_eq!(culprit_in_event(&e, &error_of(&e)), None);
    }

    #[test]
    fn a_duplicate_key_is_named_with_its_table() {
        let text = "name = \"x\"\n[workload]\nclients = 3\nclients = 4\n";
        let start = text.rfind("clients").unwrap();
        assert_eq!(
            duplicate_key(text, start..start + 7),
            Some("workload.clients".into())
        );
        let text = "name = \"x\"\nname = \"y\"\n";
        assert_eq!(duplicate_key(text, 11..15), Some("name".into()));
    }
}
