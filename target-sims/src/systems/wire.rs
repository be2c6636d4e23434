//! A tiny line protocol shared by the simple targets: one request or
//! response per line, words separated by spaces, values spelled as in
//! histories (`nil`, an integer, or a string without spaces).

use harness::history::Value;
use std::io;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use turmoil::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use turmoil::net::TcpStream;

/// Cap on one line, so a confused peer cannot make us buffer forever.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

pub fn encode_value(value: &Value) -> String {
    match value {
        Value::Nil => "nil".into(),
        Value::Int(v) => v.to_string(),
        Value::Str(s) => format!("s:{}", s.replace(' ', "_")),
        Value::List(_) | Value::Txn(_) => "nil".into(),
    }
}

pub fn decode_value(word: &str) -> Value {
    if word == "nil" {
        Value::Nil
    } else if let Some(s) = word.strip_prefix("s:") {
        Value::Str(s.replace('_', " "))
    } else {
        word.parse().map(Value::Int).unwrap_or(Value::Nil)
    }
}

/// The reading half of a line connection.
pub struct LineReader {
    reader: BufReader<OwnedReadHalf>,
    line: String,
}

impl LineReader {
    pub fn new(read: OwnedReadHalf) -> LineReader {
        LineReader {
            reader: BufReader::new(read),
            line: String::new(),
        }
    }

    /// The next line without its newline; `None` at end of stream.
    pub async fn recv(&mut self) -> io::Result<Option<&str>> {
        self.line.clear();
        let n = self.reader.read_line(&mut self.line).await?;
        if n == 0 {
            return Ok(None);
        }
        if self.line.len() > MAX_LINE_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        Ok(Some(self.line.trim_end_matches('\n')))
    }
}

/// The writing half of a line connection. Each line goes out in one write,
/// so in turmoil it is one segment: lines from many tasks never interleave.
pub struct LineWriter {
    writer: OwnedWriteHalf,
    buf: Vec<u8>,
}

impl LineWriter {
    pub fn new(write: OwnedWriteHalf) -> LineWriter {
        LineWriter {
            writer: write,
            buf: Vec::new(),
        }
    }

    pub async fn send(&mut self, line: &str) -> io::Result<()> {
        self.buf.clear();
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.push(b'\n');
        self.writer.write_all(&self.buf).await
    }
}

/// Splits a stream into line halves.
pub fn split_lines(stream: TcpStream) -> (LineReader, LineWriter) {
    let (read, write) = stream.into_split();
    (LineReader::new(read), LineWriter::new(write))
}

/// A connection that reads and writes whole lines.
pub struct LineConn {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    line: String,
}

impl LineConn {
    pub fn new(stream: TcpStream) -> LineConn {
        let (read, write) = stream.into_split();
        LineConn {
            reader: BufReader::new(read),
            writer: write,
            line: String::new(),
        }
    }

    pub async fn send(&mut self, line: &str) -> io::Result<()> {
        self.writer.write_all(line.as_bytes()).await?;
        self.writer.write_all(b"\n").await
    }

    /// The next line without its newline; `None` at end of stream.
    pub async fn recv(&mut self) -> io::Result<Option<&str>> {
        self.line.clear();
        let n = self.reader.read_line(&mut self.line).await?;
        if n == 0 {
            return Ok(None);
        }
        if self.line.len() > MAX_LINE_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        Ok(Some(self.line.trim_end_matches('\n')))
    }
}
