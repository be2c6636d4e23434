//! The write-ahead log: one file of checksummed records, appended and
//! fsync'd before anything it holds is acknowledged.
//!
//! A record is `0xA5`, the payload length as a little-endian `u32`, that
//! length's bitwise complement (so a flipped bit in the length is caught
//! rather than sending the reader astray), the CRC-32 of the payload, then
//! the payload: `index|term|command|key|a|b` in [`super::protocol`]'s tokens.
//!
//! Replay reads records from the start and stops at the first one it cannot
//! trust, telling apart two reasons, because they call for different
//! recoveries:
//!
//! - **torn**: the file ends inside a record, or the record reads as zeros
//!   where a crash left an unwritten block. Such a record was never fully
//!   fsync'd, so it was never acknowledged: dropping it loses nothing.
//! - **corrupt**: a whole record whose checksum does not match (the token
//!   alphabet cannot produce a zero byte from one flipped bit). It may have
//!   been acknowledged; the replica must not pretend it never had it.

use super::protocol::{Entry, Parser, Tokens};
use harness::disk::Disk;
use std::io;

/// The WAL's path on a replica's disk.
pub const WAL_PATH: &str = "/kv/wal";
/// Where a rewritten WAL is prepared before it replaces the old one.
pub const WAL_TMP_PATH: &str = "/kv/wal.tmp";
/// First byte of every record.
pub const RECORD_MAGIC: u8 = 0xA5;
/// Bytes before a record's payload.
pub const RECORD_HEADER_BYTES: usize = 13;
/// Cap on one record's payload.
pub const MAX_RECORD_BYTES: usize = 4 << 20;

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in data {
        crc = TABLE[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// Frames a payload as a checksummed record (also used for checkpoints and
/// the vote file).
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    assert!(payload.len() <= MAX_RECORD_BYTES, "record too large");
    let len = payload.len() as u32;
    out.push(RECORD_MAGIC);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// What reading one record found.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    /// A record and the offset just past it.
    Record {
        payload: &'a [u8],
        next: usize,
    },
    /// The end of the data, exactly at a record boundary.
    End,
    Torn,
    Corrupt(&'static str),
}

/// Reads the record at `offset`; `verify = false` skips the payload
/// checksum (the planted bug).
pub fn unframe(data: &[u8], offset: usize, verify: bool) -> Framed<'_> {
    let rest = &data[offset..];
    if rest.is_empty() {
        return Framed::End;
    }
    if rest[0] == 0 || rest.len() < RECORD_HEADER_BYTES {
        return Framed::Torn;
    }
    if rest[0] != RECORD_MAGIC {
        return Framed::Corrupt("bad record magic");
    }
    let word = |at: usize| u32::from_le_bytes(rest[at..at + 4].try_into().expect("4 bytes"));
    let (len, check, crc) = (word(1), word(5), word(9));
    if len != !check || len as usize > MAX_RECORD_BYTES {
        return Framed::Corrupt("bad record length");
    }
    let end = RECORD_HEADER_BYTES + len as usize;
    if rest.len() < end {
        return Framed::Torn;
    }
    let payload = &rest[RECORD_HEADER_BYTES..end];
    if payload.contains(&0) {
        return Framed::Torn;
    }
    if verify && crc32(payload) != crc {
        return Framed::Corrupt("checksum mismatch");
    }
    Framed::Record {
        payload,
        next: offset + end,
    }
}

/// One WAL record.
pub fn encode_record(index: u64, entry: &Entry, out: &mut Vec<u8>) {
    let payload = Tokens::new("").num(index).entry(entry).finish();
    frame(&payload.as_bytes()[1..], out);
}

fn decode_record(payload: &[u8]) -> Result<(u64, Entry), String> {
    let text = std::str::from_utf8(payload).map_err(|_| "not UTF-8".to_string())?;
    let mut p = Parser::new(text);
    let index = p.num()?;
    let entry = p.entry()?;
    p.end()?;
    Ok((index, entry))
}

/// Why replay stopped before the end of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    Torn,
    Corrupt(String),
}

/// What replay recovered: the records in order with their file offsets,
/// the length of the trustworthy prefix, and why it stopped early (if it
/// did).
#[derive(Debug, Default)]
pub struct Replay {
    pub records: Vec<(u64, Entry, u64)>,
    pub valid_len: u64,
    pub stop: Option<Stop>,
}

pub fn replay(data: &[u8], verify: bool) -> Replay {
    let mut replay = Replay::default();
    let mut offset = 0;
    loop {
        match unframe(data, offset, verify) {
            Framed::End => break,
            Framed::Torn => {
                replay.stop = Some(Stop::Torn);
                break;
            }
            Framed::Corrupt(why) => {
                replay.stop = Some(Stop::Corrupt(why.to_string()));
                break;
            }
            Framed::Record { payload, next } => match decode_record(payload) {
                Ok((index, entry)) => {
                    replay.records.push((index, entry, offset as u64));
                    offset = next;
                }
                // Unverified garbage that does not even parse: the replica
                // with the planted bug treats it as the end of the log.
                Err(why) if !verify => {
                    replay.stop = Some(Stop::Corrupt(why));
                    break;
                }
                Err(why) => {
                    replay.stop = Some(Stop::Corrupt(format!("checksummed but unreadable: {why}")));
                    break;
                }
            },
        }
    }
    replay.valid_len = offset as u64;
    replay
}

/// The WAL file of one replica: appends and truncations, each made durable
/// before it returns (unless told not to).
pub struct Wal {
    disk: Disk,
    /// Bytes in the file, as far as this process wrote them.
    len: u64,
}

impl Wal {
    pub fn new(disk: Disk, len: u64) -> Wal {
        Wal { disk, len }
    }

    pub fn size_bytes(&self) -> u64 {
        self.len
    }

    /// Appends records; fsyncs them when `sync`.
    pub async fn append(&mut self, bytes: &[u8], sync: bool) -> io::Result<()> {
        self.disk.append(WAL_PATH, bytes).await?;
        self.len += bytes.len() as u64;
        if sync {
            self.disk.sync(WAL_PATH).await?;
        }
        Ok(())
    }

    /// Cuts the log back to `len` bytes, durably.
    pub async fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.disk.truncate(WAL_PATH, len).await?;
        self.disk.sync(WAL_PATH).await?;
        self.len = len;
        Ok(())
    }

    /// Replaces the whole log with `bytes`, atomically: written beside it,
    /// fsync'd, then renamed over it.
    pub async fn rewrite(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.disk.write(WAL_TMP_PATH, bytes).await?;
        self.disk.sync(WAL_TMP_PATH).await?;
        self.disk.rename(WAL_TMP_PATH, WAL_PATH).await?;
        self.len = bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::kv::protocol::Command;

    fn entry(term: u64, value: &str) -> Entry {
        Entry {
            term,
            command: Command::Append {
                key: "k0".into(),
                value: value.into(),
            },
        }
    }

    fn log(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 1..=n {
            encode_record(i, &entry(1, &format!("{i} ")), &mut out);
        }
        out
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_clean_log_replays_fully() {
        let data = log(3);
        let r = replay(&data, true);
        assert_eq!(r.records.len(), 3);
        assert_eq!(r.records[2].0, 3);
        assert_eq!(r.records[1].1, entry(1, "2 "));
        assert_eq!(r.valid_len, data.len() as u64);
        assert_eq!(r.stop, None);
    }

    #[test]
    fn a_cut_or_zeroed_tail_is_torn() {
        let data = log(3);
        let second_end = replay(&data, true).records[2].2 as usize;
        let cut = replay(&data[..data.len() - 3], true);
        assert_eq!((cut.records.len(), cut.stop), (2, Some(Stop::Torn)));
        assert_eq!(cut.valid_len, second_end as u64);
        let mut zeroed = data.clone();
        for b in &mut zeroed[second_end + RECORD_HEADER_BYTES + 2..] {
            *b = 0;
        }
        assert_eq!(replay(&zeroed, true).stop, Some(Stop::Torn));
        let mut gap = data.clone();
        for b in &mut gap[second_end..] {
            *b = 0;
        }
        assert_eq!(replay(&gap, true).stop, Some(Stop::Torn));
    }

    #[test]
    fn every_single_bit_flip_is_caught_unless_verification_is_skipped() {
        let data = log(2);
        let mut trusted_wrong_value = 0;
        for byte in 0..data.len() {
            for bit in 0..8 {
                let mut flipped = data.clone();
                flipped[byte] ^= 1 << bit;
                let r = replay(&flipped, true);
                let intact: Vec<_> = r.records.iter().map(|(i, e, _)| (*i, e.clone())).collect();
                assert!(
                    matches!(r.stop, Some(Stop::Corrupt(_))),
                    "byte {byte} bit {bit}: {:?}",
                    r.stop
                );
                assert!(intact.len() < 2);
                let unverified = replay(&flipped, false);
                if unverified.records.len() == 2
                    && unverified.records[1].1 != entry(1, "2 ")
                    && unverified.records[0].1 == entry(1, "1 ")
                    || unverified
                        .records
                        .first()
                        .is_some_and(|r| r.1 != entry(1, "1 "))
                {
                    trusted_wrong_value += 1;
                }
            }
        }
        assert!(
            trusted_wrong_value > 0,
            "the planted bug trusts some flipped records"
        );
    }
}
