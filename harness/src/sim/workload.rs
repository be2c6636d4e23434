//! The workload: logical clients issuing operations and recording them.
//!
//! Logical clients are tasks inside a few client hosts, not hosts of their
//! own (every host costs a poll per tick). Each runs a closed loop: think,
//! pick an operation from the mix, invoke it through the target's client,
//! record invoke and completion with simulated times. An operation the
//! target does not finish within the workload timeout is recorded as `info`
//! and its client is replaced under a new process number, as Jepsen does.

use super::with_log;
use crate::history::{Event, EventType, Op, OpKind, Outcome, Value, FINAL_READER_PROCESS};
use crate::plan::Plan;
use crate::seed::Seed;
use crate::target::{ClientEnv, Completion, System};
use rand::Rng;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Pause between final read attempts.
const FINAL_READ_RETRY: Duration = Duration::from_millis(100);

/// State the client hosts of one run share (they run on one thread).
pub(super) struct Shared {
    pub plan: Plan,
    pub system: Arc<dyn System>,
    pub env: ClientEnv,
    /// Next unique value for writes, appends and enqueues.
    next_value: Cell<i64>,
    ops_issued: Cell<u64>,
    clients_done: Cell<u32>,
}

impl Shared {
    pub fn new(plan: Plan, system: Arc<dyn System>, seed: Seed) -> Rc<Shared> {
        let env = ClientEnv {
            seed,
            hosts: plan.servers.clone(),
        };
        Rc::new(Shared {
            plan,
            system,
            env,
            next_value: Cell::new(1),
            ops_issued: Cell::new(0),
            clients_done: Cell::new(0),
        })
    }

    fn unique_value(&self) -> i64 {
        let v = self.next_value.get();
        self.next_value.set(v + 1);
        v
    }
}

fn now_ns() -> u64 {
    turmoil::sim_elapsed().map_or(0, |d| d.as_nanos() as u64)
}

fn record(
    process: u64,
    kind: EventType,
    op: &Op,
    value: Value,
    completion: Option<&Completion>,
    error: Option<String>,
) {
    let event = Event {
        time_ns: now_ns(),
        process,
        kind,
        op: Op {
            f: op.f,
            key: op.key.clone(),
            value,
        },
        attempts: completion.map_or(0, |c| c.attempts),
        degraded: completion.is_some_and(|c| c.degraded),
        error,
    };
    with_log(|log| log.push_event(event));
}

/// Runs one operation with the harness deadline and records it. Returns
/// whether the outcome is known (false: the process must be retired).
async fn invoke_and_record(
    client: &mut dyn crate::target::Client,
    process: u64,
    op: &Op,
    timeout: Duration,
) -> (bool, Option<Completion>) {
    record(process, EventType::Invoke, op, op.value.clone(), None, None);
    match tokio::time::timeout(timeout, client.invoke(op)).await {
        Ok(completion) => {
            let kind = match completion.outcome {
                Outcome::Ok => EventType::Ok,
                Outcome::Fail => EventType::Fail,
                Outcome::Info => EventType::Info,
            };
            record(
                process,
                kind,
                op,
                completion.value.clone(),
                Some(&completion),
                completion.error.clone(),
            );
            (completion.outcome != Outcome::Info, Some(completion))
        }
        Err(_) => {
            let error = Some("harness-timeout".to_string());
            record(process, EventType::Info, op, op.value.clone(), None, error);
            (false, None)
        }
    }
}

/// The software of client host `host_index`.
pub(super) async fn client_host(shared: Rc<Shared>, host_index: u32) -> turmoil::Result {
    let w = &shared.plan.workload;
    let clients: Vec<u32> = (0..w.clients)
        .filter(|c| c % w.client_hosts == host_index)
        .collect();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|c| tokio::task::spawn_local(logical_client(shared.clone(), c)))
        .collect();
    for task in tasks {
        task.await?;
        shared.clients_done.set(shared.clients_done.get() + 1);
    }
    if host_index == 0 && w.final_read {
        final_reads(&shared).await;
    }
    Ok(())
}

async fn logical_client(shared: Rc<Shared>, client_index: u32) {
    let plan = &shared.plan;
    let w = &plan.workload;
    let mut rng = shared.env.seed.stream(&format!("workload/{client_index}"));
    let kinds: Vec<(OpKind, u32)> = w
        .mix
        .iter()
        .map(|(k, v)| (*k, *v))
        .filter(|(_, v)| *v > 0)
        .collect();
    let total_weight: u32 = kinds.iter().map(|(_, v)| v).sum();
    let txn_shape = w.txn_shape();
    // Validation bounds the rate, but converting float seconds panics on
    // a value too large for a Duration: here it is just "never".
    let think_mean = Duration::try_from_secs_f64(1.0 / w.rate).ok();
    let end = plan.duration;

    let mut process = u64::from(client_index);
    let mut client = shared.system.client(process, &shared.env);
    // What this client last saw per key, to aim its compare-and-sets.
    let mut last_seen: BTreeMap<String, Value> = BTreeMap::new();

    loop {
        // A client whose next operation would start after the workload's
        // end has nothing left to do: it waits out the workload and stops,
        // rather than sleeping into the drain, where a long think time
        // would look like a hang.
        let factor = rng.random_range(0.5..1.5);
        let think = think_mean
            .and_then(|mean| Duration::try_from_secs_f64(factor * mean.as_secs_f64()).ok());
        let left = end.saturating_sub(Duration::from_nanos(now_ns()));
        match think {
            Some(think) if think < left => tokio::time::sleep(think).await,
            _ => {
                tokio::time::sleep(left).await;
                break;
            }
        }
        if shared.ops_issued.get() >= w.max_ops {
            with_log(|log| {
                log.max_ops_reached_ns.get_or_insert(now_ns());
            });
            break;
        }
        shared.ops_issued.set(shared.ops_issued.get() + 1);

        let mut pick = rng.random_range(0..total_weight);
        let f = kinds
            .iter()
            .find(|(_, weight)| {
                if pick < *weight {
                    true
                } else {
                    pick -= weight;
                    false
                }
            })
            .map(|(k, _)| *k)
            .expect("weights sum to total");
        let key = format!("k{}", rng.random_range(0..w.keys));
        let value = match f {
            OpKind::Read | OpKind::Dequeue => Value::Nil,
            OpKind::Write | OpKind::Enqueue => Value::Int(shared.unique_value()),
            OpKind::Append => Value::Str(format!("{} ", shared.unique_value())),
            OpKind::Add => Value::Int(1),
            // Drawn only for `txn` picks, after the key every pick draws,
            // so workloads without transactions use the stream as before.
            OpKind::Txn => Value::Txn(super::txn_gen::generate(
                &txn_shape,
                w.keys,
                &mut rng,
                || shared.unique_value(),
            )),
            OpKind::Cas => {
                let expected = last_seen.get(&key).cloned().unwrap_or(Value::Nil);
                Value::List(vec![expected, Value::Int(shared.unique_value())])
            }
        };
        let op = Op {
            f,
            // A transaction names its keys in its micro-operations.
            key: (f != OpKind::Txn).then(|| key.clone()),
            value,
        };
        let (known, completion) = invoke_and_record(client.as_mut(), process, &op, w.timeout).await;
        if let Some(c) = completion.filter(|c| c.outcome == Outcome::Ok) {
            match f {
                OpKind::Read => {
                    last_seen.insert(key, c.value);
                }
                OpKind::Write => {
                    last_seen.insert(key, op.value.clone());
                }
                OpKind::Cas => {
                    if let Value::List(pair) = &op.value {
                        last_seen.insert(key, pair[1].clone());
                    }
                }
                _ => {}
            }
        }
        if !known {
            process += u64::from(w.clients);
            client = shared.system.client(process, &shared.env);
        }
    }
}

/// After every workload client is done (and so after the last heal, which
/// is within the workload), read every key until it answers.
async fn final_reads(shared: &Shared) {
    let w = &shared.plan.workload;
    while shared.clients_done.get() < w.clients {
        tokio::time::sleep(shared.plan.tick).await;
    }
    let deadline = (shared.plan.duration + shared.plan.drain).as_nanos() as u64;
    let mut process = FINAL_READER_PROCESS;
    let mut client = shared.system.client(process, &shared.env);
    for k in 0..w.keys {
        let op = Op {
            f: OpKind::Read,
            key: Some(format!("k{k}")),
            value: Value::Nil,
        };
        loop {
            // Leave room for the last attempt to finish inside the budget.
            if now_ns() + w.timeout.as_nanos() as u64 >= deadline {
                return;
            }
            let (known, completion) =
                invoke_and_record(client.as_mut(), process, &op, w.timeout).await;
            if completion.is_some_and(|c| c.outcome == Outcome::Ok) {
                break;
            }
            if !known {
                process += 1;
                client = shared.system.client(process, &shared.env);
            }
            tokio::time::sleep(FINAL_READ_RETRY).await;
        }
    }
}
