//! Starting a replica from its disk: the vote file, the latest checkpoint,
//! then the WAL replayed on top of it.
//!
//! The replica serves nothing until this is done, and it vouches only for
//! what it could verify. A torn WAL tail (never fsync'd, so never
//! acknowledged) is cut off. A record that fails its checksum is read
//! again a few times — corruption seen on read can be the read's, not the
//! disk's — and if it stays bad the log is cut there and the replica marks
//! itself *untrusted*: it may have acknowledged what it lost, so it does
//! not vote until a leader has caught it up. The vote file and checkpoint
//! are replaced atomically, so a bad one can only be a bad read: the
//! replica waits and reads again rather than guess its term or state.

use super::checkpoint::{read_file, replace_file, Checkpoint, Meta};
use super::checkpoint::{CHECKPOINT_PATH, META_PATH, META_TMP_PATH};
use super::log::Log;
use super::wal::{replay, Stop, Wal, WAL_PATH};
use harness::disk::Disk;
use harness::serde_json::json;
use std::io;
use std::time::Duration;

/// The replica's data directory.
pub const DATA_DIR: &str = "/kv";
/// Reads of a WAL whose checksums fail before the damage is believed.
pub const WAL_READ_ATTEMPTS: u32 = 4;
/// Pause between attempts to read the disk during recovery.
pub const RECOVERY_RETRY: Duration = Duration::from_millis(200);

/// A replica's durable state, loaded.
pub struct Loaded {
    pub meta: Meta,
    pub checkpoint: Checkpoint,
    pub log: Log,
    pub wal: Wal,
}

async fn retry<T, F, Fut>(host: &str, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    loop {
        match f().await {
            Ok(value) => return value,
            Err(why) => {
                tracing::warn!(target: "kv", host, what, why = %why, "recovery read failed; retrying");
                tokio::time::sleep(RECOVERY_RETRY).await;
            }
        }
    }
}

fn io_text(err: io::Error) -> String {
    err.to_string()
}

/// Loads the replica's state, waiting out disk errors; `verify = false`
/// is the planted bug that trusts WAL records without their checksums.
pub async fn load(disk: &Disk, host: &str, verify: bool) -> Loaded {
    retry(host, "data directory", || async {
        disk.create_dir_all(DATA_DIR).await.map_err(io_text)
    })
    .await;
    let mut meta = retry(host, "vote file", || async {
        match read_file(disk, META_PATH, Meta::decode).await {
            Ok(None) => Ok(Meta::default()),
            Ok(Some(Ok(meta))) => Ok(meta),
            Ok(Some(Err(why))) => {
                tracing::warn!(target: "kv", host, why = %why, "vote file rejected by checksum");
                Err(why)
            }
            Err(err) => Err(io_text(err)),
        }
    })
    .await;
    let checkpoint = retry(host, "checkpoint", || async {
        match read_file(disk, CHECKPOINT_PATH, Checkpoint::decode).await {
            Ok(None) => Ok(Checkpoint::default()),
            Ok(Some(Ok(c))) => Ok(c),
            Ok(Some(Err(why))) => {
                tracing::warn!(target: "kv", host, why = %why, "checkpoint rejected by checksum");
                Err(why)
            }
            Err(err) => Err(io_text(err)),
        }
    })
    .await;
    if checkpoint.last_index > 0 {
        tracing::info!(
            target: "kv",
            host,
            index = checkpoint.last_index,
            term = checkpoint.last_term,
            keys = checkpoint.state.len(),
            "checkpoint restored"
        );
        harness::assert_reachable!(
            "a checkpoint was restored",
            &json!({ "host": host, "index": checkpoint.last_index })
        );
    }

    // The WAL, read again while its checksums fail.
    let mut attempt = 0;
    let (data, mut replayed) = loop {
        attempt += 1;
        let data = retry(host, "wal", || async {
            match disk.read(WAL_PATH).await {
                Ok(data) => Ok(data),
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(err) => Err(io_text(err)),
            }
        })
        .await;
        let replayed = replay(&data, verify);
        if let Some(Stop::Corrupt(why)) = &replayed.stop {
            tracing::info!(
                target: "kv",
                host,
                offset = replayed.valid_len,
                why = %why,
                attempt,
                "wal record rejected by checksum"
            );
            harness::assert_reachable!(
                "a WAL record was rejected by its checksum",
                &json!({ "host": host, "offset": replayed.valid_len, "attempt": attempt })
            );
            if attempt < WAL_READ_ATTEMPTS {
                tokio::time::sleep(RECOVERY_RETRY).await;
                continue;
            }
        }
        break (data, replayed);
    };

    // Keep the records after the checkpoint, as long as they follow on.
    let mut log = Log::new(checkpoint.last_index, checkpoint.last_term);
    let mut cut = replayed.valid_len;
    for (index, entry, offset) in replayed.records.drain(..) {
        if index <= checkpoint.last_index {
            continue;
        }
        if index != log.last_index() + 1 || entry.term < log.last_term() {
            cut = offset;
            replayed.stop = Some(Stop::Corrupt(format!(
                "record {index} (term {}) does not follow {} (term {})",
                entry.term,
                log.last_index(),
                log.last_term()
            )));
            break;
        }
        log.push(entry, offset);
    }
    let mut wal = Wal::new(disk.clone(), data.len() as u64);
    if cut < data.len() as u64 {
        while let Err(err) = wal.truncate(cut).await {
            tracing::warn!(target: "kv", host, why = %err, "wal truncation failed; retrying");
            tokio::time::sleep(RECOVERY_RETRY).await;
        }
        tracing::info!(
            target: "kv",
            host,
            from = data.len(),
            to = cut,
            reason = match &replayed.stop {
                Some(Stop::Torn) => "torn",
                _ => "corrupt",
            },
            "wal truncated"
        );
    }
    if matches!(replayed.stop, Some(Stop::Corrupt(_))) && !meta.untrusted {
        meta.untrusted = true;
        let bytes = meta.encode();
        retry(host, "vote file", || async {
            replace_file(disk, META_TMP_PATH, META_PATH, &bytes)
                .await
                .map_err(io_text)
        })
        .await;
        tracing::info!(target: "kv", host, "lost records it may have acknowledged; not voting until caught up");
    }
    tracing::info!(
        target: "kv",
        host,
        term = meta.term,
        last_index = log.last_index(),
        "replica recovered"
    );
    Loaded {
        meta,
        checkpoint,
        log,
        wal,
    }
}
