//! One subscriber's stream: first the `retry:` hint, then either the events
//! it missed (its `Last-Event-ID` was in the window) or a `reset` carrying
//! the current cursor, then a `: subscribed` comment; then every event as it is published, and a comment
//! line every `[events] heartbeat` while nothing happens.
//!
//! No credential outlives the one that obtained it: the credential that
//! opened the stream is checked again at every heartbeat, and at once on
//! an event that may concern it (its token, its user, its agent, a key, a
//! reset); when it is no longer valid, or no longer holds
//! `ward:introspect`, or cannot be checked (the database is down), the
//! stream ends, after the event that ended it. A subscriber that falls
//! behind the live feed is sent `reset` and rejoins at the current
//! position: it is never silently skipped past events. Shutdown ends every
//! stream.
//!
//! Idle, a stream is this struct and the small future waiting on its three
//! sources; the check's larger future is boxed only while it runs.

use super::hub::{Hub, Published, Slot, Start, Subscription, frame, reason};
use crate::authority::check::{Check, check};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio::time::{Interval, MissedTickBehavior};
use ward_api::StreamEvent;
use ward_core::policy::SCOPE_INTROSPECT;
use ward_core::{Caller, PrincipalKind, TokenKind};
use zeroize::Zeroizing;

/// The comment line an idle stream sends.
pub const HEARTBEAT: &[u8] = b": heartbeat\n\n";
/// The comment line that follows the replay (or the `reset`) of a new stream.
pub const SUBSCRIBED: &[u8] = b": subscribed\n\n";

/// A subscriber's open stream.
pub struct Stream {
    state: AppState,
    /// The credential that opened the stream, checked again while it runs.
    presented: Zeroizing<String>,
    caller: Caller,
    queued: VecDeque<Bytes>,
    live: broadcast::Receiver<Arc<Published>>,
    closing: watch::Receiver<bool>,
    heartbeat: Interval,
    /// The credential ended: the event that says so is the last one sent.
    ended: bool,
    _slot: Slot,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("token_id", &self.caller.token_id).finish_non_exhaustive()
    }
}

impl Stream {
    pub fn new(state: AppState, presented: Zeroizing<String>, caller: Caller, sub: Subscription) -> Self {
        let settings = &state.settings.events;
        let retry = format!("retry: {}\n\n", settings.retry.as_millis());
        let mut queued = VecDeque::from([Bytes::from(retry)]);
        match sub.start {
            Start::Replay(missed) => queued.extend(missed.iter().map(|p| p.frame.clone())),
            Start::Reset { reason, cursor } => queued.push_back(reset(&cursor, reason)),
        }
        // Caught up: a subscriber that measures staleness from the last
        // thing it read need not wait a heartbeat for it.
        queued.push_back(Bytes::from_static(SUBSCRIBED));
        let period = settings.heartbeat;
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            state,
            presented,
            caller,
            queued,
            live: sub.live,
            closing: sub.closing,
            heartbeat,
            ended: false,
            _slot: sub.slot,
        }
    }

    /// The response body: the stream's messages until it ends.
    pub fn into_body(self) -> Body {
        Body::from_stream(futures_util::stream::unfold(self, |mut s| async move {
            s.next().await.map(|bytes| (Ok::<_, std::convert::Infallible>(bytes), s))
        }))
    }

    async fn next(&mut self) -> Option<Bytes> {
        if let Some(queued) = self.queued.pop_front() {
            return Some(queued);
        }
        if self.ended || *self.closing.borrow() {
            return None;
        }
        tokio::select! {
            biased;
            _ = self.closing.changed() => None,
            got = receive(&mut self.live, &self.state.events) => match got {
                Some(Live::Event(published)) => {
                    if self.concerns(&published.event) && !self.still_valid().await {
                        self.ended = true;
                    }
                    Some(published.frame.clone())
                }
                Some(Live::Reset(reset)) => Some(reset),
                None => None,
            },
            _ = self.heartbeat.tick() => self.still_valid().await.then_some(Bytes::from_static(HEARTBEAT)),
        }
    }

    /// Whether `event` may have ended the subscriber's own credential.
    fn concerns(&self, event: &StreamEvent) -> bool {
        let me = &self.caller;
        let agent = me.token_kind == TokenKind::Agent;
        match event {
            StreamEvent::Token { token_id } => token_id.as_str() == me.token_id.as_str(),
            StreamEvent::AgentToken { jti } => jti.as_str() == me.token_id.as_str(),
            StreamEvent::User { user_id, .. } => user_id.as_str() == me.principal.id.as_str(),
            StreamEvent::Agent { agent: name } => {
                matches!(me.principal.kind, PrincipalKind::Agent { .. }) && *name == me.principal.name
            }
            StreamEvent::Key { .. } => agent,
            StreamEvent::Reset { .. } => true,
        }
    }

    /// The subscriber's credential, checked again: still valid and still
    /// holding `ward:introspect`.
    async fn still_valid(&self) -> bool {
        let verdict = Box::pin(check(&self.state, &self.presented)).await;
        matches!(verdict, Ok(Check::Valid { caller, .. }) if caller.has(SCOPE_INTROSPECT))
    }
}

/// What the live feed gives a stream next.
#[derive(Debug)]
enum Live {
    Event(Arc<Published>),
    /// It fell behind: this `reset`, at the position it rejoined at.
    Reset(Bytes),
}

/// The next event of `live`; when it lagged (the feed dropped events it
/// had not read), a `reset` instead and `live` rejoins at the current
/// position. `None` when the hub is gone.
async fn receive(live: &mut broadcast::Receiver<Arc<Published>>, hub: &Hub) -> Option<Live> {
    match live.recv().await {
        Ok(published) => Some(Live::Event(published)),
        Err(RecvError::Lagged(_)) => {
            let (cursor, rejoined) = hub.rejoin();
            *live = rejoined;
            Some(Live::Reset(reset(&cursor, reason::LAGGED)))
        }
        Err(RecvError::Closed) => None,
    }
}

/// A `reset` message at `cursor`.
fn reset(cursor: &str, reason: &str) -> Bytes {
    frame(cursor, &StreamEvent::Reset { reason: reason.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fill(u8);
    impl ward_core::Entropy for Fill {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    fn text(bytes: &Bytes) -> &str {
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    #[tokio::test]
    async fn a_subscriber_that_fell_behind_gets_a_reset_at_the_current_position_and_then_the_live_feed() {
        // A replay window of 0 leaves the live channel its minimum, 64.
        let hub = Hub::new(0, 10, &mut Fill(1));
        let mut sub = hub.subscribe(None).expect("a slot");
        for n in 0..100 {
            hub.publish(StreamEvent::Token { token_id: format!("tok_{n}") });
        }
        let reset = match receive(&mut sub.live, &hub).await {
            Some(Live::Reset(reset)) => reset,
            other => panic!("a reset, not {other:?}"),
        };
        assert!(
            text(&reset).starts_with(&format!("id: {}\nevent: reset\n", hub.cursor(100))),
            "{}",
            text(&reset)
        );
        assert!(text(&reset).contains("fell behind"));
        hub.publish(StreamEvent::Key { kid: "key_1".into() });
        let next = match receive(&mut sub.live, &hub).await {
            Some(Live::Event(next)) => next,
            other => panic!("the next event, not {other:?}"),
        };
        assert_eq!((next.seq, &next.event), (101, &StreamEvent::Key { kid: "key_1".into() }));
    }
}
