//! Checkpoints (snapshots of the applied state, which bound the log) and the
//! vote file (term, vote, trust), both single checksummed records.
//!
//! Both are replaced atomically: written to a temporary file, fsync'd, then
//! renamed over the old one (the rename is made durable too), so a crash
//! leaves either the old file or the new one, never a torn one. A record
//! that fails its checksum was therefore damaged when read back, not when
//! written: the reader retries rather than guessing.

use super::protocol::{decode_state, encode_state, Parser, Tokens};
use super::wal::{frame, unframe, Framed};
use harness::disk::Disk;
use std::collections::BTreeMap;
use std::io;

pub const CHECKPOINT_PATH: &str = "/kv/checkpoint";
pub const CHECKPOINT_TMP_PATH: &str = "/kv/checkpoint.tmp";
pub const META_PATH: &str = "/kv/meta";
pub const META_TMP_PATH: &str = "/kv/meta.tmp";

/// The applied state as of a log position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub last_index: u64,
    pub last_term: u64,
    /// The history digest at `last_index` (see `node/state.rs`), so that a
    /// replica starting from this checkpoint goes on with the same chain.
    pub digest: u64,
    pub state: BTreeMap<String, String>,
}

/// What must survive a restart besides the log: Raft's `currentTerm` and
/// `votedFor`, and whether the replica lost log records it may have
/// acknowledged (then it must not vote until a leader has caught it up).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    pub term: u64,
    pub voted_for: Option<usize>,
    pub untrusted: bool,
}

impl Checkpoint {
    pub fn encode(&self) -> Vec<u8> {
        let t = Tokens::new("checkpoint")
            .num(self.last_index)
            .num(self.last_term)
            .num(self.digest);
        let mut out = Vec::new();
        frame(encode_state(t, &self.state).finish().as_bytes(), &mut out);
        out
    }

    pub fn decode(data: &[u8]) -> Result<Checkpoint, String> {
        let mut p = parse_single(data, "checkpoint")?;
        let checkpoint = Checkpoint {
            last_index: p.num()?,
            last_term: p.num()?,
            digest: p.num()?,
            state: decode_state(&mut p)?,
        };
        p.end()?;
        Ok(checkpoint)
    }
}

impl Meta {
    pub fn encode(&self) -> Vec<u8> {
        let t = Tokens::new("meta").num(self.term);
        let t = match self.voted_for {
            Some(v) => t.num(v as u64),
            None => t.word("-"),
        };
        let mut out = Vec::new();
        frame(
            t.num(u64::from(self.untrusted)).finish().as_bytes(),
            &mut out,
        );
        out
    }

    pub fn decode(data: &[u8]) -> Result<Meta, String> {
        let mut p = parse_single(data, "meta")?;
        let term = p.num()?;
        let voted_for = match p.word()? {
            "-" => None,
            n => Some(n.parse().map_err(|_| format!("bad vote {n:?}"))?),
        };
        let untrusted = p.num()? == 1;
        p.end()?;
        Ok(Meta {
            term,
            voted_for,
            untrusted,
        })
    }
}

fn parse_single<'a>(data: &'a [u8], word: &str) -> Result<Parser<'a>, String> {
    let payload = match unframe(data, 0, true) {
        Framed::Record { payload, next } if next == data.len() => payload,
        Framed::Record { .. } => return Err("trailing bytes".into()),
        Framed::End => return Err("empty file".into()),
        Framed::Torn => return Err("torn record".into()),
        Framed::Corrupt(why) => return Err(why.into()),
    };
    let text = std::str::from_utf8(payload).map_err(|_| "not UTF-8".to_string())?;
    let mut p = Parser::new(text);
    if p.word()? != word {
        return Err(format!("not a {word} record"));
    }
    Ok(p)
}

/// Replaces `path` with `bytes` atomically and durably.
pub async fn replace_file(disk: &Disk, tmp: &str, path: &str, bytes: &[u8]) -> io::Result<()> {
    disk.write(tmp, bytes).await?;
    disk.sync(tmp).await?;
    disk.rename(tmp, path).await
}

/// Reads `path`: `Ok(None)` if it does not exist, `Err` on an I/O error,
/// `Ok(Some(Err(why)))` if it fails its checks.
pub async fn read_file<T>(
    disk: &Disk,
    path: &str,
    decode: fn(&[u8]) -> Result<T, String>,
) -> io::Result<Option<Result<T, String>>> {
    match disk.read(path).await {
        Ok(data) => Ok(Some(decode(&data))),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_and_meta_round_trip_and_reject_any_flip() {
        let c = Checkpoint {
            last_index: 40,
            last_term: 3,
            digest: 0x1234_5678_9abc_def0,
            state: [("k0".to_string(), "1 2 3 ".to_string())].into(),
        };
        let bytes = c.encode();
        assert_eq!(Checkpoint::decode(&bytes).unwrap(), c);
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x10;
            assert!(Checkpoint::decode(&flipped).is_err(), "byte {i}");
        }
        let m = Meta {
            term: 7,
            voted_for: Some(2),
            untrusted: true,
        };
        assert_eq!(Meta::decode(&m.encode()).unwrap(), m);
        let m = Meta::default();
        assert_eq!(Meta::decode(&m.encode()).unwrap(), m);
        assert!(Meta::decode(&c.encode()).is_err());
    }
}
