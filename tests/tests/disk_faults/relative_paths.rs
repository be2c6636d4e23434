//! Relative paths on a [`Disk`] are relative to its root, with the same
//! durability as their absolute spelling: the write-to-temporary, sync,
//! rename idiom survives a crash whichever way the paths are written.
//! (turmoil matches a pending directory entry by its parent path, so a
//! relative `state.tmp`, whose parent is the empty path, was once never
//! made durable: a crashed host restarted empty, without an error.)

use super::helpers::{events, field, S};
use harness::disk::Disk;
use harness::history::Op;
use harness::scenario::{FaultEventSpec, ScenarioBuilder};
use harness::suite::{execute, ExecOptions, LoadedScenario};
use harness::target::{
    Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, Registry, SettingsError, System, Target,
};
use std::sync::Arc;

struct RelativeScript;
struct RelativeScriptSystem;
struct NoopClient;

impl Target for RelativeScript {
    fn name(&self) -> &'static str {
        "relative-script"
    }
    fn description(&self) -> &'static str {
        "durable writes under relative paths, read back after a crash"
    }
    fn configure(&self, _: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        Ok(Arc::new(RelativeScriptSystem))
    }
}

impl System for RelativeScriptSystem {
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
    if disk.exists("/state") || disk.exists("state") {
        // Second boot: every spelling names the same, durable files.
        let state = disk.read("./state").await.map_or(-1, |d| d.len() as i64);
        let nested = disk.read("/wal/log").await.map_or(-1, |d| d.len() as i64);
        let listed = disk.list("")?.len() as i64;
        tracing::info!(target: "dlog", state, nested, listed, "after crash");
        return std::future::pending().await;
    }
    disk.write("state.tmp", &[7; 64]).await?;
    disk.sync("state.tmp").await?;
    disk.rename("state.tmp", "state").await?;
    disk.create_dir_all("wal").await?;
    disk.append("wal/log", &[1; 32]).await?;
    disk.sync("wal/../wal/log").await?;
    tracing::info!(target: "dlog", "written");
    std::future::pending().await
}

#[test]
fn relative_paths_are_durable_like_absolute_ones() {
    let registry = Registry::new().with_target(RelativeScript);
    let builder = ScenarioBuilder::new("relative", "relative-script")
        .duration(S(3))
        .clients(1)
        .rate(5.0)
        .fault(FaultEventSpec::Crash {
            at: S(1),
            duration: Some(S(1)),
            host: "n1".into(),
            spread: None,
        });
    let loaded = LoadedScenario::from_scenario(builder.build(), &registry).unwrap();
    let r = execute(&loaded, 1, &ExecOptions::default());
    assert_eq!(events(&r.record, "n1", "written").len(), 1);
    let after = events(&r.record, "n1", "after crash");
    assert_eq!(
        after.len(),
        1,
        "the host never found its state after the crash"
    );
    let fields = &after[0].1;
    assert_eq!(field(fields, "state"), 64, "{fields:?}");
    assert_eq!(field(fields, "nested"), 32, "{fields:?}");
    // `state` and `wal`: the renamed temporary is gone.
    assert_eq!(field(fields, "listed"), 2, "{fields:?}");
}
