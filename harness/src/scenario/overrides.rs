//! `--set key=value`: changing one setting of a scenario from the command
//! line, e.g. `--set target.retry_unsafe=true` or
//! `--set workload.clients=16`, so a bundled scenario can be rerun with a
//! planted bug switched on or a knob turned, and the replay command says so.

use super::error::ScenarioError;
use super::Scenario;

/// Applies `key=value` overrides (value in TOML syntax; a bare word is a
/// string) to a scenario. Errors name the override.
pub fn apply_overrides(
    scenario: &Scenario,
    overrides: &[String],
) -> Result<Scenario, ScenarioError> {
    if overrides.is_empty() {
        return Ok(scenario.clone());
    }
    let mut json = serde_json::to_value(scenario).expect("scenarios serialise");
    for text in overrides {
        let Some((key, raw)) = text.split_once('=') else {
            return Err(ScenarioError::at_key(
                text.as_str(),
                "expected --set key=value, e.g. --set target.retry_unsafe=true",
            ));
        };
        let key = key.trim();
        let value = parse_value(raw.trim())
            .map_err(|why| ScenarioError::at_key(format!("--set {key}"), why))?;
        let mut node = &mut json;
        let parts: Vec<&str> = key.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let Some(object) = node.as_object_mut() else {
                return Err(ScenarioError::at_key(
                    key,
                    format!("`{}` is not a table", parts[..i].join(".")),
                ));
            };
            if i + 1 == parts.len() {
                object.insert(part.to_string(), value.clone());
                break;
            }
            node = object
                .entry(part.to_string())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
        }
    }
    let given = json.clone();
    let scenario = serde_path_to_error::deserialize::<_, Scenario>(json).map_err(|err| {
        let key = super::path_to_string(err.path());
        ScenarioError::at_key(format!("--set {key}"), err.into_inner().to_string())
    })?;
    let read = serde_json::to_value(&scenario).expect("scenarios serialise");
    if let Some(key) = super::diagnose::first_array_for_object(&given, &read, String::new()) {
        return Err(ScenarioError::at_key(
            format!("--set {key}"),
            "expected a table (e.g. --set workload.clients=8 for one of its keys), found an array",
        ));
    }
    Ok(scenario)
}

/// The value of one override: TOML syntax, or else a bare word read as a
/// string. A number must be finite: JSON, which the overrides go through,
/// has no NaN or infinity (serde_json would quietly make them `null`).
/// Re-labels an error found after `overrides` were applied to the (valid)
/// file `path`: an error on a key a `--set` changed — or inside one it
/// replaced — is that `--set`'s, not the file's; anything else is the
/// file's, with the overrides named.
pub fn blame_overrides(
    mut err: ScenarioError,
    overrides: &[String],
    path: &std::path::Path,
) -> ScenarioError {
    let key = err
        .key
        .strip_prefix("--set ")
        .unwrap_or(&err.key)
        .to_string();
    let covers = |set: &str| {
        key == set || key.starts_with(&format!("{set}.")) || key.starts_with(&format!("{set}["))
    };
    let culprit = overrides
        .iter()
        .rev()
        .find(|text| text.split_once('=').is_some_and(|(k, _)| covers(k.trim())));
    match culprit {
        Some(text) => {
            let set = text
                .split_once('=')
                .map_or(text.as_str(), |(k, _)| k.trim());
            err.key = format!("--set {set}");
            if key != set {
                err.message = format!("`{key}`: {}", err.message);
            }
            err.message = format!("{} (applied to {})", err.message, path.display());
            err.file = None;
            err.line = None;
            err.column = None;
        }
        None if err.key.starts_with("--set ") => {
            err.message = format!("{} (applied to {})", err.message, path.display());
        }
        None => {
            err.file = Some(path.to_path_buf());
            err.message = format!("{} (with --set {})", err.message, overrides.join(" --set "));
        }
    }
    err
}

fn parse_value(raw: &str) -> Result<serde_json::Value, String> {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut table) => {
            let value = table.remove("v").expect("parsed v");
            if has_non_finite_float(&value) {
                return Err(format!(
                    "`{raw}` is not a finite number: expected a number such as 0.5 or 20.0"
                ));
            }
            Ok(serde_json::to_value(value).expect("TOML values are JSON values"))
        }
        Err(_) => Ok(serde_json::Value::String(raw.to_string())),
    }
}

fn has_non_finite_float(value: &toml::Value) -> bool {
    match value {
        toml::Value::Float(f) => !f.is_finite(),
        toml::Value::Array(items) => items.iter().any(has_non_finite_float),
        toml::Value::Table(table) => table.values().any(has_non_finite_float),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ScenarioBuilder;

    #[test]
    fn overrides_reach_nested_keys_and_target_settings() {
        let s = ScenarioBuilder::new("x", "register").build();
        let o = apply_overrides(
            &s,
            &[
                "workload.clients=9".into(),
                "target.retry_unsafe=true".into(),
                "simulation.duration=\"3s\"".into(),
                "target.mode=fast".into(),
            ],
        )
        .unwrap();
        assert_eq!(o.workload.clients, 9);
        assert_eq!(
            o.target.settings["retry_unsafe"],
            toml::Value::Boolean(true)
        );
        assert_eq!(
            o.target.settings["mode"],
            toml::Value::String("fast".into())
        );
        assert_eq!(o.simulation.duration, std::time::Duration::from_secs(3));
    }

    #[test]
    fn a_bad_override_names_its_key() {
        let s = ScenarioBuilder::new("x", "register").build();
        let err = apply_overrides(&s, &["workload.clients=lots".into()]).unwrap_err();
        assert_eq!(err.key, "--set workload.clients");
        let err = apply_overrides(&s, &["workload.typo=1".into()]).unwrap_err();
        assert!(
            err.message.contains("unknown field `typo`"),
            "{}",
            err.message
        );
        assert!(apply_overrides(&s, &["noequals".into()]).is_err());
    }

    #[test]
    fn a_non_finite_number_is_refused_by_name() {
        let s = ScenarioBuilder::new("x", "register").build();
        for raw in ["nan", "inf", "-inf", "[1.0, nan]"] {
            let err = apply_overrides(&s, &[format!("workload.rate={raw}")]).unwrap_err();
            assert_eq!(err.key, "--set workload.rate");
            assert!(
                err.message.contains("not a finite number"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn an_array_for_a_table_is_refused() {
        let s = ScenarioBuilder::new("x", "register").build();
        let err = apply_overrides(&s, &["workload=[7, 1, 3.5]".into()]).unwrap_err();
        assert_eq!(err.key, "--set workload");
        assert!(err.message.contains("expected a table"), "{}", err.message);
    }
}
