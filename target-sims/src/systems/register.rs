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
//! Planted bug (`retry_unsafe = true`): the client resends mutations after a
//! timeout as if they were idempotent. A `cas` whose first attempt was
//! applied but whose answer was lost then fails its comparison and is
//! reported `fail` although it happened, and a resent write can land after a
//! newer one: both are linearizability violations.

use crate::systems::wire::{decode_value, encode_value, LineConn};
use harness::duration::serde_text;
use harness::history::{Op, OpKind, Outcome, Value};
use harness::target::{
    parse_settings, Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, PlantedBug,
    SettingsError, System, Target,
};
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use turmoil::net::{TcpListener, TcpStream};

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
            conn: None,
        })
    }
}

/// The server: a fresh, empty map every time the host (re)starts.
pub async fn serve(service_time: Duration) -> turmoil::Result {
    let registers: Rc<RefCell<BTreeMap<String, Value>>> = Default::default();
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    tracing::info!(target: "register", "server listening; registers empty");
    loop {
        let (stream, _) = listener.accept().await?;
        let registers = registers.clone();
        tokio::task::spawn_local(async move {
            let mut conn = LineConn::new(stream);
            while let Ok(Some(line)) = conn.recv().await {
                let reply = apply(&registers, line);
                if !service_time.is_zero() {
                    tokio::time::sleep(service_time).await;
                }
                if conn.send(&reply).await.is_err() {
                    break;
                }
            }
        });
    }
}

fn apply(registers: &RefCell<BTreeMap<String, Value>>, line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let mut registers = registers.borrow_mut();
    match words.as_slice() {
        ["r", key] => {
            let value = registers.get(*key).cloned().unwrap_or(Value::Nil);
            format!("ok {}", encode_value(&value))
        }
        ["w", key, value] => {
            registers.insert(key.to_string(), decode_value(value));
            "ok".into()
        }
        ["c", key, expected, new] => {
            let current = registers.get(*key).cloned().unwrap_or(Value::Nil);
            if current == decode_value(expected) {
                registers.insert(key.to_string(), decode_value(new));
                "ok".into()
            } else {
                "fail".into()
            }
        }
        _ => "error bad request".into(),
    }
}

struct RegisterClient {
    settings: RegisterSettings,
    conn: Option<LineConn>,
}

/// How far one attempt got before it failed.
enum AttemptError {
    /// Nothing reached the server.
    NotSent,
    /// The request was sent; the server may have applied it.
    MaybeApplied,
}

impl RegisterClient {
    async fn attempt(&mut self, request: &str) -> Result<String, AttemptError> {
        if self.conn.is_none() {
            let stream = TcpStream::connect((HOST, PORT))
                .await
                .map_err(|_| AttemptError::NotSent)?;
            self.conn = Some(LineConn::new(stream));
        }
        let conn = self.conn.as_mut().expect("connected above");
        conn.send(request)
            .await
            .map_err(|_| AttemptError::NotSent)?;
        match conn.recv().await {
            Ok(Some(reply)) => Ok(reply.to_string()),
            _ => Err(AttemptError::MaybeApplied),
        }
    }

    async fn run(&mut self, op: &Op) -> Completion {
        let key = op.key.as_deref().unwrap_or("k0");
        let request = match (op.f, &op.value) {
            (OpKind::Read, _) => format!("r {key}"),
            (OpKind::Write, v) => format!("w {key} {}", encode_value(v)),
            (OpKind::Cas, Value::List(pair)) if pair.len() == 2 => format!(
                "c {key} {} {}",
                encode_value(&pair[0]),
                encode_value(&pair[1])
            ),
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
            let result =
                tokio::time::timeout(self.settings.attempt_timeout, self.attempt(&request)).await;
            match result {
                Ok(Ok(reply)) => {
                    let completion = match reply.split_once(' ') {
                        _ if reply == "ok" => Completion::ok(op.value.clone()),
                        Some(("ok", value)) => Completion::ok(decode_value(value)),
                        _ if reply == "fail" => Completion::fail(op.value.clone()),
                        _ => Completion::info(op.value.clone()).with_error(reply.clone()),
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
                Ok(Err(AttemptError::NotSent)) => {
                    self.conn = None;
                }
                Ok(Err(AttemptError::MaybeApplied)) | Err(_) => {
                    // A timed-out connection may still deliver a stale
                    // answer later: never reuse it.
                    self.conn = None;
                    maybe_applied = true;
                }
            }
            let may_retry = !maybe_applied || idempotent;
            if attempts >= self.settings.max_attempts || !may_retry {
                let completion = if maybe_applied && op.f.is_mutation() {
                    Completion::info(op.value.clone()).with_error("timeout")
                } else if maybe_applied {
                    Completion::unavailable(op.value.clone(), "timeout")
                } else {
                    Completion::unavailable(op.value.clone(), "unreachable")
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
