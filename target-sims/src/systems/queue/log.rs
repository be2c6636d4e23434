//! A durable, append-only record log on a host's [`Disk`].
//!
//! Model: each record is one line, `payload #checksum`, where the checksum
//! is FNV-1a over the payload. [`RecordLog::append`] writes a record and
//! fsyncs it before returning, so a record the caller acknowledges survives
//! a crash. A crash may tear the tail (a prefix of whole 512-byte blocks
//! of a pending write survives): [`RecordLog::open`] keeps the longest
//! prefix of intact records, truncates the rest away durably, and returns
//! the records it kept.

use harness::disk::Disk;
use std::io;

/// Directory every log lives in.
pub const DATA_DIR: &str = "/data";
/// Longest record payload accepted.
pub const MAX_RECORD_BYTES: usize = 4096;

fn checksum(payload: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in payload.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// One host's log file.
pub struct RecordLog {
    disk: Disk,
    path: String,
}

impl RecordLog {
    /// Opens (or creates) the log `name` and recovers its intact records.
    pub async fn open(disk: Disk, name: &str) -> io::Result<(RecordLog, Vec<String>)> {
        disk.create_dir_all(DATA_DIR).await?;
        let path = format!("{DATA_DIR}/{name}");
        let bytes = match disk.read(&path).await {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(err),
        };
        let (records, intact_len) = parse(&bytes);
        if intact_len < bytes.len() {
            tracing::info!(
                target: "queue::log",
                log = name,
                dropped_bytes = bytes.len() - intact_len,
                "torn log tail dropped"
            );
            disk.truncate(&path, intact_len as u64).await?;
            disk.sync(&path).await?;
        }
        Ok((RecordLog { disk, path }, records))
    }

    /// Appends one record and makes it durable.
    pub async fn append(&self, payload: &str) -> io::Result<()> {
        assert!(
            !payload.contains('\n') && !payload.contains('#'),
            "record payloads are single lines without '#'"
        );
        if payload.len() > MAX_RECORD_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "record too large",
            ));
        }
        let line = format!("{payload} #{:016x}\n", checksum(payload));
        self.disk.append(&self.path, line.as_bytes()).await?;
        self.disk.sync(&self.path).await
    }
}

/// The intact records of a log's bytes, and the length they span.
fn parse(bytes: &[u8]) -> (Vec<String>, usize) {
    let mut records = Vec::new();
    let mut offset = 0;
    while let Some(newline) = bytes[offset..].iter().position(|b| *b == b'\n') {
        let line = &bytes[offset..offset + newline];
        let Some(payload) = std::str::from_utf8(line).ok().and_then(|line| {
            let (payload, sum) = line.rsplit_once(" #")?;
            (u64::from_str_radix(sum, 16).ok()? == checksum(payload)).then_some(payload)
        }) else {
            break;
        };
        records.push(payload.to_string());
        offset += newline + 1;
    }
    (records, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(payload: &str) -> String {
        format!("{payload} #{:016x}\n", checksum(payload))
    }

    #[test]
    fn intact_records_are_kept_and_a_torn_tail_is_not() {
        let whole = format!("{}{}", line("E 1 k0"), line("C 1"));
        let (records, len) = parse(whole.as_bytes());
        assert_eq!(records, ["E 1 k0", "C 1"]);
        assert_eq!(len, whole.len());

        let torn = format!("{}E 2 k", line("E 1 k0"));
        let (records, len) = parse(torn.as_bytes());
        assert_eq!(records, ["E 1 k0"]);
        assert_eq!(len, line("E 1 k0").len());

        let corrupt = format!(
            "{}E 3 k0 #0000000000000000\n{}",
            line("E 1 k0"),
            line("C 1")
        );
        let (records, _) = parse(corrupt.as_bytes());
        assert_eq!(records, ["E 1 k0"], "nothing after a bad record is trusted");
    }
}
