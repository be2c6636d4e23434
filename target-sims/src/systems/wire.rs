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
        Value::List(_) => "nil".into(),
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
