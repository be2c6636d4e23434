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
        let value = parse_value(raw.trim());
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
    serde_path_to_error::deserialize::<_, Scenario>(json).map_err(|err| {
        let key = super::path_to_string(err.path());
        ScenarioError::at_key(format!("--set {key}"), err.into_inner().to_string())
    })
}

fn parse_value(raw: &str) -> serde_json::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut table) => serde_json::to_value(table.remove("v").expect("parsed v"))
            .expect("TOML values are JSON values"),
        Err(_) => serde_json::Value::String(raw.to_string()),
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
}
