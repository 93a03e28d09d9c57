//! The subscription to `GET /v1/events` (wire form: `ward_api::StreamEvent`,
//! one SSE message per event, heartbeat comments between them).
//!
//! One task per Verifier: connect with the Verifier's credential (and
//! `Last-Event-ID` once it has seen an id), read frames, and for each one
//! mark the stream as heard and apply it — `token` and `agent_token` evict
//! one token id, `user` evicts that owner's tokens and every signed token
//! (whose minters the cache does not know), `agent` evicts the agent's
//! tokens, `key` evicts the key's tokens and forgets the key, and `reset`
//! (or anything this version cannot read) forgets everything, keys
//! included. A connection silent for the staleness bound is dropped; every
//! failure waits (100 ms or the server's `retry:` hint, doubling up to
//! `reconnect_max`) and reconnects. Freshness is judged only on frames
//! read, so after a reconnect the cache is trusted again once the replay
//! (or `reset`) has been applied and the server said anything.

use super::Inner;
use super::cache::Target;
use super::sse::{Frame, Parser};
use reqwest::Method;
use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use ward_api::StreamEvent;

/// The subscription as last seen, published on a watch channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamStatus {
    /// A response is open now.
    pub connected: bool,
    /// Successful connections so far.
    pub connects: u64,
    /// Frames read so far (events, heartbeats).
    pub frames: u64,
    /// Events applied so far (`reset` included).
    pub events: u64,
    /// `reset` events (and unreadable ones, taken as `reset`).
    pub resets: u64,
    /// The last event id, sent back as `Last-Event-ID`.
    pub last_event_id: Option<String>,
    /// Why the last connection attempt or connection failed.
    pub last_error: Option<String>,
}

const FIRST_WAIT: Duration = Duration::from_millis(100);
/// A stream that never ends on its own: the read deadline is ours.
const NO_TOTAL_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The running subscription; aborted when dropped.
pub(crate) struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Task {
    pub(crate) fn spawn(inner: Arc<Inner>, reconnect_max: Duration) -> Self {
        Self(tokio::spawn(run(inner, reconnect_max)))
    }
}

async fn run(inner: Arc<Inner>, reconnect_max: Duration) {
    let mut last_id: Option<String> = None;
    let mut base_wait = FIRST_WAIT;
    let mut wait = base_wait;
    loop {
        let outcome = subscribe(&inner, &mut last_id, &mut base_wait).await;
        inner.status.send_modify(|s| {
            s.connected = false;
            s.last_error = Some(outcome.reason.clone());
        });
        if outcome.heard {
            wait = base_wait;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(reconnect_max).max(base_wait);
    }
}

struct Outcome {
    /// Whether the connection delivered at least one frame.
    heard: bool,
    reason: String,
}

/// One connection, until it fails or goes silent.
async fn subscribe(inner: &Inner, last_id: &mut Option<String>, retry: &mut Duration) -> Outcome {
    let mut request = inner
        .client
        .request(Method::GET, &["v1", "events"])
        .header(ACCEPT, "text/event-stream")
        .header(CACHE_CONTROL, "no-cache")
        .timeout(NO_TOTAL_TIMEOUT);
    if let Some(id) = last_id.as_deref().and_then(|id| HeaderValue::from_str(id).ok()) {
        request = request.header("Last-Event-ID", id);
    }
    let mut response = match request.send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => return Outcome { heard: false, reason: format!("GET /v1/events answered {}", r.status()) },
        Err(e) => {
            return Outcome {
                heard: false,
                reason: crate::Error::from_transport(inner.client.base_url(), &e).to_string(),
            };
        }
    };
    inner.status.send_modify(|s| {
        s.connected = true;
        s.connects += 1;
    });
    let idle = Duration::from_millis(inner.staleness_ms);
    let mut parser = Parser::default();
    let mut frames = Vec::new();
    let mut heard = false;
    loop {
        let chunk = match tokio::time::timeout(idle, response.chunk()).await {
            Err(_) => {
                return Outcome { heard, reason: "the stream was silent past the staleness bound".into() };
            }
            Ok(Err(e)) => return Outcome { heard, reason: format!("the stream broke: {e}") },
            Ok(Ok(None)) => return Outcome { heard, reason: "the server closed the stream".into() },
            Ok(Ok(Some(chunk))) => chunk,
        };
        if parser.feed(&chunk, &mut frames).is_err() {
            return Outcome { heard, reason: "the stream sent a line too long to be ward's".into() };
        }
        for frame in frames.drain(..) {
            match frame {
                Frame::Comment => {}
                // Sent before the replay: not yet a sign of being caught up.
                Frame::Retry(ms) => {
                    *retry = Duration::from_millis(ms.clamp(10, 60_000));
                    continue;
                }
                Frame::Message { id, data, .. } => {
                    let reset = apply(inner, &data);
                    if id.is_some() {
                        last_id.clone_from(&id);
                    }
                    inner.status.send_modify(|s| {
                        s.events += 1;
                        s.resets += u64::from(reset);
                        if id.is_some() {
                            s.last_event_id.clone_from(&id);
                        }
                    });
                }
            }
            heard = true;
            inner.heard();
            inner.status.send_modify(|s| s.frames += 1);
        }
    }
}

/// Applies one event's data; returns whether it forgot everything.
fn apply(inner: &Inner, data: &str) -> bool {
    let Ok(event) = serde_json::from_str::<StreamEvent>(data) else {
        // An event this version cannot read: forgetting more is always safe.
        forget_all(inner);
        return true;
    };
    match &event {
        StreamEvent::Token { token_id } => {
            inner.cache.evict(Target::TokenId(token_id));
        }
        StreamEvent::AgentToken { jti } => {
            inner.cache.evict(Target::TokenId(jti));
        }
        StreamEvent::User { user, .. } => {
            inner.cache.evict(Target::Subject(user));
            inner.cache.evict(Target::AllSigned);
        }
        StreamEvent::Agent { agent } => {
            inner.cache.evict(Target::Subject(agent));
        }
        StreamEvent::Key { kid } => {
            inner.jwks.forget(kid);
            inner.cache.evict(Target::Kid(kid));
        }
        StreamEvent::Reset { .. } => {
            forget_all(inner);
            return true;
        }
    }
    false
}

fn forget_all(inner: &Inner) {
    inner.jwks.clear();
    inner.cache.evict(Target::All);
}
