//! The checks of `[[faults.events]]` and `[faults.random]`: every event
//! starts within the workload, names hosts the topology has (or roles the
//! target reports), and keeps its parameters within their caps; a random
//! plan's ranges are ordered and in bounds.

use super::Topology;
use crate::fault::role_of_target;
use crate::scenario::{
    FaultEventSpec, Scenario, ScenarioError, MAX_CLOCK_DRIFT_RATE, MAX_CLOCK_OFFSET,
    MAX_DISK_LATENCY, MAX_SPREAD, MIN_CLOCK_DRIFT_RATE,
};
use std::time::Duration;

/// Cap on a random plan's per-seed network `jitter`.
pub const MAX_RANDOM_JITTER: Duration = Duration::from_secs(1);

/// A role target names a role the target reports.
fn check_role(field: &str, role: &str, roles: &[String]) -> Result<(), ScenarioError> {
    if roles.is_empty() {
        return Err(ScenarioError::at_key(
            field,
            format!("\"role:{role}\": this target reports no roles; name a host instead"),
        ));
    }
    if !roles.iter().any(|r| r == role) {
        return Err(ScenarioError::at_key(
            field,
            format!(
                "unknown role \"{role}\": the target reports {}",
                roles
                    .iter()
                    .map(|r| format!("role:{r}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(())
}

/// Which names a host field takes, besides a role.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Takes {
    /// One server.
    Server,
    /// One server, or the group `servers`.
    ServerOrAll,
    /// One server, or the groups `servers` and `majority`.
    ServerOrGroup,
}

fn check_host(
    field: String,
    host: &str,
    takes: Takes,
    topology: &Topology,
    roles: &[String],
) -> Result<(), ScenarioError> {
    if let Some(role) = role_of_target(host) {
        return check_role(&field, role, roles);
    }
    let groups: &[&str] = match takes {
        Takes::Server => &[],
        Takes::ServerOrAll => &["servers"],
        Takes::ServerOrGroup => &["servers", "majority"],
    };
    if topology.is_server(host) || groups.contains(&host) {
        return Ok(());
    }
    let mut expected: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    expected.extend(topology.servers.iter().cloned());
    if !roles.is_empty() {
        expected.push("role:NAME".into());
    }
    Err(ScenarioError::at_key(
        field,
        format!(
            "unknown server \"{host}\": expected one of {}",
            expected.join(", ")
        ),
    ))
}

pub(super) fn validate_faults(
    scenario: &Scenario,
    topology: &Topology,
    roles: &[String],
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
                if let Some(role) = role_of_target(name) {
                    check_role(&format!("{field}[{j}]"), role, roles)?;
                } else if topology.resolve(name).is_none() {
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
        let needs_servers = |n: usize| -> Result<(), ScenarioError> {
            if topology.servers.len() < n {
                return Err(ScenarioError::at_key(
                    key("kind"),
                    format!(
                        "needs at least {n} servers, the target has {}",
                        topology.servers.len()
                    ),
                ));
            }
            Ok(())
        };
        let check_spread = |spread: &Option<Duration>, host: &str| -> Result<(), ScenarioError> {
            let Some(spread) = spread else { return Ok(()) };
            if !matches!(host, "servers" | "majority") {
                return Err(ScenarioError::at_key(
                    key("spread"),
                    format!(
                        "spreads the hosts of a group over time: give host = \"servers\" or \"majority\", not \"{host}\""
                    ),
                ));
            }
            if *spread > MAX_SPREAD {
                return Err(ScenarioError::at_key(
                    key("spread"),
                    format!(
                        "expected at most {}, found {}",
                        crate::duration::format_duration(MAX_SPREAD),
                        crate::duration::format_duration(*spread)
                    ),
                ));
            }
            Ok(())
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
            FaultEventSpec::Isolate { host, .. } if role_of_target(host).is_some() => {
                check_host(key("host"), host, Takes::Server, topology, roles)?
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
            FaultEventSpec::IsolatePeers { host, .. } => {
                needs_servers(2)?;
                check_host(key("host"), host, Takes::Server, topology, roles)?
            }
            FaultEventSpec::MajorityMinority { host, .. }
            | FaultEventSpec::SplitPeers { host, .. } => {
                needs_servers(3)?;
                if let Some(host) = host {
                    check_host(key("host"), host, Takes::Server, topology, roles)?
                }
            }
            FaultEventSpec::Bridge { .. } => needs_servers(3)?,
            FaultEventSpec::Ring { order, .. } => {
                needs_servers(4)?;
                if let Some(order) = order {
                    let mut sorted = order.clone();
                    sorted.sort();
                    let mut servers = topology.servers.clone();
                    servers.sort();
                    if sorted != servers {
                        return Err(ScenarioError::at_key(
                            key("order"),
                            format!(
                                "expected every server exactly once ({}), found [{}]",
                                topology.servers.join(", "),
                                order.join(", ")
                            ),
                        ));
                    }
                }
            }
            FaultEventSpec::RollingRestart { host, down, .. } => {
                if !matches!(host.as_str(), "servers" | "majority") {
                    return Err(ScenarioError::at_key(
                        key("host"),
                        format!(
                            "a rolling restart goes through a group: expected \"servers\" or \"majority\", found \"{host}\""
                        ),
                    ));
                }
                if down.is_some_and(|d| d.is_zero()) {
                    return Err(ScenarioError::at_key(
                        key("down"),
                        "must be greater than zero (leave it out to bounce each server)",
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
                    // A role resolves only when the fault fires (who holds
                    // it then); a set naming one cannot be compared now.
                    let names_role = a.iter().chain(b).any(|n| role_of_target(n).is_some());
                    let (a, b) = (resolved(a), resolved(b));
                    if !names_role && a.iter().all(|x| b.iter().all(|y| x == y)) {
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
            FaultEventSpec::Crash { host, spread, .. }
            | FaultEventSpec::Bounce { host, spread, .. }
            | FaultEventSpec::Pause { host, spread, .. } => {
                check_host(key("host"), host, Takes::ServerOrGroup, topology, roles)?;
                check_spread(spread, host)?;
            }
            FaultEventSpec::Restart { host, .. } | FaultEventSpec::Resume { host, .. } => {
                if role_of_target(host).is_some() {
                    return Err(ScenarioError::at_key(
                        key("host"),
                        "a role names a running host: give the crash or pause a `duration` to end it, or name a server or \"servers\"",
                    ));
                }
                check_host(key("host"), host, Takes::ServerOrAll, topology, roles)?
            }
            FaultEventSpec::DiskError { .. }
            | FaultEventSpec::DiskFull { .. }
            | FaultEventSpec::DiskCorrupt { .. }
            | FaultEventSpec::DiskSlow { .. }
            | FaultEventSpec::ClockJump { .. }
            | FaultEventSpec::ClockDrift { .. } => {
                validate_host_fault(event, topology, roles, &key)?
            }
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
        check_drift_range(key("clock_drift"), random.clock_drift)?;
        if let Some(range) = random.clock_skew {
            check_drift_range(key("clock_skew"), range)?;
        }
        for (r, role) in random.roles.iter().enumerate() {
            check_role(&format!("faults.random.roles[{r}]"), role, roles)?;
        }
        if !(0.0..=1.0).contains(&random.role_weight) {
            return Err(ScenarioError::at_key(
                key("role_weight"),
                format!("expected a share in [0, 1], found {}", random.role_weight),
            ));
        }
        if !(0.0..=1.0).contains(&random.restart_during_disk_faults) {
            return Err(ScenarioError::at_key(
                key("restart_during_disk_faults"),
                format!(
                    "expected a share in [0, 1], found {}",
                    random.restart_during_disk_faults
                ),
            ));
        }
        if let Some([low, high]) = random.swarm_kinds {
            if low == 0 || low > high {
                return Err(ScenarioError::at_key(
                    key("swarm_kinds"),
                    format!("expected kind counts [low, high] with 1 <= low <= high, found [{low}, {high}]"),
                ));
            }
        }
        if !(0.0..=1.0).contains(&random.compound) {
            return Err(ScenarioError::at_key(
                key("compound"),
                format!("expected a share in [0, 1], found {}", random.compound),
            ));
        }
        if random.spread.high > MAX_SPREAD {
            return Err(ScenarioError::at_key(
                key("spread"),
                format!(
                    "expected spreads of at most {}",
                    crate::duration::format_duration(MAX_SPREAD)
                ),
            ));
        }
        if random.jitter.is_some_and(|j| j.high > MAX_RANDOM_JITTER) {
            return Err(ScenarioError::at_key(
                key("jitter"),
                format!(
                    "expected a jitter of at most {}",
                    crate::duration::format_duration(MAX_RANDOM_JITTER)
                ),
            ));
        }
        for (k, kind) in random.kinds.iter().enumerate() {
            let needs = kind.min_servers();
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

/// A `[low, high]` range of clock rates (`clock_drift`, `clock_skew`).
fn check_drift_range(key: String, [lo, hi]: [f64; 2]) -> Result<(), ScenarioError> {
    if !drift_rate_ok(lo) || !drift_rate_ok(hi) || lo > hi {
        return Err(ScenarioError::at_key(
            key,
            format!(
                "expected rates [low, high] within [{MIN_CLOCK_DRIFT_RATE}, {MAX_CLOCK_DRIFT_RATE}], found [{lo}, {hi}]"
            ),
        ));
    }
    Ok(())
}

/// A disk or clock fault: its host (a server, or the group `servers`) and
/// its parameters.
fn validate_host_fault(
    event: &FaultEventSpec,
    topology: &Topology,
    roles: &[String],
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
    if let Some(role) = role_of_target(host) {
        check_role(&key("host"), role, roles)?;
    } else if host != "servers" && !topology.is_server(host) {
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
