//! `http-kv`: an axum key-value service ([`service`]) tested through the
//! axum adapter ([`chaos_adapters::http`]).
//!
//! The service is an ordinary axum `Router`; everything below is the glue
//! that makes it a harness target: settings, the one server host (the
//! router served by `chaos_adapters::http::serve`), and a client that turns
//! each workload operation into an HTTP request and each reply (or failed
//! call) into what the history may claim. A 409 from `cas` is a definite
//! `fail`; a 5xx or a call that may have reached the server leaves a
//! mutation `info`. Reads may always fail.

pub mod service;

use chaos_adapters::http::{serve, HttpClient, HttpReply};
use chaos_adapters::CallError;
use harness::duration::serde_text;
use harness::history::{Op, OpKind, Value};
use harness::target::*;
use serde::Deserialize;
use service::{CasBody, ServiceConfig, PORT};
use std::sync::Arc;
use std::time::Duration;

/// The server's host name.
pub const HOST: &str = "server";

/// `[target]` settings of `http-kv`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpKvSettings {
    /// The client's bound on one HTTP call.
    #[serde(with = "serde_text", default = "default_call_timeout")]
    pub call_timeout: Duration,
    /// Time a mutation takes to reach the backing store.
    #[serde(with = "serde_text", default = "default_store_latency")]
    pub store_latency: Duration,
    /// Planted bug: compare-and-set checks, awaits, then sets.
    #[serde(default)]
    pub check_then_act: bool,
}

fn default_call_timeout() -> Duration {
    Duration::from_millis(200)
}
fn default_store_latency() -> Duration {
    Duration::from_millis(5)
}

pub struct HttpKvTarget;

impl Target for HttpKvTarget {
    fn name(&self) -> &'static str {
        "http-kv"
    }

    fn description(&self) -> &'static str {
        "an axum HTTP key-value service (read, write, cas) run through the axum adapter"
    }

    fn settings_template(&self) -> &'static str {
        "# The client's bound on one HTTP call.\n\
         call_timeout = \"200ms\"\n\
         # Time a mutation takes to reach the backing store.\n\
         store_latency = \"5ms\"\n\
         # Planted bug: cas releases its lock between the check and the set.\n\
         check_then_act = false\n"
    }

    fn planted_bugs(&self) -> Vec<PlantedBug> {
        vec![PlantedBug {
            name: "check-then-act",
            description: "the cas handler checks the value, awaits the backing store, then sets: two concurrent cas both succeed",
            overrides: &["target.check_then_act=true"],
            caught_by: "linearizable",
        }]
    }

    fn configure(&self, settings: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        let settings: HttpKvSettings = parse_settings(settings)?;
        if settings.call_timeout.is_zero() {
            return Err(SettingsError::new(
                "call_timeout",
                "must be greater than zero",
            ));
        }
        Ok(Arc::new(HttpKvSystem { settings }))
    }
}

struct HttpKvSystem {
    settings: HttpKvSettings,
}

impl System for HttpKvSystem {
    fn hosts(&self) -> Vec<String> {
        vec![HOST.to_string()]
    }

    fn install(&self, sim: &mut turmoil::Sim<'_>, _env: &HostEnv) {
        let config = ServiceConfig {
            store_latency: self.settings.store_latency,
            check_then_act: self.settings.check_then_act,
        };
        sim.host(HOST, move || serve(PORT, service::router(config)));
    }

    fn client(&self, _process: u64, _env: &ClientEnv) -> Box<dyn Client> {
        let http = HttpClient::new(HOST, PORT).call_timeout(self.settings.call_timeout);
        Box::new(HttpKvClient { http })
    }

    fn op_kinds(&self) -> Vec<OpKind> {
        vec![OpKind::Read, OpKind::Write, OpKind::Cas]
    }
}

struct HttpKvClient {
    http: HttpClient,
}

impl Client for HttpKvClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(async move {
            let path = format!("/kv/{}", op.key.as_deref().unwrap_or_default());
            let reply = match (&op.f, &op.value) {
                (OpKind::Read, _) => self.http.get(&path).await,
                (OpKind::Write, value) => self.http.put_json(&path, value).await,
                (OpKind::Cas, Value::List(pair)) if pair.len() == 2 => {
                    let body = CasBody {
                        expected: pair[0].clone(),
                        new: pair[1].clone(),
                    };
                    self.http.post_json(&format!("{path}/cas"), &body).await
                }
                _ => return Completion::unavailable(op.value.clone(), "unsupported operation"),
            };
            match reply {
                Ok(reply) => completion(op, &reply),
                Err(e) => e.completion(op),
            }
        })
    }
}

/// What an HTTP reply means for the operation.
fn completion(op: &Op, reply: &HttpReply) -> Completion {
    let status = reply.status.as_u16();
    match (op.f, status) {
        (OpKind::Read, 200) => match reply.json::<Value>() {
            Ok(value) => Completion::ok(value),
            Err(e) => e.completion(op),
        },
        (OpKind::Read, 404) => Completion::ok(Value::Nil),
        (OpKind::Write | OpKind::Cas, 204) => Completion::ok(op.value.clone()),
        (OpKind::Cas, 409) => Completion::fail(op.value.clone()),
        // A server error after a mutation reached it says nothing of
        // whether it was applied.
        (_, 500..) => CallError::BadReply(format!("status {status}")).completion(op),
        _ => Completion::unavailable(op.value.clone(), format!("status {status}")),
    }
}
