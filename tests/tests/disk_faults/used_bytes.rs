//! Used-bytes accounting (what `disk-full` compares with its capacity),
//! across every kind of disk call and a crash.

use super::helpers::{events, field, MS, S};
use harness::disk::Disk;
use harness::history::Op;
use harness::scenario::{FaultEventSpec, ScenarioBuilder};
use harness::suite::{execute, ExecOptions, LoadedScenario};
use harness::target::{
    Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, Registry, SettingsError, System, Target,
};
use std::sync::Arc;
use std::time::Duration;

/// One host that runs a fixed script of disk calls at boot and logs the
/// used bytes after each; on its second boot (after a crash) it logs what
/// survived.
struct DiskScript;
struct DiskScriptSystem;
struct NoopClient;

impl Target for DiskScript {
    fn name(&self) -> &'static str {
        "disk-script"
    }
    fn description(&self) -> &'static str {
        "disk calls at boot, with the used bytes after each"
    }
    fn configure(&self, _: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        Ok(Arc::new(DiskScriptSystem))
    }
}

impl System for DiskScriptSystem {
    fn hosts(&self) -> Vec<String> {
        vec!["n1".into()]
    }
    fn install(&self, sim: &mut turmoil::Sim<'_>, env: &HostEnv) {
        let env = env.clone();
        sim.host("n1", move || script(env.disk("n1")));
    }
    fn client(&self, _: u64, _: &ClientEnv) -> Box<dyn Client> {
        Box::new(NoopClient)
    }
}

impl Client for NoopClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(async move { Completion::ok(op.value.clone()) })
    }
}

async fn script(disk: Disk) -> turmoil::Result {
    let used = |step: &str| {
        tracing::info!(target: "dlog", step, used = disk.used_bytes(), "used");
    };
    disk.create_dir_all("/d").await?;
    if disk.exists("/d/c") {
        used("after crash");
        let mut read_back = 0;
        for name in disk.list("/d")? {
            read_back += disk.read(format!("/d/{name}")).await?.len();
        }
        tracing::info!(target: "dlog", read_back, "read back");
        // A disk-full fault (capacity 1200) is active from 2.5 s.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let fits = disk.append("/d/c", &[1; 150]).await;
        tracing::info!(target: "dlog", ok = fits.is_ok(), "append 150");
        return std::future::pending().await;
    }
    disk.write("/d/a", &[1; 100]).await?;
    used("write a 100");
    disk.append("/d/a", &[2; 50]).await?;
    used("append a 50");
    disk.truncate("/d/a", 20).await?;
    used("truncate a 20");
    disk.write("/d/b", &[3; 30]).await?;
    used("write b 30");
    disk.rename("/d/b", "/d/a").await?;
    used("rename b over a");
    disk.remove("/d/a").await?;
    used("remove a");
    disk.write("/d/c", &[4; 1000]).await?;
    disk.sync("/d/c").await?;
    disk.write("/d/d", &[5; 500]).await?; // never synced: gone at a crash
    disk.append("/d/c", &[6; 300]).await?; // pending: torn or lost at a crash
    used("c 1000 synced + d 500 + c 300 pending");
    std::future::pending().await
}

#[test]
fn used_bytes_follow_every_call_and_a_crash() {
    let registry = Registry::new().with_target(DiskScript);
    let builder = ScenarioBuilder::new("script", "disk-script")
        .duration(S(4))
        .clients(1)
        .rate(1.0)
        .fault(FaultEventSpec::Crash {
            at: S(1),
            duration: Some(S(1)),
            host: "n1".into(),
            spread: None,
        })
        .fault(FaultEventSpec::DiskFull {
            at: MS(2500),
            duration: None,
            host: "n1".into(),
            capacity_bytes: 1200,
        });
    let loaded = LoadedScenario::from_scenario(builder.build(), &registry).unwrap();
    let mut survivors = std::collections::BTreeSet::new();
    for seed in 1..=6 {
        let r = execute(&loaded, seed, &ExecOptions::default());
        let steps: Vec<(String, i64)> = events(&r.record, "n1", "used")
            .into_iter()
            .map(|(_, f)| {
                let step = f.iter().find(|(k, _)| k == "step").unwrap().1.clone();
                (step, field(&f, "used"))
            })
            .collect();
        let used: Vec<i64> = steps.iter().map(|(_, u)| *u).collect();
        assert_eq!(used[..7], [100, 150, 20, 50, 30, 0, 1800], "{steps:?}");
        // The unsynced file is gone; of the pending 300-byte append (one
        // block) either all or nothing survived.
        let after = used[7];
        assert!(after == 1000 || after == 1300, "seed {seed}: {after}");
        let (_, read_back) = &events(&r.record, "n1", "read back")[0];
        assert_eq!(field(read_back, "read_back"), after);
        let (_, append) = &events(&r.record, "n1", "append 150")[0];
        let fits = append.iter().any(|(k, v)| k == "ok" && v == "true");
        assert_eq!(fits, after + 150 <= 1200, "seed {seed}");
        survivors.insert(after);
    }
    assert_eq!(survivors.len(), 2, "both outcomes of the torn append occur");
}
