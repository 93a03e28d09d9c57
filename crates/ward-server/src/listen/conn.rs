//! One connection: the TLS handshake (if any), then hyper's connection —
//! HTTP/1.1, or HTTP/2 (ALPN `h2` over TLS, prior knowledge on plain TCP:
//! hyper-util's auto builder tells them apart by the first bytes) — under
//! three deadlines, all from `[server]`:
//!
//! - the TLS handshake must finish within `header_timeout`;
//! - a request's headers must be complete within `header_timeout` of the
//!   connection (the first request) or of the first byte of the request
//!   (later ones on a kept-alive connection); past it the connection is
//!   dropped without an answer;
//! - a kept-alive connection waits `idle_timeout` for its next request,
//!   then is closed.
//!
//! While a request is being handled no deadline runs here: its body has
//! its own (`super::body`), and the handler may take as long as it takes;
//! a response streamed with no known length (the revocation stream) counts
//! as handled until its last byte.
//! On HTTP/2 several requests run at once on one connection: it is busy
//! while any is in flight, and idle from when the last one ends (a stream
//! the client resets counts as ended). Frames that are not a request (PING,
//! WINDOW_UPDATE, SETTINGS) do not end its idleness: `idle_timeout` after
//! its last request an HTTP/2 connection is closed (GOAWAY), whatever it
//! sent meanwhile. `header_timeout` holds for its first request.
//! Each connection holds one of `max_connections` slots, and one of its
//! address's `max_connections_per_address`, until it ends.

use crate::config::TransportLimits;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, sleep_until};
use tower_service::Service;

/// What every connection is served with.
pub(super) struct Server {
    pub app: axum::Router,
    pub tls: Option<super::TlsConfig>,
    pub limits: TransportLimits,
    /// Becomes true when the server shuts down.
    pub closing: watch::Receiver<bool>,
}

impl Server {
    /// Serves `stream` on its own task, holding `slot` (what it counts
    /// against: `super::run`'s permits) until it closes.
    pub fn spawn<S>(&self, stream: S, peer: SocketAddr, slot: impl Send + 'static)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = self.app.clone();
        let tls = self.tls.as_ref().map(super::TlsConfig::current);
        let limits = self.limits.clone();
        let closing = self.closing.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let Some(config) = tls else {
                return serve(stream, peer, app, &limits, closing).await;
            };
            let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
            match tokio::time::timeout(limits.header_timeout, handshake).await {
                Ok(Ok(stream)) => serve(stream, peer, app, &limits, closing).await,
                Ok(Err(e)) => tracing::debug!(client.addr = %peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(client.addr = %peer, "TLS handshake timed out"),
            }
        });
    }
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for the next request; no byte of it yet.
    Idle(Instant),
    /// Reading a request's headers, since then.
    Head(Instant),
    /// This many requests are being handled (more than one on HTTP/2).
    Busy(usize),
}

/// The phase, shared by the socket (bytes read), the service (request in
/// and out) and the task that enforces the deadlines.
struct Tracker {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Tracker {
    fn set(&self, next: impl FnOnce(Phase) -> Option<Phase>) {
        let mut phase = match self.phase.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(next) = next(*phase) {
            *phase = next;
            drop(phase);
            self.changed.notify_one();
        }
    }

    fn get(&self) -> Phase {
        match self.phase.lock() {
            Ok(p) => *p,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

async fn serve<S>(
    stream: S,
    peer: SocketAddr,
    app: axum::Router,
    limits: &TransportLimits,
    mut closing: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let tracker =
        Arc::new(Tracker { phase: Mutex::new(Phase::Head(Instant::now())), changed: Notify::new() });
    let io = TokioIo::new(Tracked { io: stream, tracker: tracker.clone(), first_read: true, http2: false });
    let in_service = tracker.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut app = app.clone();
        let in_flight = InFlight::start(in_service.clone());
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        async move {
            let response = app.call(request).await;
            // A body of known length is written at once; a stream (the
            // revocation stream) keeps the request in flight until it ends,
            // so no idle deadline closes the connection under it.
            Ok::<_, std::convert::Infallible>(match response {
                Ok(response) if http_body::Body::size_hint(response.body()).exact().is_none() => {
                    response.map(|body| Body::new(Streaming { body, _in_flight: in_flight }))
                }
                Ok(response) => response,
                Err(never) => match never {},
            })
        }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut drain_until: Option<Instant> = None;
    if *closing.borrow() {
        conn.as_mut().graceful_shutdown();
        drain_until = Some(Instant::now() + limits.header_timeout + limits.body_timeout);
    }
    loop {
        let deadline = match (drain_until, tracker.get()) {
            (Some(until), _) => Some(until),
            (None, Phase::Idle(since)) => Some(since + limits.idle_timeout),
            (None, Phase::Head(since)) => Some(since + limits.header_timeout),
            (None, Phase::Busy(_)) => None,
        };
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(client.addr = %peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = tracker.changed.notified() => {}
            _ = closing.changed(), if drain_until.is_none() => {
                conn.as_mut().graceful_shutdown();
                drain_until = Some(Instant::now() + limits.header_timeout + limits.body_timeout);
            }
            () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                match (drain_until, tracker.get()) {
                    (None, Phase::Idle(since)) if since + limits.idle_timeout <= Instant::now() => {
                        // Closes at once: no request is in flight.
                        conn.as_mut().graceful_shutdown();
                        drain_until = Some(Instant::now() + limits.header_timeout);
                    }
                    (None, Phase::Head(since)) if since + limits.header_timeout <= Instant::now() => {
                        tracing::debug!(client.addr = %peer, "request headers timed out; connection dropped");
                        return;
                    }
                    (Some(until), _) if until <= Instant::now() => {
                        tracing::debug!(client.addr = %peer, "connection did not finish in time; dropped");
                        return;
                    }
                    _ => {}
                }
            }
        }
    }
}

/// One request in flight, from the moment hyper hands it over until its
/// handler answers or the request is dropped (a reset HTTP/2 stream).
struct InFlight(Arc<Tracker>);

impl InFlight {
    fn start(tracker: Arc<Tracker>) -> Self {
        tracker.set(|phase| match phase {
            Phase::Busy(n) => Some(Phase::Busy(n + 1)),
            _ => Some(Phase::Busy(1)),
        });
        Self(tracker)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.set(|phase| match phase {
            Phase::Busy(n) if n > 1 => Some(Phase::Busy(n - 1)),
            _ => Some(Phase::Idle(Instant::now())),
        });
    }
}

/// A streamed response body, holding its request in flight until it ends
/// (or hyper drops it: the client went away).
struct Streaming {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Streaming {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The socket, noting when the first byte of a request arrives.
struct Tracked<S> {
    io: S,
    tracker: Arc<Tracker>,
    /// Nothing read yet.
    first_read: bool,
    /// The connection opened with the HTTP/2 preface.
    http2: bool,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            if self.first_read {
                // Every HTTP/2 client opens with this preface, over TLS too.
                self.first_read = false;
                self.http2 = buf.filled()[before..].starts_with(b"PRI * HTTP/2.0");
            }
            // On HTTP/2 a byte while idle is as likely a PING or a window
            // update as a request: the connection stays idle until a
            // request arrives (`InFlight`), under `idle_timeout`.
            if !self.http2 {
                self.tracker.set(|phase| match phase {
                    Phase::Idle(_) => Some(Phase::Head(Instant::now())),
                    _ => None,
                });
            }
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
