//! The wire format: each message is one frame, a 4-byte big-endian body
//! length followed by the body, which is the message as JSON.
//!
//! A frame is acted on only once all of it has arrived, so a frame cut
//! short by a broken connection is never applied: that is what lets a
//! client call a request whose write failed "not sent". A length above the
//! limit is refused before any of the body is read, so a confused or
//! hostile peer cannot make the reader buffer without bound.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes of the length prefix.
pub const HEADER_BYTES: usize = 4;

/// Encodes `message` as one frame into `buf` (cleared first), refusing a
/// body longer than `max_frame_bytes`.
pub fn encode<T: Serialize>(
    message: &T,
    max_frame_bytes: usize,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    buf.clear();
    buf.extend_from_slice(&[0; HEADER_BYTES]);
    serde_json::to_writer(&mut *buf, message)
        .map_err(|e| invalid(format!("cannot encode: {e}")))?;
    let body = buf.len() - HEADER_BYTES;
    check_length(body, max_frame_bytes)?;
    let length = u32::try_from(body).expect("checked against a limit below u32::MAX");
    buf[..HEADER_BYTES].copy_from_slice(&length.to_be_bytes());
    Ok(())
}

/// Writes a frame built by [`encode`] in one write. In turmoil one write is
/// one segment, so a frame is delivered (or lost) whole, and a frame costs
/// the network one message whatever its size.
pub async fn write<W: AsyncWrite + Unpin>(writer: &mut W, frame: &[u8]) -> io::Result<()> {
    writer.write_all(frame).await
}

/// Reads the next frame's body into `buf` and decodes it. `Ok(None)` means
/// the peer closed the connection cleanly between frames; a close inside a
/// frame is an `UnexpectedEof` error.
pub async fn read<T: DeserializeOwned, R: AsyncRead + Unpin>(
    reader: &mut R,
    max_frame_bytes: usize,
    buf: &mut Vec<u8>,
) -> io::Result<Option<T>> {
    let mut header = [0u8; HEADER_BYTES];
    let mut filled = 0;
    while filled < HEADER_BYTES {
        let n = reader.read(&mut header[filled..]).await?;
        if n == 0 {
            return if filled == 0 {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        filled += n;
    }
    let length = u32::from_be_bytes(header) as usize;
    check_length(length, max_frame_bytes)?;
    buf.clear();
    buf.resize(length, 0);
    reader.read_exact(buf).await?;
    serde_json::from_slice(buf)
        .map(Some)
        .map_err(|e| invalid(format!("cannot decode a frame: {e}")))
}

fn check_length(length: usize, max_frame_bytes: usize) -> io::Result<()> {
    if length > max_frame_bytes {
        return Err(invalid(format!(
            "frame of {length} bytes is over the limit of {max_frame_bytes} \
             (raise it with max_frame_bytes on both the client and the server)"
        )));
    }
    Ok(())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn a_frame_round_trips_and_a_clean_close_is_none() {
        let mut frame = Vec::new();
        encode(&("put", 7, vec!["a b"]), 1024, &mut frame).unwrap();
        assert_eq!(&frame[..4], &(frame.len() as u32 - 4).to_be_bytes());
        let mut two = frame.clone();
        two.extend_from_slice(&frame);
        let mut reader = &two[..];
        let mut buf = Vec::new();
        block_on(async {
            for _ in 0..2 {
                let got: Option<(String, i64, Vec<String>)> =
                    read(&mut reader, 1024, &mut buf).await.unwrap();
                assert_eq!(got, Some(("put".into(), 7, vec!["a b".into()])));
            }
            let end: Option<(String, i64, Vec<String>)> =
                read(&mut reader, 1024, &mut buf).await.unwrap();
            assert_eq!(end, None);
        });
    }

    #[test]
    fn a_frame_cut_short_is_an_error_not_a_message() {
        let mut frame = Vec::new();
        encode(&"hello", 1024, &mut frame).unwrap();
        let mut buf = Vec::new();
        for cut in [2, frame.len() - 1] {
            let mut reader = &frame[..cut];
            let err = block_on(read::<String, _>(&mut reader, 1024, &mut buf)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
        }
    }

    #[test]
    fn frames_over_the_limit_are_refused_on_both_ends() {
        let mut frame = Vec::new();
        let err = encode(&"x".repeat(100), 50, &mut frame).unwrap_err();
        assert!(err.to_string().contains("over the limit of 50"), "{err}");
        encode(&"x".repeat(100), 1024, &mut frame).unwrap();
        let mut reader = &frame[..];
        let err = block_on(read::<String, _>(&mut reader, 50, &mut Vec::new())).unwrap_err();
        assert!(err.to_string().contains("max_frame_bytes"), "{err}");
    }

    #[test]
    fn a_body_of_the_wrong_type_is_invalid_data() {
        let mut frame = Vec::new();
        encode(&42, 1024, &mut frame).unwrap();
        let mut reader = &frame[..];
        let err = block_on(read::<String, _>(&mut reader, 1024, &mut Vec::new())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
