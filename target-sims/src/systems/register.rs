//! A single-server, in-memory register store over turmoil TCP.
//!
//! The smallest system worth breaking: one server holds a map of registers
//! (`read`, `write`, `cas` per key) in memory, so a crash loses everything;
//! clients connect over TCP, time each attempt out and retry. The client is
//! careful in the way real clients must be: a read that fails is a `fail`
//! (it changed nothing), but a mutation whose request may have reached the
//! server is `info` — its outcome is unknown — and is never sent again:
//! a `cas` applied twice is not a `cas` applied once, and even a plain
//! write resent after a timeout can be applied late, after another
//! client's write, undoing it.
//!
//! Requests and replies travel as typed messages over the harness's RPC
//! helpers ([`harness::rpc`]), whose errors say whether a request may have
//! been applied.
//!
//! Planted bug (`retry_unsafe = true`): the client resends mutations after a
//! timeout as if they were idempotent. A `cas` whose first attempt was
//! applied but whose answer was lost then fails its comparison and is
//! reported `fail` although it happened, and a resent write can land after a
//! newer one: both are linearizability violations.

use harness::duration::serde_text;
use harness::history::{Op, OpKind, Outcome, Value};
use harness::rpc::{CallError, RpcClient, RpcServer};
use harness::target::{
    parse_settings, Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, PlantedBug,
    SettingsError, System, Target,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// The server's TCP port.
pub const PORT: u16 = 7000;
/// The server's host name.
pub const HOST: &str = "server";
/// Cap on attempts per operation a scenario may configure.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;

/// `[target]` settings of the `register` system.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterSettings {
    /// Per-attempt timeout of the client.
    #[serde(with = "serde_text", default = "default_attempt_timeout")]
    pub attempt_timeout: Duration,
    /// Attempts per operation, first included.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Pause between attempts.
    #[serde(with = "serde_text", default = "default_backoff")]
    pub backoff: Duration,
    /// Time the server spends on each request.
    #[serde(with = "serde_text", default)]
    pub service_time: Duration,
    /// Planted bug: resend mutations after they may have been applied.
    #[serde(default)]
    pub retry_unsafe: bool,
}

fn default_attempt_timeout() -> Duration {
    Duration::from_millis(200)
}
fn default_max_attempts() -> u32 {
    3
}
fn default_backoff() -> Duration {
    Duration::from_millis(50)
}

pub struct RegisterTarget;

impl Target for RegisterTarget {
    fn name(&self) -> &'static str {
        "register"
    }

    fn description(&self) -> &'static str {
        "single in-memory register server over TCP; clients time out and retry"
    }

    fn settings_template(&self) -> &'static str {
        "# Per-attempt client timeout, attempts per operation, pause between them.\n\
         attempt_timeout = \"200ms\"\n\
         max_attempts = 3\n\
         backoff = \"50ms\"\n\
         # Time the server spends per request.\n\
         service_time = \"0ms\"\n\
         # Planted bug: resend writes and cas after they may have been applied.\n\
         retry_unsafe = false\n"
    }

    fn planted_bugs(&self) -> Vec<PlantedBug> {
        vec![PlantedBug {
            name: "blind-retry",
            description: "the client resends writes and cas after a timeout, so a late or repeated copy is applied",
            overrides: &["target.retry_unsafe=true"],
            caught_by: "linearizable",
        }]
    }

    fn configure(&self, settings: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        let settings: RegisterSettings = parse_settings(settings)?;
        if settings.max_attempts == 0 || settings.max_attempts > MAX_ATTEMPTS_LIMIT {
            return Err(SettingsError::new(
                "max_attempts",
                format!(
                    "expected 1 to {MAX_ATTEMPTS_LIMIT}, found {}",
                    settings.max_attempts
                ),
            ));
        }
        if settings.attempt_timeout.is_zero() {
            return Err(SettingsError::new(
                "attempt_timeout",
                "must be greater than zero",
            ));
        }
        Ok(Arc::new(RegisterSystem { settings }))
    }
}

pub struct RegisterSystem {
    settings: RegisterSettings,
}

impl System for RegisterSystem {
    fn hosts(&self) -> Vec<String> {
        vec![HOST.to_string()]
    }

    fn install(&self, sim: &mut turmoil::Sim<'_>, _env: &HostEnv) {
        let service_time = self.settings.service_time;
        sim.host(HOST, move || serve(service_time));
    }

    fn client(&self, _process: u64, _env: &ClientEnv) -> Box<dyn Client> {
        Box::new(RegisterClient {
            settings: self.settings.clone(),
            rpc: RpcClient::new(HOST, PORT).call_timeout(self.settings.attempt_timeout),
        })
    }

    fn op_kinds(&self) -> Vec<OpKind> {
        vec![OpKind::Read, OpKind::Write, OpKind::Cas]
    }
}

/// What a client asks of the server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    Read {
        key: String,
    },
    Write {
        key: String,
        value: Value,
    },
    Cas {
        key: String,
        expected: Value,
        new: Value,
    },
}

/// The server's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// A read's value (`nil` if never written).
    Value(Value),
    /// A write, or a cas whose comparison held, was applied.
    Done,
    /// A cas whose comparison failed: nothing changed.
    Mismatch,
}

/// The server: a fresh, empty map every time the host (re)starts.
pub async fn serve(service_time: Duration) -> turmoil::Result {
    let registers: Rc<RefCell<BTreeMap<String, Value>>> = Default::default();
    tracing::info!(target: "register", "server listening; registers empty");
    RpcServer::new(PORT)
        .serve(move |request| {
            let reply = apply(&registers, request);
            async move {
                if !service_time.is_zero() {
                    tokio::time::sleep(service_time).await;
                }
                reply
            }
        })
        .await
}

fn apply(registers: &RefCell<BTreeMap<String, Value>>, request: Request) -> Reply {
    let mut registers = registers.borrow_mut();
    match request {
        Request::Read { key } => Reply::Value(registers.get(&key).cloned().unwrap_or(Value::Nil)),
        Request::Write { key, value } => {
            registers.insert(key, value);
            Reply::Done
        }
        Request::Cas { key, expected, new } => {
            let current = registers.get(&key).cloned().unwrap_or(Value::Nil);
            if current == expected {
                registers.insert(key, new);
                Reply::Done
            } else {
                Reply::Mismatch
            }
        }
    }
}

struct RegisterClient {
    settings: RegisterSettings,
    rpc: RpcClient<Request, Reply>,
}

impl RegisterClient {
    async fn run(&mut self, op: &Op) -> Completion {
        let key = op.key.clone().unwrap_or_else(|| "k0".into());
        let request = match (op.f, &op.value) {
            (OpKind::Read, _) => Request::Read { key },
            (OpKind::Write, v) => Request::Write {
                key,
                value: v.clone(),
            },
            (OpKind::Cas, Value::List(pair)) if pair.len() == 2 => Request::Cas {
                key,
                expected: pair[0].clone(),
                new: pair[1].clone(),
            },
            _ => return Completion::unavailable(op.value.clone(), "unsupported operation"),
        };
        // Only a read may be repeated after it may have been applied. Even
        // a plain write is unsafe to resend: the first copy can still be
        // applied later, after another client's write, undoing it.
        let idempotent = op.f == OpKind::Read || self.settings.retry_unsafe;
        let mut maybe_applied = false;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error: CallError = match self.rpc.call(&request).await {
                Ok(reply) => {
                    let completion = match reply {
                        Reply::Value(value) => Completion::ok(value),
                        Reply::Done => Completion::ok(op.value.clone()),
                        Reply::Mismatch => Completion::fail(op.value.clone()),
                    };
                    // A cas that fails after an earlier attempt may have
                    // applied it proves nothing about that earlier attempt.
                    let completion = if maybe_applied
                        && completion.outcome == Outcome::Fail
                        && !self.settings.retry_unsafe
                    {
                        Completion::info(op.value.clone()).with_error("retried-after-timeout")
                    } else {
                        completion
                    };
                    return completion.with_attempts(attempts);
                }
                Err(error) => error,
            };
            maybe_applied |= error.may_have_been_applied();
            let may_retry = !maybe_applied || idempotent;
            if attempts >= self.settings.max_attempts || !may_retry {
                let completion = if maybe_applied && op.f.is_mutation() {
                    // This attempt may have failed before sending, but an
                    // earlier one may have been applied.
                    Completion::info(op.value.clone()).with_error(error.reason())
                } else {
                    error.completion(op)
                };
                return completion.with_attempts(attempts);
            }
            tracing::debug!(target: "register::client", attempt = attempts, "retrying");
            tokio::time::sleep(self.settings.backoff).await;
        }
    }
}

impl Client for RegisterClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(self.run(op))
    }
}
