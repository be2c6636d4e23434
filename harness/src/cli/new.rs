//! `new`: a commented starter scenario for a target, checked to be valid
//! before it is written.

use super::{program, EXIT_PASS};
use crate::history::OpKind;
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
    let system = t.configure(&toml::Table::new()).ok();
    let host = system
        .as_ref()
        .and_then(|system| system.hosts().into_iter().next())
        .unwrap_or_else(|| "servers".into());
    let kinds = system.map_or_else(|| OpKind::ALL.to_vec(), |system| system.op_kinds());
    let text = starter_scenario(
        name,
        t.name(),
        t.settings_template(),
        &host,
        &starter_mix(&kinds),
    );
    // The template must itself be valid: check before writing.
    scenario::parse_str(&text, Some(&path), registry)
        .map_err(|e| format!("internal: the starter scenario is invalid: {e}"))?;
    report::write_atomic(&path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    println!("try it: {} run {}", program(), path.display());
    Ok(EXIT_PASS)
}

/// A mix the target serves: reads and writes when it has writes,
/// otherwise each kind it serves except reads (a queue's producers
/// enqueue), otherwise reads.
fn starter_mix(kinds: &[OpKind]) -> String {
    let served = |k: &OpKind| kinds.contains(k) && *k != OpKind::Txn;
    let mut mix: Vec<OpKind> = if served(&OpKind::Write) {
        [OpKind::Read, OpKind::Write]
            .into_iter()
            .filter(served)
            .collect()
    } else {
        kinds
            .iter()
            .copied()
            .filter(|k| served(k) && *k != OpKind::Read)
            .collect()
    };
    if mix.is_empty() {
        mix.push(OpKind::Read);
    }
    let weights: Vec<String> = mix.iter().map(|k| format!("{} = 1", k.as_str())).collect();
    format!("{{ {} }}", weights.join(", "))
}

fn starter_scenario(name: &str, target: &str, settings: &str, host: &str, mix: &str) -> String {
    let settings: String = settings.lines().map(|l| format!("{l}\n")).collect();
    let served = format!("mix = {mix}");
    // Lines holding a substituted value are padded here, so their
    // comments line up with the fixed lines' (column 35).
    let commented = |code: String, comment: &str| format!("{code:<34}# {comment}");
    let mix_line = commented(served, "weights of the operation kinds the target serves");
    let name_line = commented(
        format!("name = \"{name}\""),
        "required; names the report folder",
    );
    let system_line = commented(format!("system = \"{target}\""), "required");
    format!(
        r#"# A scenario: a target system, a workload, faults and the invariants that must hold.
# Every key is optional unless marked; the values shown are the defaults.
{name_line}
description = "what this scenario shows"
seeds = 20                        # seeds `chaos run` uses by default

[target]
{system_line}
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
{mix_line}
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
