//! The recovery measures' settings: which detection signals a scenario
//! uses (its own list, or else its target's), and the per-fault bounds
//! `max_time_to_detect` and `max_time_to_recover`, whose kinds must be
//! fault kinds and whose detect bound needs signals to detect with.

use crate::detection::DetectionSignal;
use crate::fault::FAULT_KINDS;
use crate::scenario::{AvailabilitySpec, FaultBound, ScenarioError};
use crate::target::System;

const KEY: &str = "invariants.availability";

/// The signals the scenario's faults are detected by.
pub(super) fn resolve(
    spec: Option<&AvailabilitySpec>,
    system: &dyn System,
) -> Result<Vec<DetectionSignal>, ScenarioError> {
    let Some(spec) = spec else {
        return Ok(system.detection_signals());
    };
    let signals = match &spec.detection_signals {
        Some(own) => {
            let roles = system.roles();
            for (i, signal) in own.iter().enumerate() {
                if let DetectionSignal::Role(name) = signal {
                    if !roles.contains(name) {
                        let known = if roles.is_empty() {
                            "this target reports no roles".to_string()
                        } else {
                            format!("it reports {}", roles.join(", "))
                        };
                        return Err(ScenarioError::at_key(
                            format!("{KEY}.detection_signals[{i}]"),
                            format!("role:{name}: the target never reports role {name} ({known})"),
                        ));
                    }
                }
            }
            own.clone()
        }
        None => system.detection_signals(),
    };
    for (field, bound) in [
        ("max_time_to_detect", &spec.max_time_to_detect),
        ("max_time_to_recover", &spec.max_time_to_recover),
    ] {
        if let Some(bound) = bound {
            check_bound(field, bound)?;
        }
    }
    if spec.max_time_to_detect.is_some() && signals.is_empty() {
        return Err(ScenarioError::at_key(
            format!("{KEY}.max_time_to_detect"),
            "no detection signals to detect a fault with: the target declares none; list them in \
             invariants.availability.detection_signals (event:TEXT, role:NAME or assertion:MESSAGE)",
        ));
    }
    Ok(signals)
}

fn check_bound(field: &str, bound: &FaultBound) -> Result<(), ScenarioError> {
    for (kind, d) in bound.entries() {
        let key = if kind.is_empty() {
            format!("{KEY}.{field}")
        } else {
            format!("{KEY}.{field}.{kind}")
        };
        if !kind.is_empty() && !FAULT_KINDS.contains(&kind.as_str()) {
            return Err(ScenarioError::at_key(
                key,
                format!(
                    "unknown fault kind \"{kind}\": expected one of {}",
                    FAULT_KINDS.join(", ")
                ),
            ));
        }
        if d.is_zero() {
            return Err(ScenarioError::at_key(key, "must be greater than zero"));
        }
        if d > super::MAX_SIMULATED_TIME {
            return Err(ScenarioError::at_key(
                key,
                "is longer than the cap on any time in a scenario (MAX_SIMULATED_TIME)",
            ));
        }
    }
    Ok(())
}
