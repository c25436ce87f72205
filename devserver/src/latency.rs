//! `--latency MS`: a modelled network between the client and the server, on one machine.
//!
//! A connection's bytes pass through two pumps, one per direction. Each chunk read from one
//! side is held until half a round trip after it arrived, then written to the other, so
//! chunks sent together arrive together (a pipe, not a queue of sleeps). Nothing arrives
//! before one round trip after the connection was accepted (the TCP handshake). The server
//! then sees a request one round trip later than the client sent it, plus a handshake per new
//! connection, as over a real network with that round-trip time.
//!
//! Knows nothing of HTTP or TLS: it sits below both.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, DuplexStream};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Bytes in flight per direction before the reading pump waits for the writing one.
const WINDOW: usize = 256 * 1024;

/// The server's end of `stream` seen through a network with round-trip time `rtt`.
pub(crate) fn delayed(stream: TcpStream, rtt: Duration) -> DuplexStream {
    let (server_end, pump_end) = tokio::io::duplex(WINDOW);
    let (from_client, to_client) = stream.into_split();
    let (from_server, to_server) = tokio::io::split(pump_end);
    let half = rtt / 2;
    let handshake_done = Instant::now() + rtt;
    tokio::spawn(pump(from_client, to_server, half, handshake_done));
    tokio::spawn(pump(from_server, to_client, half, Instant::now()));
    server_end
}

/// Copies `from` to `to`, each chunk released `delay` after it arrived, none before
/// `not_before + delay`. Ends (shutting `to` down) at the end of `from` or on an error.
async fn pump<R, W>(mut from: R, mut to: W, delay: Duration, not_before: Instant)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(64);
    let reader = async move {
        loop {
            let mut buf = vec![0; 16 * 1024];
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.truncate(n);
                    let due = Instant::now().max(not_before) + delay;
                    if tx.send((due, buf)).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, buf)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&buf).await.is_err() || to.flush().await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
