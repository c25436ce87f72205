//! The accept loop: hyper connections (HTTP/1.1 and HTTP/2) over the application router,
//! each request tagged with the client's address (`ConnectInfo`, for the sign-in rate limit),
//! a header read timeout, and graceful shutdown; below hyper, optionally TLS (`--tls`) over
//! a modelled network (`--latency`).
//!
//! hyper answers some malformed requests itself, before any route or layer runs: 400 (not
//! HTTP), 414 (URI longer than 65534 bytes) and 431 (more than 100 headers, or a head over
//! ~400 KiB), all with an empty body. [`JsonParseErrors`] wraps each connection and rewrites
//! exactly those answers into the JSON error body with the security headers, so every error
//! a client can get is JSON.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::http::error::ApiError;
use crate::http::guard::SECURITY_HEADERS;
use crate::latency;

/// A client that has not sent its request head after this long is disconnected.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What sits between an accepted socket and hyper: the modelled network (`--latency`) and
/// TLS (`--tls`), and who is told of each new connection (the request counter).
pub(crate) struct Transport {
    pub tls: Option<TlsAcceptor>,
    pub latency: Duration,
    pub on_connection: Box<dyn Fn() + Send + Sync>,
}

/// Serves `app` on `listener` until `stop` completes, then lets open connections finish.
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    transport: Transport,
    stop: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        (transport.on_connection)();
        // Answers go out as written: with Nagle's algorithm a small write waits for the
        // client's delayed ACK (up to 40 ms), which the modelled latency makes frequent.
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(remote));
                req
            });
        let connection = Connection {
            builder: builder.clone(),
            service: TowerToHyperService::new(service),
            watcher: graceful.watcher(),
        };
        let (tls, latency) = (transport.tls.clone(), transport.latency);
        tokio::spawn(async move {
            let served = match (latency.is_zero(), tls) {
                (true, None) => connection.serve(stream).await,
                (false, None) => connection.serve(latency::delayed(stream, latency)).await,
                (true, Some(tls)) => connection.serve_tls(&tls, stream).await,
                (false, Some(tls)) => {
                    let stream = latency::delayed(stream, latency);
                    connection.serve_tls(&tls, stream).await
                }
            };
            if let Err(e) = served {
                tracing::debug!("connection from {remote} ended with an error: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// One accepted connection, ready to be served over whatever stream the transport made.
struct Connection<S> {
    builder: Builder<TokioExecutor>,
    service: S,
    watcher: Watcher,
}

impl<S> Connection<S>
where
    S: hyper::service::Service<Request<hyper::body::Incoming>, Response = axum::response::Response>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    async fn serve_tls<I>(self, tls: &TlsAcceptor, io: I) -> Result<(), String>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // A client that never finishes its handshake is dropped like a slow request head.
        let stream = tokio::time::timeout(HEADER_READ_TIMEOUT, tls.accept(io))
            .await
            .map_err(|_| "no TLS handshake in time".to_owned())?
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        self.serve(stream).await
    }

    async fn serve<I>(self, io: I) -> Result<(), String>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(JsonParseErrors::new(io));
        let conn = self.builder.serve_connection(io, self.service).into_owned();
        self.watcher.watch(conn).await.map_err(|e| e.to_string())
    }
}

/// A connection whose writes pass through unchanged, except hyper's own bodyless 400, 414 and
/// 431 answers, which become JSON answers (see the module doc).
pub(crate) struct JsonParseErrors<T> {
    inner: T,
    /// A replacement answer not yet fully written.
    pending: Vec<u8>,
    sent: usize,
}

impl<T> JsonParseErrors<T> {
    pub(crate) fn new(inner: T) -> Self {
        JsonParseErrors {
            inner,
            pending: Vec::new(),
            sent: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> JsonParseErrors<T> {
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonParseErrors<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if let Some(replacement) = rewrite(buf) {
            this.pending = replacement;
            this.sent = 0;
            // Accepted whole: the replacement goes out on the next write, flush or shutdown.
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    // hyper then writes each response head as one flat buffer, which `rewrite` can recognise.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// If `buf` is exactly one of hyper's automatic error answers (a bodyless 400, 414 or 431
/// head without `Content-Type`; the application's errors always have one), the JSON answer
/// to send instead.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let code = std::str::from_utf8(rest.get(..3)?).ok()?;
    let (status, error_code, message) = match code {
        "400" => (
            StatusCode::BAD_REQUEST,
            "MALFORMED_REQUEST",
            "The request is not valid HTTP/1.1",
        ),
        "414" => (
            StatusCode::URI_TOO_LONG,
            "URI_TOO_LONG",
            "The request URI is longer than 65534 bytes",
        ),
        "431" => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HEADERS_TOO_LARGE",
            "The request has more than 100 headers, or its head is larger than 400 KiB",
        ),
        _ => return None,
    };
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    if head_end + 4 != buf.len() {
        return None;
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    if head.contains("\r\ncontent-type:") {
        return None;
    }
    let body = ApiError::new(status, error_code, message)
        .body()
        .to_string();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error"),
        body.len()
    );
    for (name, value) in SECURITY_HEADERS {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn only_hypers_bodyless_parse_errors_are_rewritten() {
        let hyper_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(rewrite(hyper_431).unwrap()).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{out}"
        );
        assert!(out.contains("content-type: application/json"), "{out}");
        assert!(out.contains("x-frame-options: DENY"), "{out}");
        let body = out.split("\r\n\r\n").nth(1).unwrap();
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "HEADERS_TOO_LARGE");
        assert_eq!(json["statusCode"], 431);

        assert!(rewrite(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n").is_some());
        // The application's own answers have a Content-Type, or a body, or another status.
        assert!(
            rewrite(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\r\n")
                .is_none()
        );
        assert!(rewrite(b"HTTP/1.1 400 Bad Request\r\n\r\n{}").is_none());
        assert!(rewrite(b"HTTP/1.1 404 Not Found\r\n\r\n").is_none());
        assert!(rewrite(b"HTTP/1.1 200 OK\r\n\r\n").is_none());
        assert!(rewrite(b"{\"partial\": \"body\"}").is_none());
    }
}
