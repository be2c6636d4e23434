//! Disk and clock faults, each observed by a system under test: a small
//! durable log server defined here, which keeps every appended value as a
//! checksummed record in a file on its host's [`harness::disk::Disk`],
//! fsyncs before it acknowledges (unless told not to), checks the records
//! when it reads them and when it recovers after a restart, and logs its
//! host's wall clock.

use harness::disk::Disk;
use harness::duration::SignedDuration;
use harness::history::{Op, OpKind, Operation, Outcome, Value};
use harness::record::RunRecord;
use harness::scenario::{
    DiskOp, FaultEventSpec, RandomFaultKind, RandomFaultsSpec, ScenarioBuilder,
};
use harness::seed::fnv1a;
use harness::suite::{execute, ExecOptions, LoadedScenario, SeedRun};
use harness::target::{
    parse_settings, Client, ClientEnv, Completion, HostEnv, LocalBoxFuture, Registry,
    SettingsError, System, Target,
};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use target_sims::systems::wire::LineConn;
use turmoil::net::{TcpListener, TcpStream};

const S: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;

const PORT: u16 = 7300;
const HOSTS: [&str; 2] = ["n1", "n2"];
const LOG_DIR: &str = "/log";
const LOG: &str = "/log/records";
const CHECKSUM_HEX: usize = 16;
/// How often each server logs its wall clock.
const CLOCK_TICK: Duration = Duration::from_millis(250);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(500);
const RECOVERY_RETRY: Duration = Duration::from_millis(100);

// --- The durable log.

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

struct DurableLog;

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

// --- Helpers.

fn run_seed(builder: ScenarioBuilder, seed: u64) -> SeedRun {
    let registry = Registry::new().with_target(DurableLog);
    let loaded = LoadedScenario::from_scenario(builder.build(), &registry).expect("valid scenario");
    execute(&loaded, seed, &ExecOptions::default())
}

/// Seed 1, or `DISK_SEED=N` to check the assertions hold for other seeds.
fn run(builder: ScenarioBuilder) -> SeedRun {
    run_seed(
        builder,
        std::env::var("DISK_SEED").map_or(1, |s| s.parse().unwrap()),
    )
}

/// One client appending and reading on `n1`, 10 s.
fn log(name: &str) -> ScenarioBuilder {
    ScenarioBuilder::new(name, "dlog")
        .duration(S(10))
        .clients(1)
        .rate(20.0)
        .mix(&[(OpKind::Append, 1), (OpKind::Read, 1)])
}

fn ops(r: &SeedRun) -> Vec<Operation> {
    r.record.history.operations().unwrap()
}

fn invoked(op: &Operation, from: Duration, to: Duration) -> bool {
    (from..to).contains(&Duration::from_nanos(op.invoke_ns))
}

fn in_window(ops: &[Operation], from: Duration, to: Duration) -> Vec<Operation> {
    let window: Vec<_> = ops
        .iter()
        .filter(|o| invoked(o, from, to))
        .cloned()
        .collect();
    assert!(!window.is_empty(), "no operations in {from:?}..{to:?}");
    window
}

fn all_ok(ops: &[Operation]) -> bool {
    ops.iter().all(|o| o.outcome == Outcome::Ok)
}

fn latency(op: &Operation) -> Duration {
    Duration::from_nanos(op.latency_ns().unwrap())
}

fn values_read(op: &Operation) -> Vec<i64> {
    match &op.output {
        Value::Str(s) => s.split_whitespace().map(|v| v.parse().unwrap()).collect(),
        _ => Vec::new(),
    }
}

fn appended(op: &Operation) -> i64 {
    match &op.input {
        Value::Str(s) => s.trim().parse().unwrap(),
        other => panic!("append of {other:?}"),
    }
}

/// Trace fields of the `dlog` events with `message`, per host, in order.
fn events(record: &RunRecord, host: &str, message: &str) -> Vec<(Duration, Vec<(String, String)>)> {
    record
        .trace
        .iter()
        .filter(|e| e.source == host && e.target.as_deref() == Some("dlog") && e.message == message)
        .map(|e| (Duration::from_nanos(e.time_ns), e.fields.clone()))
        .collect()
}

fn field(fields: &[(String, String)], name: &str) -> i64 {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
        .1
        .parse()
        .unwrap()
}

fn p99(ops: &[Operation]) -> Duration {
    let mut latencies: Vec<Duration> = ops
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .map(latency)
        .collect();
    latencies.sort();
    latencies[(latencies.len() * 99).div_ceil(100) - 1]
}

// --- disk-error

#[test]
fn io_errors_fail_requests_during_the_window_only() {
    let r = run(log("eio").fault(FaultEventSpec::DiskError {
        at: S(3),
        duration: Some(S(3)),
        host: "n1".into(),
        ops: DiskOp::all(),
        probability: 1.0,
    }));
    let ops = ops(&r);
    assert!(all_ok(&in_window(&ops, S(0), MS(2900))));
    let during = in_window(&ops, MS(3010), MS(5900));
    assert!(
        during
            .iter()
            .all(|o| o.outcome == Outcome::Fail && o.error.as_deref() == Some("eio")),
        "{during:#?}"
    );
    assert!(all_ok(&in_window(&ops, MS(6010), S(10))));
    assert!(r.record.trace.iter().any(|e| e.message == "injected EIO"));
}

#[test]
fn io_errors_hit_only_the_chosen_calls_with_their_probability() {
    // Only fsync fails: reads keep working, appends become unknown.
    let r = run(log("eio-sync").fault(FaultEventSpec::DiskError {
        at: S(3),
        duration: Some(S(3)),
        host: "n1".into(),
        ops: vec![DiskOp::Sync],
        probability: 1.0,
    }));
    let during = in_window(&ops(&r), MS(3010), MS(5900));
    for op in &during {
        match op.f {
            OpKind::Read => assert_eq!(op.outcome, Outcome::Ok),
            _ => assert_eq!(op.outcome, Outcome::Info, "{op:?}"),
        }
    }
    // Half of the calls fail: some requests in the window succeed, some do not.
    let r = run(log("eio-half").fault(FaultEventSpec::DiskError {
        at: S(2),
        duration: Some(S(6)),
        host: "n1".into(),
        ops: DiskOp::all(),
        probability: 0.5,
    }));
    let during = in_window(&ops(&r), MS(2010), MS(7900));
    let ok = during.iter().filter(|o| o.outcome == Outcome::Ok).count();
    assert!(ok > 0 && ok < during.len(), "{ok} of {}", during.len());
}

// --- disk-full

#[test]
fn a_full_disk_rejects_appends_beyond_its_capacity_and_keeps_serving_reads() {
    const RECORD: usize = 700;
    const FIT: usize = 25;
    let r =
        run(log("enospc")
            .setting("record_bytes", RECORD as i64)
            .fault(FaultEventSpec::DiskFull {
                at: S(1),
                duration: Some(S(5)),
                host: "n1".into(),
                capacity_bytes: (FIT * RECORD) as u64,
            }));
    let ops = ops(&r);
    let appends_before_end: Vec<_> = ops
        .iter()
        .filter(|o| o.f == OpKind::Append && invoked(o, S(0), MS(5900)))
        .collect();
    let acked = appends_before_end
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .count();
    assert_eq!(acked, FIT, "exactly capacity / record size fit");
    let first_full = appends_before_end
        .iter()
        .find(|o| o.error.as_deref() == Some("enospc"))
        .expect("appends beyond the capacity fail")
        .invoke_ns;
    assert!(
        first_full > S(1).as_nanos() as u64,
        "not full before the fault"
    );
    let reads: Vec<_> = in_window(&ops, Duration::from_nanos(first_full), MS(5900))
        .into_iter()
        .filter(|o| o.f == OpKind::Read)
        .collect();
    assert!(!reads.is_empty());
    for read in reads {
        assert_eq!(read.outcome, Outcome::Ok);
        assert_eq!(values_read(&read).len(), FIT);
    }
    assert!(
        all_ok(&in_window(&ops, MS(6010), S(10))),
        "space again after the fault"
    );
}

// --- disk-corrupt

#[test]
fn corrupted_reads_are_caught_by_the_checksum_and_served_without_it() {
    let corrupt = |verify: bool| {
        run(log(if verify {
            "corrupt"
        } else {
            "corrupt-unchecked"
        })
        .rate(40.0)
        .setting("verify", verify)
        .fault(FaultEventSpec::DiskCorrupt {
            at: S(3),
            duration: Some(S(3)),
            host: "n1".into(),
            probability: 1.0,
        }))
    };
    // One client: the log holds the appends in the order they were made,
    // so a clean read is a prefix of them.
    let bad_reads = |r: &SeedRun| -> (usize, usize) {
        let ops = ops(r);
        let appends: Vec<i64> = ops
            .iter()
            .filter(|o| o.f == OpKind::Append && o.outcome != Outcome::Fail)
            .map(appended)
            .collect();
        let reads: Vec<&Operation> = ops
            .iter()
            .filter(|o| o.f == OpKind::Read && invoked(o, MS(3010), MS(5900)))
            .collect();
        let wrong = reads
            .iter()
            .filter(|o| o.outcome == Outcome::Ok)
            .filter(|o| {
                let read = values_read(o);
                read.len() > appends.len() || read != appends[..read.len()]
            })
            .count();
        let refused = reads
            .iter()
            .filter(|o| o.error.as_deref() == Some("corrupt"))
            .count();
        assert!(!reads.is_empty());
        (wrong, refused)
    };
    let checked = corrupt(true);
    let (wrong, refused) = bad_reads(&checked);
    assert_eq!(wrong, 0, "the checksum catches every flipped bit");
    assert!(refused > 0);
    assert!(all_ok(&in_window(&ops(&checked), MS(6010), S(10))));
    let unchecked = corrupt(false);
    let (wrong, refused) = bad_reads(&unchecked);
    assert!(wrong > 0, "without the checksum corrupt data is served");
    assert_eq!(refused, 0);
    assert!(unchecked
        .record
        .trace
        .iter()
        .any(|e| e.message == "corrupted a read"));
}

// --- disk-slow

#[test]
fn slow_io_raises_latency_in_its_window() {
    let slow = run(log("slow").fault(FaultEventSpec::DiskSlow {
        at: S(3),
        duration: Some(S(3)),
        host: "n1".into(),
        latency: MS(50),
    }));
    let baseline = run(log("not-slow"));
    assert!(p99(&ops(&baseline)) < MS(10), "{:?}", p99(&ops(&baseline)));
    assert!(p99(&ops(&slow)) >= MS(100), "append + fsync, 50ms each");
    for op in in_window(&ops(&slow), MS(3010), MS(5800)) {
        assert!(latency(&op) >= MS(50), "{op:?}");
    }
    for op in in_window(&ops(&slow), MS(6200), S(10)) {
        assert!(latency(&op) < MS(10), "{op:?}");
    }
}

// --- crash and bounce

fn lost_acked_appends(r: &SeedRun) -> usize {
    let ops = ops(r);
    let final_read = ops
        .iter()
        .filter(|o| o.f == OpKind::Read && o.outcome == Outcome::Ok)
        .max_by_key(|o| o.invoke_ns)
        .expect("a final read");
    let kept = values_read(final_read);
    ops.iter()
        .filter(|o| o.f == OpKind::Append && o.outcome == Outcome::Ok)
        .filter(|o| !kept.contains(&appended(o)))
        .count()
}

fn crash_run(sync: bool, record_bytes: i64, seed: u64) -> SeedRun {
    run_seed(
        log("crash")
            .final_read(true)
            .setting("sync", sync)
            .setting("record_bytes", record_bytes)
            .fault(FaultEventSpec::Crash {
                at: S(4),
                duration: Some(S(1)),
                host: "n1".into(),
            }),
        seed,
    )
}

#[test]
fn a_crash_keeps_synced_appends() {
    let r = crash_run(true, 700, 1);
    assert_eq!(lost_acked_appends(&r), 0);
    let recovered = events(&r.record, "n1", "recovered");
    assert_eq!(recovered.len(), 2, "at boot and after the restart");
    assert!(field(&recovered[1].1, "records") > 0);
}

#[test]
fn a_crash_loses_unsynced_appends_and_tears_multi_block_writes() {
    let mut torn = 0;
    for seed in 1..=4 {
        let r = crash_run(false, 700, seed);
        assert!(
            lost_acked_appends(&r) > 0,
            "seed {seed}: acked but never synced"
        );
        let (_, after) = &events(&r.record, "n1", "recovered")[1];
        // Whole records only add up to multiples of 700 bytes; a write cut
        // at a 512-byte block boundary does not.
        if field(after, "file_bytes") % 700 != 0 {
            torn += 1;
            assert!(field(after, "valid_bytes") < field(after, "file_bytes"));
        }
    }
    assert!(torn > 0, "some crash leaves a torn record");
}

#[test]
fn a_bounce_keeps_even_unsynced_appends() {
    let r =
        run(log("bounce")
            .final_read(true)
            .setting("sync", false)
            .fault(FaultEventSpec::Bounce {
                at: S(4),
                host: "n1".into(),
            }));
    assert_eq!(lost_acked_appends(&r), 0);
    let (_, after) = &events(&r.record, "n1", "recovered")[1];
    assert!(field(after, "records") > 0);
    assert_eq!(field(after, "valid_bytes"), field(after, "file_bytes"));
}

// --- clocks

/// (simulated time of the event, wall clock − true time) per clock event.
fn clock_offsets(record: &RunRecord, host: &str) -> Vec<(Duration, i64, i64)> {
    let epoch_ms = harness::seed::fixed_epoch()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    events(record, host, "clock")
        .into_iter()
        .map(|(t, fields)| {
            let wall_ms = field(&fields, "wall_ms");
            (
                t,
                wall_ms - epoch_ms - t.as_millis() as i64,
                field(&fields, "sim_ms"),
            )
        })
        .collect()
}

#[test]
fn clock_faults_move_only_their_hosts_wall_clock_and_never_simulated_time() {
    let r = run(log("clocks")
        .fault(FaultEventSpec::ClockJump {
            at: S(2),
            duration: Some(S(2)),
            host: "n1".into(),
            offset: SignedDuration::from_secs(-5),
        })
        .fault(FaultEventSpec::ClockDrift {
            at: S(5),
            duration: Some(S(4)),
            host: "n2".into(),
            rate: 0.5,
        }));
    let n1 = clock_offsets(&r.record, "n1");
    let n2 = clock_offsets(&r.record, "n2");
    assert!(n1.len() > 30 && n2.len() > 30);
    for &(t, offset, _) in &n1 {
        let expected = if (S(2)..S(4)).contains(&t) { -5000 } else { 0 };
        assert_eq!(offset, expected, "n1 at {t:?}");
    }
    for &(t, offset, _) in &n2 {
        let expected = if (S(5)..S(9)).contains(&t) {
            (t - S(5)).as_millis() as i64 / 2
        } else {
            0
        };
        assert!(
            (offset - expected).abs() <= 1,
            "n2 at {t:?}: {offset} vs {expected}"
        );
    }
    // n1's wall clock went backwards at 2 s; its simulated clock did not.
    let walls: Vec<i64> = events(&r.record, "n1", "clock")
        .iter()
        .map(|(_, f)| field(f, "wall_ms"))
        .collect();
    assert!(walls.windows(2).any(|w| w[1] < w[0]));
    for host in [&n1, &n2] {
        assert!(host.windows(2).all(|w| w[0].2 < w[1].2 && w[0].0 < w[1].0));
    }
}

// --- random disk and clock faults

fn random_disk_scenario() -> ScenarioBuilder {
    let mut random = RandomFaultsSpec::with_kinds(vec![
        RandomFaultKind::DiskError,
        RandomFaultKind::DiskFull,
        RandomFaultKind::DiskCorrupt,
        RandomFaultKind::DiskSlow,
        RandomFaultKind::ClockJump,
        RandomFaultKind::ClockDrift,
        RandomFaultKind::Crash,
    ]);
    random.swarm = false;
    random.interval = harness::duration::DurationRange::new(MS(300), MS(800));
    log("disk-swarm")
        .duration(S(20))
        .clients(2)
        .keys(2)
        .random_faults(random)
}

#[test]
fn the_same_seed_gives_the_same_trace_with_disk_faults() {
    let a = run_seed(random_disk_scenario(), 5);
    let b = run_seed(random_disk_scenario(), 5);
    assert_eq!(a.record.trace_hash, b.record.trace_hash);
    assert_eq!(
        serde_json::to_string(&a.report).unwrap(),
        serde_json::to_string(&b.report).unwrap()
    );
    let c = run_seed(random_disk_scenario(), 6);
    assert_ne!(a.record.trace_hash, c.record.trace_hash);
    // The faults really were exercised.
    let injected: std::collections::BTreeSet<&str> = a
        .record
        .trace
        .iter()
        .filter(|e| e.target.as_deref() == Some("disk"))
        .map(|e| e.message.as_str())
        .collect();
    assert!(injected.len() >= 2, "{injected:?}");
    assert!(!ops(&a).iter().all(|o| o.outcome == Outcome::Ok));
}

// --- used-bytes accounting, across every kind of call and a crash

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
