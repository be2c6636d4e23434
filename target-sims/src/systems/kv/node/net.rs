//! The node's network: an accept loop that hands each inbound request to
//! the node as an event and writes back its answer, and one link per peer
//! that sends requests one at a time and posts the replies back as events.

use super::{Event, Outbound, MAX_CONNECTIONS, PORT};
use crate::systems::kv::protocol::{FrameConn, Reply, Request};
use crate::systems::kv::settings::KvConfig;
use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use turmoil::net::{TcpListener, TcpStream};

pub(super) async fn accept(listener: TcpListener, events: mpsc::Sender<Event>) {
    let open = Rc::new(Cell::new(0usize));
    while let Ok((stream, _)) = listener.accept().await {
        if open.get() >= MAX_CONNECTIONS {
            continue;
        }
        open.set(open.get() + 1);
        let (events, open) = (events.clone(), open.clone());
        tokio::task::spawn_local(async move {
            handle_connection(stream, events).await;
            open.set(open.get() - 1);
        });
    }
}

async fn handle_connection(stream: TcpStream, events: mpsc::Sender<Event>) {
    let mut conn = FrameConn::new(stream);
    while let Ok(Some(text)) = conn.recv().await {
        let reply = match Request::decode(&text) {
            Err(why) => Reply::Unavailable(format!("bad request: {why}")),
            Ok(request) => {
                let (tx, rx) = oneshot::channel();
                if events
                    .send(Event::Request { request, reply: tx })
                    .await
                    .is_err()
                {
                    return;
                }
                rx.await
                    .unwrap_or_else(|_| Reply::Unknown("request dropped".into()))
            }
        };
        if conn.send(&reply.encode()).await.is_err() {
            return;
        }
    }
}

async fn call(conn: &mut Option<FrameConn>, host: &str, text: &str) -> io::Result<Option<String>> {
    if conn.is_none() {
        *conn = Some(FrameConn::new(TcpStream::connect((host, PORT)).await?));
    }
    let c = conn.as_mut().expect("connected above");
    c.send(text).await?;
    c.recv().await
}

/// Sends one peer its requests, one at a time, each bounded by `timeout`.
pub(super) async fn peer_link(
    peer: usize,
    mut outbox: mpsc::Receiver<Outbound>,
    events: mpsc::Sender<Event>,
    timeout: Duration,
) {
    let host = KvConfig::host(peer);
    let mut conn = None;
    while let Some(out) = outbox.recv().await {
        let text = out.request.encode();
        let reply = match tokio::time::timeout(timeout, call(&mut conn, &host, &text)).await {
            Ok(Ok(Some(text))) => Reply::decode(&text).ok(),
            _ => None,
        };
        if reply.is_none() {
            // A late answer must not be taken for the next request's.
            conn = None;
        }
        let event = Event::PeerReply {
            peer,
            sent: out.sent,
            reply,
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}
