//! Every time a scenario states stays under one cap, so that no sum of
//! them (a fault's start plus its duration, the last heal plus a grace)
//! can overflow, and no view has to draw centuries.

use crate::duration::format_duration;
use crate::scenario::{FaultEventSpec, Scenario, ScenarioError};
use std::time::Duration;

/// The longest time any key of a scenario may give: a simulated year. A
/// run that long already needs a tick of seconds (see `MAX_STEPS`); a
/// fault meant to last to the end of the run leaves out `duration`.
pub const MAX_SIMULATED_TIME: Duration = Duration::from_secs(365 * 24 * 3600);

fn check(key: &str, value: Duration, hint: &str) -> Result<(), ScenarioError> {
    if value <= MAX_SIMULATED_TIME {
        return Ok(());
    }
    Err(ScenarioError::at_key(
        key,
        format!(
            "{} is longer than the cap of {} on any time in a scenario (MAX_SIMULATED_TIME){hint}",
            format_duration(value),
            format_duration(MAX_SIMULATED_TIME)
        ),
    ))
}

pub(super) fn validate_times(scenario: &Scenario) -> Result<(), ScenarioError> {
    let sim = &scenario.simulation;
    check("simulation.duration", sim.duration, "")?;
    check("simulation.drain", sim.drain, "")?;
    check(
        "simulation.drain",
        sim.duration + sim.drain,
        " (duration + drain)",
    )?;
    check("network.latency", scenario.network.latency, "")?;
    check("network.jitter", scenario.network.jitter, "")?;
    check("workload.timeout", scenario.workload.timeout, "")?;
    for (i, event) in scenario.faults.events.iter().enumerate() {
        let key = |field: &str| format!("faults.events[{i}].{field}");
        if let Some(duration) = event.duration() {
            check(
                &key("duration"),
                duration,
                ": leave `duration` out for a fault that lasts to the end of the run",
            )?;
        }
        if let FaultEventSpec::Latency {
            latency, jitter, ..
        } = event
        {
            check(&key("latency"), *latency, "")?;
            check(&key("jitter"), *jitter, "")?;
        }
    }
    if let Some(random) = &scenario.faults.random {
        let key = |field: &str| format!("faults.random.{field}");
        check(&key("start"), random.start, "")?;
        check(&key("interval"), random.interval.high, "")?;
        check(&key("duration"), random.duration.high, "")?;
        check(&key("recovery"), random.recovery, "")?;
        check(&key("latency"), random.latency.high, "")?;
    }
    if let Some(a) = &scenario.invariants.availability {
        let key = |field: &str| format!("invariants.availability.{field}");
        check(&key("heal_grace"), a.heal_grace, "")?;
        check(&key("recovery_window"), a.recovery_window, "")?;
        if let Some(t) = a.max_recovery_time {
            check(&key("max_recovery_time"), t, "")?;
        }
        if let Some(t) = a.max_p99_latency {
            check(&key("max_p99_latency"), t, "")?;
        }
    }
    if let Some(j) = &scenario.invariants.jobs {
        check(
            "invariants.jobs.max_processing_delay",
            j.max_processing_delay,
            "",
        )?;
    }
    Ok(())
}
