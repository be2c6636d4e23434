//! The checks of `[[faults.events]]` and `[faults.random]`: every event
//! starts within the workload, names hosts the topology has, and keeps its
//! parameters within their caps; a random plan's ranges are ordered and in
//! bounds.

use super::Topology;
use crate::scenario::{
    FaultEventSpec, RandomFaultKind, Scenario, ScenarioError, MAX_CLOCK_DRIFT_RATE,
    MAX_CLOCK_OFFSET, MAX_DISK_LATENCY, MIN_CLOCK_DRIFT_RATE,
};

pub(super) fn validate_faults(
    scenario: &Scenario,
    topology: &Topology,
) -> Result<(), ScenarioError> {
    let duration = scenario.simulation.duration;
    for (i, event) in scenario.faults.events.iter().enumerate() {
        let key = |field: &str| format!("faults.events[{i}].{field}");
        if event.at() > duration {
            return Err(ScenarioError::at_key(
                key("at"),
                format!(
                    "fault starts at {} but the workload ends at {}",
                    crate::duration::format_duration(event.at()),
                    crate::duration::format_duration(duration)
                ),
            ));
        }
        let check_set = |field: String, set: &[String]| -> Result<(), ScenarioError> {
            if set.is_empty() {
                return Err(ScenarioError::at_key(field, "an empty host set"));
            }
            for (j, name) in set.iter().enumerate() {
                if topology.resolve(name).is_none() {
                    return Err(ScenarioError::at_key(
                        format!("{field}[{j}]"),
                        format!(
                            "unknown host \"{name}\": expected one of {}",
                            topology.names_hint()
                        ),
                    ));
                }
            }
            Ok(())
        };
        let check_server = |field: String, host: &str| -> Result<(), ScenarioError> {
            if topology.is_server(host) || host == "servers" {
                Ok(())
            } else {
                Err(ScenarioError::at_key(
                    field,
                    format!(
                        "unknown server \"{host}\": crash, restart, bounce, pause and resume apply to a server or the group `servers` (client hosts run the workload); expected one of servers, {}",
                        topology.servers.join(", ")
                    ),
                ))
            }
        };
        let resolved = |set: &[String]| topology.resolve_set(set).unwrap_or_default();
        match event {
            FaultEventSpec::Partition { sides, .. } => {
                if sides.len() < 2 {
                    return Err(ScenarioError::at_key(
                        key("sides"),
                        "needs at least two sides",
                    ));
                }
                for (s, side) in sides.iter().enumerate() {
                    check_set(format!("faults.events[{i}].sides[{s}]"), side)?;
                }
                // A host on two sides would be cut off from itself.
                let resolved_sides: Vec<Vec<String>> =
                    sides.iter().map(|side| resolved(side)).collect();
                for (s, side) in resolved_sides.iter().enumerate() {
                    for (earlier, other) in resolved_sides[..s].iter().enumerate() {
                        if let Some(host) = side.iter().find(|h| other.contains(h)) {
                            return Err(ScenarioError::at_key(
                                format!("faults.events[{i}].sides[{s}]"),
                                format!(
                                    "host \"{host}\" is on sides {earlier} and {s}: the sides of a partition must not share hosts"
                                ),
                            ));
                        }
                    }
                }
            }
            FaultEventSpec::Isolate { host, .. } => {
                if topology.resolve(host).is_none() {
                    return Err(ScenarioError::at_key(
                        key("host"),
                        format!(
                            "unknown host \"{host}\": expected one of {}",
                            topology.names_hint()
                        ),
                    ));
                }
            }
            FaultEventSpec::MajorityMinority { .. } | FaultEventSpec::Bridge { .. } => {
                if topology.servers.len() < 3 {
                    return Err(ScenarioError::at_key(
                        key("kind"),
                        format!(
                            "needs at least 3 servers, the target has {}",
                            topology.servers.len()
                        ),
                    ));
                }
            }
            FaultEventSpec::PartitionOneway { from, to, .. } => {
                check_set(key("from"), from)?;
                check_set(key("to"), to)?;
                let (mut from, mut to) = (resolved(from), resolved(to));
                from.sort();
                to.sort();
                if from == to {
                    return Err(ScenarioError::at_key(
                        key("to"),
                        format!(
                            "`to` is the same hosts as `from` ({}): a one-way fault needs a direction; to cut both ways use kind = \"partition\"",
                            from.join(", ")
                        ),
                    ));
                }
            }
            FaultEventSpec::Heal { .. } => {}
            FaultEventSpec::Latency { between, .. } | FaultEventSpec::Loss { between, .. } => {
                if let Some([a, b]) = between {
                    check_set(format!("faults.events[{i}].between[0]"), a)?;
                    check_set(format!("faults.events[{i}].between[1]"), b)?;
                    let (a, b) = (resolved(a), resolved(b));
                    if a.iter().all(|x| b.iter().all(|y| x == y)) {
                        return Err(ScenarioError::at_key(
                            key("between"),
                            format!("selects no link: both sets are only {}", a.join(", ")),
                        ));
                    }
                }
                if let FaultEventSpec::Loss { rate, .. } = event {
                    if !(0.0..=1.0).contains(rate) {
                        return Err(ScenarioError::at_key(
                            key("rate"),
                            format!("expected a probability in [0, 1], found {rate}"),
                        ));
                    }
                }
            }
            FaultEventSpec::Crash { host, .. }
            | FaultEventSpec::Restart { host, .. }
            | FaultEventSpec::Bounce { host, .. }
            | FaultEventSpec::Pause { host, .. }
            | FaultEventSpec::Resume { host, .. } => check_server(key("host"), host)?,
            FaultEventSpec::DiskError { .. }
            | FaultEventSpec::DiskFull { .. }
            | FaultEventSpec::DiskCorrupt { .. }
            | FaultEventSpec::DiskSlow { .. }
            | FaultEventSpec::ClockJump { .. }
            | FaultEventSpec::ClockDrift { .. } => validate_host_fault(event, topology, &key)?,
        }
    }

    if let Some(random) = &scenario.faults.random {
        let key = |field: &str| format!("faults.random.{field}");
        if random.kinds.is_empty() {
            return Err(ScenarioError::at_key(
                key("kinds"),
                "needs at least one fault kind",
            ));
        }
        if random.recovery >= duration {
            return Err(ScenarioError::at_key(
                key("recovery"),
                "the recovery window must be shorter than simulation.duration",
            ));
        }
        if random.start >= duration - random.recovery {
            return Err(ScenarioError::at_key(
                key("start"),
                "faults would start after the recovery window begins: reduce start or recovery",
            ));
        }
        if random.interval.low.is_zero() {
            return Err(ScenarioError::at_key(
                key("interval"),
                "the lower bound must be greater than zero",
            ));
        }
        let [lo, hi] = random.loss_rate;
        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
            return Err(ScenarioError::at_key(
                key("loss_rate"),
                format!("expected probabilities [low, high] within [0, 1], found [{lo}, {hi}]"),
            ));
        }
        for (field, [lo, hi]) in [
            ("disk_error_probability", random.disk_error_probability),
            ("disk_corrupt_probability", random.disk_corrupt_probability),
        ] {
            if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
                return Err(ScenarioError::at_key(
                    key(field),
                    format!("expected probabilities [low, high] within [0, 1], found [{lo}, {hi}]"),
                ));
            }
        }
        if random.disk_error_ops.is_empty() {
            return Err(ScenarioError::at_key(
                key("disk_error_ops"),
                "needs at least one of \"read\", \"write\", \"sync\"",
            ));
        }
        let [lo, hi] = random.disk_capacity_bytes;
        if lo > hi {
            return Err(ScenarioError::at_key(
                key("disk_capacity_bytes"),
                format!("range [{lo}, {hi}] has low > high"),
            ));
        }
        if random.disk_latency.low.is_zero() || random.disk_latency.high > MAX_DISK_LATENCY {
            return Err(ScenarioError::at_key(
                key("disk_latency"),
                format!(
                    "expected latencies above zero and at most {}",
                    crate::duration::format_duration(MAX_DISK_LATENCY)
                ),
            ));
        }
        let [lo, hi] = random.clock_offset;
        if lo > hi || lo.magnitude() > MAX_CLOCK_OFFSET || hi.magnitude() > MAX_CLOCK_OFFSET {
            return Err(ScenarioError::at_key(
                key("clock_offset"),
                format!(
                    "expected [low, high] with low <= high, each within ±{}, found [{lo}, {hi}]",
                    crate::duration::format_duration(MAX_CLOCK_OFFSET)
                ),
            ));
        }
        let [lo, hi] = random.clock_drift;
        if !drift_rate_ok(lo) || !drift_rate_ok(hi) || lo > hi {
            return Err(ScenarioError::at_key(
                key("clock_drift"),
                format!(
                    "expected rates [low, high] within [{MIN_CLOCK_DRIFT_RATE}, {MAX_CLOCK_DRIFT_RATE}], found [{lo}, {hi}]"
                ),
            ));
        }
        for (k, kind) in random.kinds.iter().enumerate() {
            let needs = match kind {
                RandomFaultKind::MajorityMinority | RandomFaultKind::Bridge => 3,
                RandomFaultKind::Isolate | RandomFaultKind::PartitionOneway => 1,
                _ => 1,
            };
            if topology.servers.len() < needs {
                return Err(ScenarioError::at_key(
                    format!("faults.random.kinds[{k}]"),
                    format!(
                        "{} needs at least {needs} servers, the target has {}",
                        kind.as_str(),
                        topology.servers.len()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn drift_rate_ok(rate: f64) -> bool {
    rate.is_finite() && (MIN_CLOCK_DRIFT_RATE..=MAX_CLOCK_DRIFT_RATE).contains(&rate)
}

/// A disk or clock fault: its host (a server, or the group `servers`) and
/// its parameters.
fn validate_host_fault(
    event: &FaultEventSpec,
    topology: &Topology,
    key: &dyn Fn(&str) -> String,
) -> Result<(), ScenarioError> {
    let fail = |field: &str, message: String| Err(ScenarioError::at_key(key(field), message));
    let host = match event {
        FaultEventSpec::DiskError { host, .. }
        | FaultEventSpec::DiskFull { host, .. }
        | FaultEventSpec::DiskCorrupt { host, .. }
        | FaultEventSpec::DiskSlow { host, .. }
        | FaultEventSpec::ClockJump { host, .. }
        | FaultEventSpec::ClockDrift { host, .. } => host,
        _ => unreachable!("not a host fault"),
    };
    if host != "servers" && !topology.is_server(host) {
        return fail(
            "host",
            format!(
                "unknown server \"{host}\": disk and clock faults apply to a server or the group `servers`; expected one of servers, {}",
                topology.servers.join(", ")
            ),
        );
    }
    let probability_ok = |p: f64| (0.0..=1.0).contains(&p);
    let bad_probability = |p: f64| {
        fail(
            "probability",
            format!("expected a probability in [0, 1], found {p}"),
        )
    };
    match event {
        FaultEventSpec::DiskError { ops, .. } if ops.is_empty() => fail(
            "ops",
            "needs at least one of \"read\", \"write\", \"sync\" (omit it for all three)".into(),
        ),
        FaultEventSpec::DiskError { probability, .. }
        | FaultEventSpec::DiskCorrupt { probability, .. }
            if !probability_ok(*probability) =>
        {
            bad_probability(*probability)
        }
        FaultEventSpec::DiskSlow { latency, .. }
            if latency.is_zero() || *latency > MAX_DISK_LATENCY =>
        {
            fail(
                "latency",
                format!(
                    "expected a latency above zero and at most {}, found {}",
                    crate::duration::format_duration(MAX_DISK_LATENCY),
                    crate::duration::format_duration(*latency)
                ),
            )
        }
        FaultEventSpec::ClockJump { offset, .. }
            if offset.is_zero() || offset.magnitude() > MAX_CLOCK_OFFSET =>
        {
            fail(
                "offset",
                format!(
                    "expected a non-zero offset within ±{}, found {offset}",
                    crate::duration::format_duration(MAX_CLOCK_OFFSET)
                ),
            )
        }
        FaultEventSpec::ClockDrift { rate, .. } if !drift_rate_ok(*rate) || *rate == 0.0 => fail(
            "rate",
            format!(
                "expected a non-zero rate in [{MIN_CLOCK_DRIFT_RATE}, {MAX_CLOCK_DRIFT_RATE}] (0.5 = 50% fast, -1 = stopped), found {rate}"
            ),
        ),
        _ => Ok(()),
    }
}
