//! A register server, and the glue that lets the chaos harness test it.
//!
//! The service: one server keeps a value per key in memory and answers
//! `Read` and `Write` requests over TCP. The glue: a [`Target`] that scenarios
//! name (`system = "own-register"`), a [`System`] that installs the server
//! host, and a [`Client`] that turns each workload operation into a request
//! and reports what it observed — `ok`, `fail` (certainly did not happen)
//! or `info` (may have happened).
//!
//! Planted bug `bug = "timeout-is-fail"`: the client reports a write whose
//! reply never came as failed, although the server may have applied it.

use harness::history::{Op, OpKind, Value};
use harness::rpc::{RpcClient, RpcServer};
use harness::serde::{Deserialize, Serialize};
use harness::target::*;
use std::{cell::RefCell, collections::BTreeMap, rc::Rc, sync::Arc, time::Duration};

const PORT: u16 = 7000;

// ---- the service ----

#[derive(Serialize, Deserialize)]
#[serde(crate = "harness::serde")]
pub enum Request {
    Read { key: String },
    Write { key: String, value: Value },
}

/// Serves until the host stops; a restart begins with no values.
pub async fn server() -> harness::turmoil::Result {
    let values: Rc<RefCell<BTreeMap<String, Value>>> = Default::default();
    RpcServer::new(PORT)
        .serve(move |request: Request| {
            let mut values = values.borrow_mut();
            let reply = match request {
                Request::Read { key } => values.get(&key).cloned().unwrap_or(Value::Nil),
                Request::Write { key, value } => values.insert(key, value).unwrap_or(Value::Nil),
            };
            async move { reply }
        })
        .await
}

// ---- the glue ----

pub fn registry() -> Registry {
    Registry::new()
        .with_target(OwnRegister)
        .with_bundled_scenarios(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
}

#[derive(Deserialize)]
#[serde(
    crate = "harness::serde",
    deny_unknown_fields,
    rename_all = "kebab-case"
)]
enum Bug {
    TimeoutIsFail,
}

#[derive(Deserialize)]
#[serde(crate = "harness::serde", deny_unknown_fields)]
struct Settings {
    bug: Option<Bug>,
}

pub struct OwnRegister;

impl Target for OwnRegister {
    fn name(&self) -> &'static str {
        "own-register"
    }
    fn description(&self) -> &'static str {
        "an in-memory register server (the README's example target)"
    }
    fn planted_bugs(&self) -> Vec<PlantedBug> {
        vec![PlantedBug {
            name: "timeout-is-fail",
            description:
                "a write whose reply was lost is reported failed, though it may have been applied",
            overrides: &["target.bug=timeout-is-fail"],
            caught_by: "linearizable",
        }]
    }
    fn configure(&self, settings: &harness::toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        let settings: Settings = parse_settings(settings)?;
        let timeout_is_fail = matches!(settings.bug, Some(Bug::TimeoutIsFail));
        Ok(Arc::new(OwnSystem { timeout_is_fail }))
    }
}

struct OwnSystem {
    timeout_is_fail: bool,
}

impl System for OwnSystem {
    fn hosts(&self) -> Vec<String> {
        vec!["server".into()]
    }
    fn install(&self, sim: &mut harness::turmoil::Sim<'_>, _env: &HostEnv) {
        sim.host("server", server);
    }
    fn client(&self, _process: u64, _env: &ClientEnv) -> Box<dyn Client> {
        let rpc = RpcClient::new("server", PORT).call_timeout(Duration::from_millis(100));
        Box::new(OwnClient {
            rpc,
            timeout_is_fail: self.timeout_is_fail,
        })
    }

    fn op_kinds(&self) -> Vec<OpKind> {
        vec![OpKind::Read, OpKind::Write]
    }
}

struct OwnClient {
    rpc: RpcClient<Request, Value>,
    timeout_is_fail: bool,
}

impl Client for OwnClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(async move {
            let key = op.key.clone().unwrap_or_default();
            let request = match op.f {
                OpKind::Read => Request::Read { key },
                OpKind::Write => Request::Write {
                    key,
                    value: op.value.clone(),
                },
                _ => return Completion::unavailable(op.value.clone(), "unsupported"),
            };
            match self.rpc.call(&request).await {
                Ok(value) if op.f == OpKind::Read => Completion::ok(value),
                Ok(_) => Completion::ok(op.value.clone()),
                // The bug: "no answer" is not "did not happen".
                Err(e) if self.timeout_is_fail => {
                    Completion::fail(op.value.clone()).with_error(e.reason())
                }
                Err(e) => e.completion(op),
            }
        })
    }
}
