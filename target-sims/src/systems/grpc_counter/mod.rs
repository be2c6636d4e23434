//! `grpc-counter`: a tonic counter service ([`service`], its gRPC interface
//! in [`proto`]) tested through the tonic adapter ([`chaos_adapters::grpc`]).
//!
//! Everything below is the glue that makes it a harness target: settings,
//! the one server host (the service served by `chaos_adapters::grpc::serve`)
//! and a client that turns `add` and `read` operations into calls. The
//! client retries like a careful gRPC client: a call that may have been
//! applied is resent with the *same* idempotency key, which the server
//! deduplicates; an `add` still unanswered after its last attempt is
//! `info`.
//!
//! Planted bug (`fresh_id_per_attempt`): the client draws a new
//! idempotency key for every attempt, so a resent `add` whose first copy
//! was applied is applied twice, and a later read sees the counter too high.

pub mod proto;
pub mod service;
#[cfg(test)]
mod tests;

use chaos_adapters::grpc::{serve, GrpcClient};
use harness::duration::serde_text;
use harness::history::{Op, OpKind, Value};
use harness::target::*;
use proto::{AddRequest, CounterClient, CounterServer, ReadRequest};
use serde::Deserialize;
use service::{CounterService, PORT};
use std::sync::Arc;
use std::time::Duration;

/// The server's host name.
pub const HOST: &str = "server";
/// Cap on attempts per operation a scenario may configure.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;

/// `[target]` settings of `grpc-counter`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcCounterSettings {
    /// The client's bound on one call.
    #[serde(with = "serde_text", default = "default_call_timeout")]
    pub call_timeout: Duration,
    /// Attempts per operation, first included.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Pause between attempts.
    #[serde(with = "serde_text", default = "default_backoff")]
    pub backoff: Duration,
    /// Planted bug: a new idempotency key for every attempt.
    #[serde(default)]
    pub fresh_id_per_attempt: bool,
}

fn default_call_timeout() -> Duration {
    Duration::from_millis(150)
}
fn default_max_attempts() -> u32 {
    3
}
fn default_backoff() -> Duration {
    Duration::from_millis(50)
}

pub struct GrpcCounterTarget;

impl Target for GrpcCounterTarget {
    fn name(&self) -> &'static str {
        "grpc-counter"
    }

    fn description(&self) -> &'static str {
        "a tonic gRPC counter service with idempotency keys, run through the tonic adapter"
    }

    fn settings_template(&self) -> &'static str {
        "# The client's bound on one call, attempts per operation, pause between them.\n\
         call_timeout = \"150ms\"\n\
         max_attempts = 3\n\
         backoff = \"50ms\"\n\
         # Planted bug: a new idempotency key for every attempt.\n\
         fresh_id_per_attempt = false\n"
    }

    fn planted_bugs(&self) -> Vec<PlantedBug> {
        vec![PlantedBug {
            name: "fresh-id-per-attempt",
            description: "the client resends an add under a new idempotency key, so one whose reply was lost is applied twice",
            overrides: &["target.fresh_id_per_attempt=true"],
            caught_by: "linearizable",
        }]
    }

    fn configure(&self, settings: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        let settings: GrpcCounterSettings = parse_settings(settings)?;
        if settings.max_attempts == 0 || settings.max_attempts > MAX_ATTEMPTS_LIMIT {
            let found = settings.max_attempts;
            let why = format!("expected 1 to {MAX_ATTEMPTS_LIMIT}, found {found}");
            return Err(SettingsError::new("max_attempts", why));
        }
        if settings.call_timeout.is_zero() {
            return Err(SettingsError::new(
                "call_timeout",
                "must be greater than zero",
            ));
        }
        Ok(Arc::new(GrpcCounterSystem { settings }))
    }
}

struct GrpcCounterSystem {
    settings: GrpcCounterSettings,
}

impl System for GrpcCounterSystem {
    fn hosts(&self) -> Vec<String> {
        vec![HOST.to_string()]
    }

    fn install(&self, sim: &mut turmoil::Sim<'_>, _env: &HostEnv) {
        sim.host(HOST, || {
            serve(PORT, CounterServer::new(CounterService::default()))
        });
    }

    fn client(&self, process: u64, _env: &ClientEnv) -> Box<dyn Client> {
        let grpc = GrpcClient::new(HOST, PORT).call_timeout(self.settings.call_timeout);
        Box::new(GrpcCounterClient {
            grpc,
            settings: self.settings.clone(),
            // Ids unique across clients: the process in the high half.
            next_id: process << 32,
        })
    }

    fn op_kinds(&self) -> Vec<OpKind> {
        vec![OpKind::Read, OpKind::Add]
    }
}

struct GrpcCounterClient {
    grpc: GrpcClient,
    settings: GrpcCounterSettings,
    next_id: u64,
}

impl GrpcCounterClient {
    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

impl Client for GrpcCounterClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(async move {
            let key = op.key.clone().unwrap_or_default();
            let delta = match (op.f, &op.value) {
                (OpKind::Add, Value::Int(delta)) => *delta,
                (OpKind::Read, _) => 0,
                _ => return Completion::unavailable(op.value.clone(), "unsupported operation"),
            };
            let mut request_id = self.fresh_id();
            let mut may_have_been_applied = false;
            let mut attempt = 0;
            loop {
                attempt += 1;
                let result = if op.f == OpKind::Read {
                    let request = ReadRequest { key: key.clone() };
                    let call = |ch| async move { CounterClient::new(ch).read(request).await };
                    self.grpc
                        .call(call)
                        .await
                        .map(|reply| Value::Int(reply.value))
                } else {
                    let request = AddRequest {
                        key: key.clone(),
                        delta,
                        request_id,
                    };
                    let call = |ch| async move { CounterClient::new(ch).add(request).await };
                    self.grpc.call(call).await.map(|_| op.value.clone())
                };
                let error = match result {
                    Ok(value) => return Completion::ok(value).with_attempts(attempt),
                    Err(error) => error,
                };
                may_have_been_applied |= error.may_have_been_applied();
                if attempt >= self.settings.max_attempts {
                    let completion = if may_have_been_applied && op.f.is_mutation() {
                        Completion::info(op.value.clone()).with_error(error.reason())
                    } else {
                        error.completion(op)
                    };
                    return completion.with_attempts(attempt);
                }
                if self.settings.fresh_id_per_attempt {
                    // The bug: the server cannot tell this copy from a new add.
                    request_id = self.fresh_id();
                }
                tokio::time::sleep(self.settings.backoff).await;
            }
        })
    }
}
