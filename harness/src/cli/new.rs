//! `new`: a commented starter scenario for a target, checked to be valid
//! before it is written.

use super::{program, EXIT_PASS};
use crate::report;
use crate::scenario;
use crate::target::Registry;
use std::path::Path;

pub(super) fn new_scenario(
    registry: &Registry,
    name: &str,
    target: &str,
    dir: &Path,
    force: bool,
) -> Result<u8, String> {
    let t = registry.get(target).ok_or_else(|| {
        format!(
            "unknown target \"{target}\": expected one of {}",
            registry.names().join(", ")
        )
    })?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "\"{name}\" is not a valid name: use letters, digits, '-' and '_'"
        ));
    }
    let path = dir.join(format!("{name}.toml"));
    if path.exists() && !force {
        return Err(format!(
            "{} exists; pass --force to overwrite it",
            path.display()
        ));
    }
    let host = t
        .configure(&toml::Table::new())
        .ok()
        .and_then(|system| system.hosts().into_iter().next())
        .unwrap_or_else(|| "servers".into());
    let text = starter_scenario(name, t.name(), t.settings_template(), &host);
    // The template must itself be valid: check before writing.
    scenario::parse_str(&text, Some(&path), registry)
        .map_err(|e| format!("internal: the starter scenario is invalid: {e}"))?;
    report::write_atomic(&path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    println!("try it: {} run {}", program(), path.display());
    Ok(EXIT_PASS)
}

fn starter_scenario(name: &str, target: &str, settings: &str, host: &str) -> String {
    let settings: String = settings.lines().map(|l| format!("{l}\n")).collect();
    format!(
        r#"# A scenario: a target system, a workload, faults and the invariants that must hold.
# Every key is optional unless marked; the values shown are the defaults.
name = "{name}"                    # required; names the report folder
description = "what this scenario shows"
seeds = 20                        # seeds `chaos run` uses by default

[target]
system = "{target}"               # required
{settings}
[simulation]
duration = "10s"                  # how long the workload runs (simulated time)
tick = "1ms"                      # simulated time per step
drain = "10s"                     # extra time for in-flight operations and final reads

[network]
latency = "1ms"                   # one-way latency of every link
jitter = "0s"                     # plus up to this much, at random

[workload]
clients = 4                       # logical clients
client_hosts = 1                  # hosts they run on (client-0, client-1, ...)
rate = 20.0                       # operations per second per client
mix = {{ read = 1, write = 1 }}     # weights of read, write, cas, append, add, ...
keys = 1                          # keys k0, k1, ...
timeout = "1s"                    # after this an operation is recorded as info
final_read = false                # read every key after the workload

# Hand-written faults: each starts `at` and, with `duration`, is undone after it.
[[faults.events]]
kind = "isolate"                  # partition, isolate, majority-minority, bridge,
at = "3s"                         # partition-oneway, heal, latency, loss, crash,
duration = "2s"                   # restart, bounce, pause, resume
host = "{host}"

# A random ("swarm") fault plan, drawn per seed:
# [faults.random]
# kinds = ["isolate", "crash", "pause", "latency", "loss"]
# interval = ["1s", "4s"]
# duration = ["500ms", "3s"]
# recovery = "5s"                 # every fault healed this long before the end

[invariants.availability]
min_ok_ratio_after_heal = 0.9     # of operations invoked after the last heal
"#,
    )
}
