//! What the replicas and clients say to each other, and how it is spelled.
//!
//! Every message is one length-prefixed frame (a big-endian `u32` length,
//! then that many bytes) holding `|`-separated tokens. Numbers are decimal;
//! strings are written `=` followed by the string with every byte outside
//! `[A-Za-z0-9_-]` percent-escaped, so the empty string is `=` and no token
//! ever holds a separator. The WAL and checkpoints use the same tokens
//! (see [`super::wal`]), and their alphabet has no byte with fewer than two
//! bits set, so a single flipped bit can never turn text into a zero byte
//! (which the WAL reads as a torn write).

use super::txn::TxnCommand;
use std::collections::BTreeMap;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::TcpStream;

/// Cap on one frame, so a confused peer cannot make us buffer forever.
pub const MAX_FRAME_BYTES: usize = 8 << 20;
/// Token separator.
pub const SEP: char = '|';

/// A replicated state-machine command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Written by a new leader so it can commit an entry of its own term.
    Noop,
    Put {
        key: String,
        value: String,
    },
    Append {
        key: String,
        value: String,
    },
    Cas {
        key: String,
        expected: String,
        new: String,
    },
    /// A multi-key transaction (see [`super::txn`]).
    Txn(TxnCommand),
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub term: u64,
    pub command: Command,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteRequest {
    pub term: u64,
    pub candidate: usize,
    pub last_index: u64,
    pub last_term: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendRequest {
    pub term: u64,
    pub leader: usize,
    pub prev_index: u64,
    pub prev_term: u64,
    pub leader_commit: u64,
    /// The leader's heartbeat round when it sent this (echoed back; read
    /// confirmation counts rounds).
    pub round: u64,
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotRequest {
    pub term: u64,
    pub leader: usize,
    pub last_index: u64,
    pub last_term: u64,
    pub round: u64,
    /// The history digest at `last_index`.
    pub digest: u64,
    pub state: BTreeMap<String, String>,
}

/// A request to a replica, from a client or a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Get { key: String },
    Client(Command),
    Vote(VoteRequest),
    Append(AppendRequest),
    Snapshot(SnapshotRequest),
}

/// A replica's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A read's value (`""` for an absent key).
    Value(String),
    /// A mutation committed and applied.
    Done,
    /// A cas committed, but its comparison failed: nothing changed. For a
    /// snapshot-isolation transaction: it aborted, a key it wrote having
    /// changed since its snapshot.
    CasFailed,
    /// A transaction committed; what its reads saw, in order.
    TxnDone(Vec<String>),
    /// Not the leader; the leader if known. Nothing was done.
    Redirect(Option<usize>),
    /// The request may or may not take effect.
    Unknown(String),
    /// The request certainly did not take effect.
    Unavailable(String),
    Vote {
        term: u64,
        granted: bool,
    },
    Appended {
        term: u64,
        success: bool,
        /// On success the last index known to match; otherwise a hint of
        /// where to retry from.
        match_index: u64,
        round: u64,
    },
}

/// Percent-escapes a string into a token.
pub fn encode_str(s: &str, out: &mut String) {
    // Hot: a transaction's reply and every log entry carrying one pass
    // through here, whole lists at a time, so no allocation per byte.
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(s.len() + 1);
    out.push('=');
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xF)] as char);
        }
    }
}

fn decode_str(token: &str) -> Result<String, String> {
    let body = token
        .strip_prefix('=')
        .ok_or_else(|| format!("expected a string token, found {token:?}"))?;
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = body
                .get(i + 1..i + 3)
                .ok_or_else(|| format!("truncated escape in {token:?}"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad escape in {token:?}"))?);
            i += 3;
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b);
            i += 1;
        } else {
            return Err(format!("unexpected byte {b:#x} in {token:?}"));
        }
    }
    String::from_utf8(out).map_err(|_| format!("not UTF-8: {token:?}"))
}

/// Builds a `|`-separated line of tokens.
#[derive(Default)]
pub struct Tokens {
    out: String,
}

impl Tokens {
    pub fn new(word: &str) -> Tokens {
        Tokens {
            out: word.to_string(),
        }
    }

    pub fn num(mut self, n: u64) -> Tokens {
        self.out.push(SEP);
        self.out.push_str(&n.to_string());
        self
    }

    pub fn str(mut self, s: &str) -> Tokens {
        self.out.push(SEP);
        encode_str(s, &mut self.out);
        self
    }

    pub fn word(mut self, w: &str) -> Tokens {
        self.out.push(SEP);
        self.out.push_str(w);
        self
    }

    pub fn entry(self, entry: &Entry) -> Tokens {
        let t = self.num(entry.term);
        match &entry.command {
            Command::Noop => t.word("noop").str("").str("").str(""),
            Command::Put { key, value } => t.word("put").str(key).str(value).str(""),
            Command::Append { key, value } => t.word("append").str(key).str(value).str(""),
            Command::Cas { key, expected, new } => t.word("cas").str(key).str(expected).str(new),
            Command::Txn(txn) => t.word("txn").str("").str(&txn.encode()).str(""),
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Reads tokens back.
pub struct Parser<'a> {
    tokens: std::str::Split<'a, char>,
}

impl<'a> Parser<'a> {
    pub fn new(line: &'a str) -> Parser<'a> {
        Parser {
            tokens: line.split(SEP),
        }
    }

    pub fn word(&mut self) -> Result<&'a str, String> {
        self.tokens
            .next()
            .ok_or_else(|| "message ends early".to_string())
    }

    pub fn num(&mut self) -> Result<u64, String> {
        let w = self.word()?;
        if w.is_empty() || !w.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("expected a number, found {w:?}"));
        }
        w.parse().map_err(|_| format!("number out of range: {w:?}"))
    }

    pub fn str(&mut self) -> Result<String, String> {
        decode_str(self.word()?)
    }

    pub fn entry(&mut self) -> Result<Entry, String> {
        let term = self.num()?;
        let kind = self.word()?;
        let (key, a, b) = (self.str()?, self.str()?, self.str()?);
        let command = match kind {
            "noop" => Command::Noop,
            "put" => Command::Put { key, value: a },
            "append" => Command::Append { key, value: a },
            "cas" => Command::Cas {
                key,
                expected: a,
                new: b,
            },
            "txn" => Command::Txn(TxnCommand::decode(&a)?),
            other => return Err(format!("unknown command {other:?}")),
        };
        Ok(Entry { term, command })
    }

    pub fn end(mut self) -> Result<(), String> {
        match self.tokens.next() {
            None => Ok(()),
            Some(extra) => Err(format!("unexpected trailing token {extra:?}")),
        }
    }
}

/// Writes a key-value map as `count|key|value|…`.
pub fn encode_state(t: Tokens, state: &BTreeMap<String, String>) -> Tokens {
    let mut t = t.num(state.len() as u64);
    for (k, v) in state {
        t = t.str(k).str(v);
    }
    t
}

pub fn decode_state(p: &mut Parser<'_>) -> Result<BTreeMap<String, String>, String> {
    let n = p.num()?;
    let mut state = BTreeMap::new();
    for _ in 0..n {
        let k = p.str()?;
        state.insert(k, p.str()?);
    }
    Ok(state)
}

impl Request {
    pub fn encode(&self) -> String {
        match self {
            Request::Get { key } => Tokens::new("get").str(key).finish(),
            Request::Client(command) => Tokens::new("cmd")
                .entry(&Entry {
                    term: 0,
                    command: command.clone(),
                })
                .finish(),
            Request::Vote(v) => Tokens::new("vote")
                .num(v.term)
                .num(v.candidate as u64)
                .num(v.last_index)
                .num(v.last_term)
                .finish(),
            Request::Append(a) => {
                let mut t = Tokens::new("append")
                    .num(a.term)
                    .num(a.leader as u64)
                    .num(a.prev_index)
                    .num(a.prev_term)
                    .num(a.leader_commit)
                    .num(a.round)
                    .num(a.entries.len() as u64);
                for e in &a.entries {
                    t = t.entry(e);
                }
                t.finish()
            }
            Request::Snapshot(s) => {
                let t = Tokens::new("snapshot")
                    .num(s.term)
                    .num(s.leader as u64)
                    .num(s.last_index)
                    .num(s.last_term)
                    .num(s.round)
                    .num(s.digest);
                encode_state(t, &s.state).finish()
            }
        }
    }

    pub fn decode(line: &str) -> Result<Request, String> {
        let mut p = Parser::new(line);
        let request = match p.word()? {
            "get" => Request::Get { key: p.str()? },
            "cmd" => {
                let entry = p.entry()?;
                if entry.command == Command::Noop {
                    return Err("a client cannot send a noop".into());
                }
                Request::Client(entry.command)
            }
            "vote" => Request::Vote(VoteRequest {
                term: p.num()?,
                candidate: p.num()? as usize,
                last_index: p.num()?,
                last_term: p.num()?,
            }),
            "append" => {
                let (term, leader, prev_index, prev_term, leader_commit, round, n) = (
                    p.num()?,
                    p.num()? as usize,
                    p.num()?,
                    p.num()?,
                    p.num()?,
                    p.num()?,
                    p.num()?,
                );
                let mut entries = Vec::new();
                for _ in 0..n {
                    entries.push(p.entry()?);
                }
                Request::Append(AppendRequest {
                    term,
                    leader,
                    prev_index,
                    prev_term,
                    leader_commit,
                    round,
                    entries,
                })
            }
            "snapshot" => Request::Snapshot(SnapshotRequest {
                term: p.num()?,
                leader: p.num()? as usize,
                last_index: p.num()?,
                last_term: p.num()?,
                round: p.num()?,
                digest: p.num()?,
                state: decode_state(&mut p)?,
            }),
            other => return Err(format!("unknown request {other:?}")),
        };
        p.end()?;
        Ok(request)
    }
}

impl Reply {
    pub fn encode(&self) -> String {
        match self {
            Reply::Value(v) => Tokens::new("value").str(v).finish(),
            Reply::Done => "done".into(),
            Reply::CasFailed => "cas-failed".into(),
            Reply::TxnDone(reads) => {
                let mut t = Tokens::new("txn-done").num(reads.len() as u64);
                for read in reads {
                    t = t.str(read);
                }
                t.finish()
            }
            Reply::Redirect(None) => "redirect|-".into(),
            Reply::Redirect(Some(n)) => Tokens::new("redirect").num(*n as u64).finish(),
            Reply::Unknown(why) => Tokens::new("unknown").str(why).finish(),
            Reply::Unavailable(why) => Tokens::new("unavailable").str(why).finish(),
            Reply::Vote { term, granted } => Tokens::new("voted")
                .num(*term)
                .num(u64::from(*granted))
                .finish(),
            Reply::Appended {
                term,
                success,
                match_index,
                round,
            } => Tokens::new("appended")
                .num(*term)
                .num(u64::from(*success))
                .num(*match_index)
                .num(*round)
                .finish(),
        }
    }

    pub fn decode(line: &str) -> Result<Reply, String> {
        let mut p = Parser::new(line);
        let reply = match p.word()? {
            "value" => Reply::Value(p.str()?),
            "done" => Reply::Done,
            "cas-failed" => Reply::CasFailed,
            "txn-done" => {
                let n = p.num()?;
                Reply::TxnDone((0..n).map(|_| p.str()).collect::<Result<_, _>>()?)
            }
            "redirect" => match p.word()? {
                "-" => Reply::Redirect(None),
                n => Reply::Redirect(Some(n.parse().map_err(|_| format!("bad leader {n:?}"))?)),
            },
            "unknown" => Reply::Unknown(p.str()?),
            "unavailable" => Reply::Unavailable(p.str()?),
            "voted" => Reply::Vote {
                term: p.num()?,
                granted: p.num()? == 1,
            },
            "appended" => Reply::Appended {
                term: p.num()?,
                success: p.num()? == 1,
                match_index: p.num()?,
                round: p.num()?,
            },
            other => return Err(format!("unknown reply {other:?}")),
        };
        p.end()?;
        Ok(reply)
    }
}

/// A TCP connection carrying frames.
pub struct FrameConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl FrameConn {
    pub fn new(stream: TcpStream) -> FrameConn {
        FrameConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends one frame in one write, so it is one segment in turmoil.
    pub async fn send(&mut self, text: &str) -> io::Result<()> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "frame too long",
            ));
        }
        self.buf.clear();
        self.buf
            .extend_from_slice(&(text.len() as u32).to_be_bytes());
        self.buf.extend_from_slice(text.as_bytes());
        self.stream.write_all(&self.buf).await
    }

    /// The next frame; `None` at end of stream.
    pub async fn recv(&mut self) -> io::Result<Option<String>> {
        let mut len = [0u8; 4];
        match self.stream.read_exact(&mut len).await {
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(err) => return Err(err),
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_FRAME_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
        }
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body).await?;
        String::from_utf8(body)
            .map(Some)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "frame is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_round_trip() {
        let requests = [
            Request::Get { key: "k0".into() },
            Request::Client(Command::Append {
                key: "k1".into(),
                value: "5 ".into(),
            }),
            Request::Client(Command::Cas {
                key: "k|2".into(),
                expected: "".into(),
                new: "%=x".into(),
            }),
            Request::Vote(VoteRequest {
                term: 3,
                candidate: 1,
                last_index: 9,
                last_term: 2,
            }),
            Request::Append(AppendRequest {
                term: 3,
                leader: 0,
                prev_index: 4,
                prev_term: 2,
                leader_commit: 4,
                round: 17,
                entries: vec![
                    Entry {
                        term: 3,
                        command: Command::Noop,
                    },
                    Entry {
                        term: 3,
                        command: Command::Put {
                            key: "k0".into(),
                            value: "12".into(),
                        },
                    },
                ],
            }),
            Request::Snapshot(SnapshotRequest {
                term: 4,
                leader: 2,
                last_index: 100,
                last_term: 3,
                round: 1,
                digest: u64::MAX,
                state: [("k0".to_string(), "1 2 ".to_string())].into(),
            }),
        ];
        for r in requests {
            assert_eq!(Request::decode(&r.encode()).unwrap(), r);
        }
        let replies = [
            Reply::Value("".into()),
            Reply::Done,
            Reply::CasFailed,
            Reply::TxnDone(vec!["1 2 ".into(), "".into()]),
            Reply::Redirect(None),
            Reply::Redirect(Some(4)),
            Reply::Unknown("stepped down".into()),
            Reply::Unavailable("not ready".into()),
            Reply::Vote {
                term: 2,
                granted: true,
            },
            Reply::Appended {
                term: 2,
                success: false,
                match_index: 7,
                round: 3,
            },
        ];
        for r in replies {
            assert_eq!(Reply::decode(&r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        for bad in [
            "",
            "get",
            "get|k0",
            "vote|1|2",
            "append|1|0|0|0|0|0|5",
            "cmd|0|noop|=|=|=",
            "get|=a%",
            "get|=a|extra",
        ] {
            assert!(Request::decode(bad).is_err(), "{bad:?}");
        }
        assert!(Reply::decode("appended|x|1|1|1").is_err());
    }

    #[test]
    fn the_alphabet_survives_no_single_bit_flip_as_a_zero_byte() {
        let mut line = String::new();
        encode_str("any text: 1 2 3 |%=\n", &mut line);
        let line = Tokens::new("x").num(1234567890).str(&line).finish();
        for b in line.bytes() {
            assert!(b.count_ones() >= 2, "{:?}", b as char);
        }
    }
}
