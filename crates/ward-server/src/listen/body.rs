//! The body timeout: a request's whole body must arrive within
//! `server.body_timeout` of its headers. A client that announces 10 MB and
//! sends 9 bytes gets an error when the deadline passes, and since its body
//! was not read to the end, hyper closes the connection after answering.
//! The deadline is for the whole body, not between chunks, so a client
//! that trickles one byte a second cannot hold a connection either.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Middleware: gives the request body a deadline of `timeout` from now.
pub async fn layer(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let request = request.map(|body| Body::new(Deadline::new(body, timeout)));
    next.run(request).await
}

/// The body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(Duration);

struct Deadline {
    inner: Body,
    timeout: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl Deadline {
    fn new(inner: Body, timeout: Duration) -> Self {
        Self { inner, timeout, sleep: Box::pin(tokio::time::sleep_until(Instant::now() + timeout)) }
    }
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut(self.timeout))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use std::future::poll_fn;

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_fails_at_the_deadline() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        let stream = futures_stream(rx);
        let _ = tx.try_send(Ok(Frame::data(Bytes::from_static(b"123456789"))));
        let mut body = Deadline::new(Body::new(stream), Duration::from_secs(1));
        let first = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(matches!(first, Some(Ok(_))));
        let second = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        let err = second.and_then(Result::err).map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("did not arrive within"), "{err}");
        drop(tx); // the sender stayed open: the body stalled, it did not end
    }

    /// A body fed from a channel.
    fn futures_stream(
        rx: tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>,
    ) -> impl http_body::Body<Data = Bytes, Error = std::io::Error> + Send + 'static {
        struct Channel(tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>);
        impl http_body::Body for Channel {
            type Data = Bytes;
            type Error = std::io::Error;
            fn poll_frame(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
                self.0.poll_recv(cx)
            }
        }
        Channel(rx)
    }
}
