//! The system under test: a checksummed append-only log on each host's
//! disk, served over TCP, recovering (and checking) its records at boot,
//! and logging its wall clock every [`CLOCK_TICK`].

use harness::disk::Disk;
use harness::history::{Op, OpKind, Value};
use harness::seed::fnv1a;
use harness::target::{
    parse_settings, Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, SettingsError, System,
    Target,
};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use target_sims::systems::wire::LineConn;
use turmoil::net::{TcpListener, TcpStream};

const PORT: u16 = 7300;
const HOSTS: [&str; 2] = ["n1", "n2"];
const LOG_DIR: &str = "/log";
const LOG: &str = "/log/records";
const CHECKSUM_HEX: usize = 16;
/// How often each server logs its wall clock.
const CLOCK_TICK: Duration = Duration::from_millis(250);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(500);
const RECOVERY_RETRY: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSettings {
    /// fsync each append before acknowledging it.
    #[serde(default = "yes")]
    sync: bool,
    /// Check each record's checksum when reading.
    #[serde(default = "yes")]
    verify: bool,
    /// Pad every record to this many bytes (0: no padding), so one record
    /// spans several of turmoil's 512-byte torn-write blocks.
    #[serde(default)]
    record_bytes: usize,
}

fn yes() -> bool {
    true
}

pub struct DurableLog;

impl Target for DurableLog {
    fn name(&self) -> &'static str {
        "dlog"
    }
    fn description(&self) -> &'static str {
        "a checksummed append-only log on each host's disk"
    }
    fn configure(&self, settings: &toml::Table) -> Result<Arc<dyn System>, SettingsError> {
        Ok(Arc::new(LogSystem(parse_settings(settings)?)))
    }
}

struct LogSystem(LogSettings);

impl System for LogSystem {
    fn hosts(&self) -> Vec<String> {
        HOSTS.iter().map(|h| h.to_string()).collect()
    }
    fn install(&self, sim: &mut turmoil::Sim<'_>, env: &HostEnv) {
        for host in HOSTS {
            let (settings, env) = (self.0, env.clone());
            sim.host(host, move || serve(settings, env.clone(), host));
        }
    }
    fn client(&self, _: u64, _: &ClientEnv) -> Box<dyn Client> {
        Box::new(LogClient)
    }
}

fn record(settings: LogSettings, value: i64) -> String {
    let mut payload = value.to_string();
    let unpadded = CHECKSUM_HEX + 1 + payload.len() + 1;
    payload.extend(std::iter::repeat_n(
        '.',
        settings.record_bytes.saturating_sub(unpadded),
    ));
    format!("{:016x} {payload}\n", fnv1a(payload.as_bytes()))
}

/// What a scan of the log found.
#[derive(Debug, Default)]
struct Scan {
    values: Vec<i64>,
    /// Bytes of whole records that passed the checks.
    valid_bytes: usize,
    /// A record failed its checksum or was cut short.
    damaged: bool,
}

/// Reads records up to the first damaged one. Without `verify`, records
/// are taken at their word: whatever digits the payload starts with.
fn scan(data: &[u8], verify: bool) -> Scan {
    let mut scan = Scan::default();
    let mut rest = data;
    while !rest.is_empty() {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            scan.damaged = true; // a torn tail
            break;
        };
        let line = &rest[..end];
        let parsed = (line.len() > CHECKSUM_HEX + 1 && line[CHECKSUM_HEX] == b' ')
            .then(|| (&line[..CHECKSUM_HEX], &line[CHECKSUM_HEX + 1..]));
        let value = |payload: &[u8]| -> Option<i64> {
            let digits: Vec<u8> = payload
                .iter()
                .copied()
                .take_while(|b| b.is_ascii_digit())
                .collect();
            std::str::from_utf8(&digits).ok()?.parse().ok()
        };
        match parsed {
            Some((sum, payload))
                if !verify || sum == format!("{:016x}", fnv1a(payload)).as_bytes() =>
            {
                if let Some(v) = value(payload) {
                    scan.values.push(v);
                }
            }
            _ if !verify => {
                if let Some(v) = value(line) {
                    scan.values.push(v);
                }
            }
            _ => {
                scan.damaged = true;
                break;
            }
        }
        scan.valid_bytes += end + 1;
        rest = &rest[end + 1..];
    }
    scan
}

async fn serve(settings: LogSettings, env: HostEnv, host: &'static str) -> turmoil::Result {
    let disk = env.disk(host);
    // A restart inside a disk-error window cannot recover yet: retry.
    while let Err(err) = recover(&disk).await {
        tracing::info!(target: "dlog", error = %err, "recovery failed; retrying");
        tokio::time::sleep(RECOVERY_RETRY).await;
    }
    let clock = env.clock(host);
    tokio::task::spawn_local(async move {
        let start = tokio::time::Instant::now();
        loop {
            tracing::info!(
                target: "dlog",
                wall_ms = clock.now_ms(),
                sim_ms = start.elapsed().as_millis() as u64,
                "clock"
            );
            tokio::time::sleep(CLOCK_TICK).await;
        }
    });
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let disk = disk.clone();
        tokio::task::spawn_local(async move {
            let mut conn = LineConn::new(stream);
            while let Ok(Some(line)) = conn.recv().await {
                let reply = handle(&disk, settings, line.to_string()).await;
                if conn.send(&reply).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// Keeps the valid prefix of the log and cuts off the rest; makes sure the
/// log file exists durably, so later unsynced appends are torn at a crash
/// rather than the whole file vanishing.
async fn recover(disk: &Disk) -> std::io::Result<()> {
    disk.create_dir_all(LOG_DIR).await?;
    if !disk.exists(LOG) {
        disk.write(LOG, b"").await?;
        disk.sync(LOG).await?;
    }
    let data = disk.read(LOG).await?;
    let scan = scan(&data, true);
    tracing::info!(
        target: "dlog",
        file_bytes = data.len(),
        valid_bytes = scan.valid_bytes,
        records = scan.values.len(),
        "recovered"
    );
    if scan.valid_bytes < data.len() {
        disk.truncate(LOG, scan.valid_bytes as u64).await?;
        disk.sync(LOG).await?;
    }
    Ok(())
}

fn error_word(err: &std::io::Error) -> &'static str {
    if err.kind() == std::io::ErrorKind::StorageFull {
        "enospc"
    } else {
        "eio"
    }
}

async fn handle(disk: &Disk, settings: LogSettings, line: String) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    match words.as_slice() {
        ["a", value] => {
            let Ok(value) = value.parse::<i64>() else {
                return "error bad-value".into();
            };
            // A failed call did nothing: a definite failure.
            if let Err(err) = disk.append(LOG, record(settings, value).as_bytes()).await {
                return format!("fail {}", error_word(&err));
            }
            if settings.sync {
                // Appended but maybe not durable: the outcome is unknown.
                if let Err(err) = disk.sync(LOG).await {
                    return format!("error {}", error_word(&err));
                }
            }
            "ok".into()
        }
        ["r"] => match disk.read(LOG).await {
            Err(err) => format!("fail {}", error_word(&err)),
            Ok(data) => {
                let scan = scan(&data, settings.verify);
                if scan.damaged {
                    "fail corrupt".into()
                } else {
                    let values: Vec<String> = scan.values.iter().map(i64::to_string).collect();
                    format!("ok {}", values.join(","))
                }
            }
        },
        _ => "error bad-request".into(),
    }
}

struct LogClient;

impl Client for LogClient {
    fn invoke<'a>(&'a mut self, op: &'a Op) -> LocalBoxFuture<'a, Completion> {
        Box::pin(async move {
            let host = op
                .key
                .as_deref()
                .map_or("n1", |k| HOSTS[k[1..].parse::<usize>().unwrap() % 2]);
            let request = match (&op.f, &op.value) {
                (OpKind::Append, Value::Str(piece)) => format!("a {}", piece.trim()),
                _ => "r".to_string(),
            };
            let exchange = async {
                let stream = TcpStream::connect((host, PORT)).await.ok()?;
                let mut conn = LineConn::new(stream);
                conn.send(&request).await.ok()?;
                conn.recv().await.ok().flatten().map(str::to_string)
            };
            let reply = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
                .await
                .ok()
                .flatten();
            let is_read = op.f == OpKind::Read;
            match reply
                .as_deref()
                .map(|r| r.split_once(' ').unwrap_or((r, "")))
            {
                Some(("ok", values)) if is_read => {
                    let text: String = values
                        .split(',')
                        .filter(|v| !v.is_empty())
                        .map(|v| format!("{v} "))
                        .collect();
                    Completion::ok(Value::Str(text))
                }
                Some(("ok", _)) => Completion::ok(op.value.clone()),
                Some(("fail", why)) => Completion::unavailable(op.value.clone(), why),
                _ if is_read => Completion::unavailable(Value::Nil, "no answer"),
                Some((_, why)) => Completion::info(op.value.clone()).with_error(why),
                None => Completion::info(op.value.clone()).with_error("timeout"),
            }
        })
    }
}
