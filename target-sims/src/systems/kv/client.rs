//! The harness's client of the KV store.
//!
//! It keeps a guess of the leader (starting from a replica chosen by its
//! seeded RNG), follows redirects, and moves to the next replica when one
//! is unreachable or cannot serve. Each request to one replica is bounded
//! by `attempt_timeout`, and an operation by `max_attempts` requests.
//!
//! What an outcome means decides what may be retried. A read changes
//! nothing, so it is retried wherever and whenever. A mutation is retried
//! only while it certainly did not happen: the replica redirected it or
//! said it was unavailable, or the request never left. Once a mutation
//! may have reached a leader (its answer timed out, the connection broke
//! after sending, or the leader said `unknown`), it is reported `info` and
//! never resent — a resent `cas` or append could apply twice.

use super::node::PORT;
use super::protocol::{Command, FrameConn, Reply, Request};
use super::settings::KvConfig;
use harness::history::{Op, OpKind, Value};
use harness::target::{Client, Completion, LocalBoxFuture};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use tokio::time::Instant;
use turmoil::net::TcpStream;

mod txn;

pub struct KvClient {
    config: Arc<KvConfig>,
    leader_guess: usize,
    conn: Option<(usize, FrameConn)>,
}

/// How one request to one replica ended without an answer.
enum Failed {
    /// Nothing was sent.
    NotSent,
    /// The request was sent; the replica may have acted on it.
    MaybeDelivered,
}

/// A workload value as the store's text (the KV model's convention:
/// integers by their decimal text, `nil` as the empty string).
pub fn value_text(value: &Value) -> String {
    match value {
        Value::Nil => String::new(),
        Value::Int(n) => n.to_string(),
        Value::Str(s) => s.clone(),
        Value::List(_) | Value::Txn(_) => String::new(),
    }
}

/// The store's text as a workload value: the empty string is `nil`, an
/// integer's canonical text is that integer, anything else a string.
pub fn text_value(text: &str) -> Value {
    if text.is_empty() {
        return Value::Nil;
    }
    match text.parse::<i64>() {
        Ok(n) if n.to_string() == text => Value::Int(n),
        _ => Value::Str(text.to_string()),
    }
}

impl KvClient {
    pub fn new(config: Arc<KvConfig>, mut rng: ChaCha8Rng) -> KvClient {
        let leader_guess = rng.random_range(0..config.replicas);
        KvClient {
            config,
            leader_guess,
            conn: None,
        }
    }

    fn next_replica(&mut self) {
        self.leader_guess = (self.leader_guess + 1) % self.config.replicas;
    }

    async fn attempt(&mut self, text: &str) -> Result<Reply, Failed> {
        let deadline = Instant::now() + self.config.attempt_timeout;
        let target = self.leader_guess;
        if self.conn.as_ref().is_none_or(|(to, _)| *to != target) {
            self.conn = None;
            let host = KvConfig::host(target);
            let connect = TcpStream::connect((host.as_str(), PORT));
            match tokio::time::timeout_at(deadline, connect).await {
                Ok(Ok(stream)) => self.conn = Some((target, FrameConn::new(stream))),
                _ => return Err(Failed::NotSent),
            }
        }
        let (_, conn) = self.conn.as_mut().expect("connected above");
        let exchange = async {
            conn.send(text).await.map_err(|_| Failed::NotSent)?;
            match conn.recv().await {
                Ok(Some(reply)) => Reply::decode(&reply).map_err(|_| Failed::MaybeDelivered),
                _ => Err(Failed::MaybeDelivered),
            }
        };
        let result = match tokio::time::timeout_at(deadline, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Failed::MaybeDelivered),
        };
        if result.is_err() {
            // A late answer must not be taken for the next request's.
            self.conn = None;
        }
        result
    }

    async fn run(&mut self, op: &Op) -> Completion {
        let key = op.key.clone().unwrap_or_else(|| "k0".into());
        let request = match (op.f, &op.value) {
            (OpKind::Read, _) => Request::Get { key },
            (OpKind::Write, v) => Request::Client(Command::Put {
                key,
                value: value_text(v),
            }),
            (OpKind::Append, v) => Request::Client(Command::Append {
                key,
                value: value_text(v),
            }),
            (OpKind::Cas, Value::List(pair)) if pair.len() == 2 => Request::Client(Command::Cas {
                key,
                expected: value_text(&pair[0]),
                new: value_text(&pair[1]),
            }),
            (OpKind::Txn, Value::Txn(mops)) => return self.run_txn(mops).await,
            _ => return Completion::unavailable(op.value.clone(), "unsupported operation"),
        };
        let mutation = op.f != OpKind::Read;
        let is_cas = op.f == OpKind::Cas;
        let answer = self
            .exchange(&request.encode(), mutation, |reply| match reply {
                Reply::Value(_) => !mutation,
                Reply::Done => mutation,
                Reply::CasFailed => is_cas,
                _ => false,
            })
            .await;
        match answer {
            Answer::Reply(Reply::Value(v), attempts) => {
                Completion::ok(text_value(&v)).with_attempts(attempts)
            }
            Answer::Reply(Reply::CasFailed, attempts) => {
                Completion::fail(op.value.clone()).with_attempts(attempts)
            }
            Answer::Reply(_, attempts) => Completion::ok(op.value.clone()).with_attempts(attempts),
            failed => failed.completion(op.value.clone()),
        }
    }

    /// Sends one request until a replica gives an answer `accepts` takes,
    /// following redirects. `mutation`: the request may change state, so
    /// once it may have been delivered it is never resent.
    async fn exchange(
        &mut self,
        text: &str,
        mutation: bool,
        accepts: impl Fn(&Reply) -> bool,
    ) -> Answer {
        let mut last_error = "unreachable".to_string();
        for attempt in 1..=self.config.max_attempts {
            let result = self.attempt(text).await;
            match result {
                Ok(reply) if accepts(&reply) => return Answer::Reply(reply, attempt),
                Ok(Reply::Redirect(Some(leader)))
                    if leader < self.config.replicas && leader != self.leader_guess =>
                {
                    self.leader_guess = leader;
                    last_error = "redirected".into();
                    continue;
                }
                Ok(Reply::Redirect(_)) => {
                    last_error = "no leader".into();
                    self.next_replica();
                }
                Ok(Reply::Unavailable(why)) => {
                    last_error = why;
                    self.next_replica();
                }
                Ok(Reply::Unknown(why)) if mutation => return Answer::Unknown(why, attempt),
                Ok(Reply::Unknown(why)) => {
                    last_error = why;
                    self.next_replica();
                }
                Ok(other) => {
                    // An answer that does not fit the request: we cannot
                    // tell what happened.
                    let why = format!("unexpected reply {}", other.encode());
                    return if mutation {
                        Answer::Unknown(why, attempt)
                    } else {
                        Answer::NotDone(why, attempt)
                    };
                }
                Err(Failed::NotSent) => {
                    last_error = "unreachable".into();
                    self.next_replica();
                }
                Err(Failed::MaybeDelivered) if mutation => {
                    return Answer::Unknown("timeout".into(), attempt)
                }
                Err(Failed::MaybeDelivered) => {
                    last_error = "timeout".into();
                    self.next_replica();
                }
            }
            tokio::time::sleep(self.config.backoff).await;
        }
        Answer::NotDone(last_error, self.config.max_attempts)
    }
}

/// How [`KvClient::exchange`] ended, with the requests it sent.
enum Answer {
    /// An answer the caller accepts.
    Reply(Reply, u32),
    /// The request may have taken effect.
    Unknown(String, u32),
    /// The request certainly did not take effect.
    NotDone(String, u32),
}

impl Answer {
    /// A completion for an answer that is not a reply.
    fn completion(self, value: Value) -> Completion {
        match self {
            Answer::Reply(reply, attempts) => Completion::info(value)
                .with_error(format!("unexpected reply {}", reply.encode()))
                .with_attempts(attempts),
            Answer::Unknown(why, attempts) => Completion::info(value)
                .with_error(why)
                .with_attempts(attempts),
            Answer::NotDone(why, attempts) => {
                Completion::unavailable(value, why).with_attempts(attempts)
            }
        }
    }
}

impl Client for KvClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(self.run(op))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_store_text() {
        for v in [
            Value::Nil,
            Value::Int(42),
            Value::Int(-3),
            Value::Str("1 2 ".into()),
            Value::Str("007".into()),
        ] {
            assert_eq!(text_value(&value_text(&v)), v);
        }
    }
}
