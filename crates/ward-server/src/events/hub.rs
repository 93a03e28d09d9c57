//! One node's event hub: every event gets the next sequence number of this
//! process, is kept in a bounded ring for subscribers that resume, and is
//! broadcast to the open streams.
//!
//! A cursor is `<epoch>-<seq>`: the epoch is drawn at random when the hub
//! is made (one per process start), so a cursor from another node or an
//! earlier start never matches, and sequence numbers only grow. A
//! subscriber resumes where it left off only when its cursor is of this
//! epoch and nothing after it has left the ring; otherwise it is told to
//! drop its cache (`reset`) and starts from now.
//!
//! Each event is rendered once, as the SSE message every stream writes:
//! a thousand subscribers share its bytes. Subscribing takes the ring's
//! lock, so the replay it gets and the live feed it joins neither overlap
//! nor leave a gap.

use axum::body::Bytes;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};
use ward_api::StreamEvent;
use ward_core::Entropy;

/// One published event.
#[derive(Debug)]
pub struct Published {
    pub seq: u64,
    pub event: StreamEvent,
    /// The SSE message: `id:`, `event:`, `data:`, blank line.
    pub frame: Bytes,
}

struct Ring {
    /// The sequence number of the last event published (0: none yet).
    last: u64,
    kept: VecDeque<Arc<Published>>,
}

/// The event hub of one node.
pub struct Hub {
    epoch: String,
    capacity: usize,
    ring: Mutex<Ring>,
    live: broadcast::Sender<Arc<Published>>,
    subscribers: Arc<AtomicUsize>,
    max_subscribers: usize,
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("epoch", &self.epoch)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// Where a new subscriber starts.
#[derive(Debug)]
pub enum Start {
    /// Its cursor is of this epoch and in the window: these events (maybe
    /// none) are what it missed.
    Replay(Vec<Arc<Published>>),
    /// It cannot be told what it missed: a `reset` with this reason, and
    /// this cursor (the current position), comes first.
    Reset { reason: &'static str, cursor: String },
}

/// An open subscription: where it starts, the live feed, and its place
/// among the node's subscribers (given back on drop).
#[derive(Debug)]
pub struct Subscription {
    pub start: Start,
    pub live: broadcast::Receiver<Arc<Published>>,
    pub closing: watch::Receiver<bool>,
    pub slot: Slot,
}

/// One of `max_subscribers`.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Why a stream starts over.
pub mod reason {
    pub const NO_CURSOR: &str = "no Last-Event-ID: what was missed cannot be told";
    pub const OTHER_EPOCH: &str =
        "Last-Event-ID is from another node or an earlier start of this one: what was missed cannot be told";
    pub const TOO_OLD: &str = "Last-Event-ID is older than this node's replay window: events were missed";
    pub const LAGGED: &str = "this subscriber fell behind the stream: events were missed";
    pub const UNREADABLE: &str = "Last-Event-ID is not a cursor of this stream";
    pub const LISTENER: &str =
        "this node may have missed changes made on other nodes (its database listener reconnected)";
}

impl Hub {
    pub fn new(replay: usize, max_subscribers: usize, entropy: &mut dyn Entropy) -> Self {
        let mut bytes = [0u8; 8];
        entropy.fill(&mut bytes);
        let epoch = format!("{:016x}", u64::from_be_bytes(bytes));
        // The live channel holds at least a few events even with no replay
        // window, so a burst does not make every stream lag.
        let (live, _) = broadcast::channel(replay.max(64));
        let (closing, _) = watch::channel(false);
        Self {
            epoch,
            capacity: replay,
            ring: Mutex::new(Ring { last: 0, kept: VecDeque::with_capacity(replay.min(4096)) }),
            live,
            subscribers: Arc::new(AtomicUsize::new(0)),
            max_subscribers,
            closing,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cursor of event `seq` of this hub.
    pub fn cursor(&self, seq: u64) -> String {
        format!("{}-{seq}", self.epoch)
    }

    /// Publishes `event` to every open stream and keeps it for replay.
    pub fn publish(&self, event: StreamEvent) {
        let mut ring = self.lock();
        ring.last += 1;
        let seq = ring.last;
        let published = Arc::new(Published { seq, frame: frame(&self.cursor(seq), &event), event });
        if self.capacity > 0 {
            if ring.kept.len() == self.capacity {
                ring.kept.pop_front();
            }
            ring.kept.push_back(published.clone());
        }
        // No stream open: nobody to tell.
        let _ = self.live.send(published);
    }

    /// Opens a subscription resuming after `last_event_id`; `None` when the
    /// node already serves `max_subscribers`.
    pub fn subscribe(&self, last_event_id: Option<&str>) -> Option<Subscription> {
        let taken = self.subscribers.fetch_add(1, Ordering::SeqCst);
        let slot = Slot(self.subscribers.clone());
        if taken >= self.max_subscribers {
            return None;
        }
        let ring = self.lock();
        let live = self.live.subscribe();
        let start = self.start(&ring, last_event_id);
        drop(ring);
        Some(Subscription { start, live, closing: self.closing.subscribe(), slot })
    }

    /// A fresh live feed after a subscriber lagged: the current position
    /// (the cursor of the `reset` it must send) and the feed from there on.
    pub fn rejoin(&self) -> (String, broadcast::Receiver<Arc<Published>>) {
        let ring = self.lock();
        (self.cursor(ring.last), self.live.subscribe())
    }

    fn start(&self, ring: &Ring, last_event_id: Option<&str>) -> Start {
        let reset = |reason| Start::Reset { reason, cursor: self.cursor(ring.last) };
        let Some(given) = last_event_id.map(str::trim) else { return reset(reason::NO_CURSOR) };
        let Some((epoch, seq)) = given.rsplit_once('-') else { return reset(reason::UNREADABLE) };
        let Ok(seq) = seq.parse::<u64>() else { return reset(reason::UNREADABLE) };
        if epoch != self.epoch || seq > ring.last {
            return reset(reason::OTHER_EPOCH);
        }
        // The oldest event kept; everything after `seq` must still be here.
        let oldest = ring.kept.front().map_or(ring.last + 1, |p| p.seq);
        if seq + 1 < oldest {
            return reset(reason::TOO_OLD);
        }
        Start::Replay(ring.kept.iter().filter(|p| p.seq > seq).cloned().collect())
    }

    /// Open streams right now.
    pub fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::SeqCst).min(self.max_subscribers)
    }

    /// Ends every open stream (the server is shutting down): they would
    /// otherwise hold their connections open past the shutdown.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// An event as one SSE message.
pub fn frame(cursor: &str, event: &StreamEvent) -> Bytes {
    // A `StreamEvent` is strings only: serializing cannot fail, and JSON
    // escapes every newline, so `data:` is one line.
    let data = serde_json::to_string(event).unwrap_or_default();
    Bytes::from(format!("id: {cursor}\nevent: {}\ndata: {data}\n\n", event.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fill(u8);
    impl Entropy for Fill {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    fn token(n: u32) -> StreamEvent {
        StreamEvent::Token { token_id: format!("tok_{n}") }
    }

    fn replayed(start: &Start) -> Vec<u64> {
        match start {
            Start::Replay(events) => events.iter().map(|p| p.seq).collect(),
            Start::Reset { reason, .. } => panic!("reset: {reason}"),
        }
    }

    fn reset_reason(start: &Start) -> &'static str {
        match start {
            Start::Reset { reason, .. } => reason,
            Start::Replay(_) => "replay",
        }
    }

    #[test]
    fn a_cursor_of_this_epoch_in_the_window_replays_exactly_what_followed_it() {
        let hub = Hub::new(4, 10, &mut Fill(1));
        for n in 1..=3 {
            hub.publish(token(n));
        }
        let sub = hub.subscribe(Some(&hub.cursor(1))).expect("a slot");
        assert_eq!(replayed(&sub.start), vec![2, 3]);
        let sub = hub.subscribe(Some(&hub.cursor(3))).expect("a slot");
        assert_eq!(replayed(&sub.start), Vec::<u64>::new());
    }

    #[test]
    fn anything_but_a_cursor_in_the_window_starts_with_a_reset_at_the_current_position() {
        let hub = Hub::new(2, 10, &mut Fill(1));
        for n in 1..=5 {
            hub.publish(token(n));
        }
        let other = Hub::new(2, 10, &mut Fill(2));
        for (given, why) in [
            (None, reason::NO_CURSOR),
            (Some(hub.cursor(2)), reason::TOO_OLD),
            (Some(other.cursor(4)), reason::OTHER_EPOCH),
            (Some(hub.cursor(9)), reason::OTHER_EPOCH),
            (Some("garbage".to_owned()), reason::UNREADABLE),
        ] {
            let sub = hub.subscribe(given.as_deref()).expect("a slot");
            assert_eq!(reset_reason(&sub.start), why, "{given:?}");
            if let Start::Reset { cursor, .. } = &sub.start {
                assert_eq!(cursor, &hub.cursor(5));
            }
        }
        // The oldest kept is 4: a cursor at 3 misses nothing.
        assert_eq!(replayed(&hub.subscribe(Some(&hub.cursor(3))).expect("a slot").start), vec![4, 5]);
    }

    #[test]
    fn a_subscriber_hears_what_is_published_after_it_joined_and_slots_are_bounded() {
        let hub = Hub::new(4, 1, &mut Fill(1));
        let mut sub = hub.subscribe(None).expect("a slot");
        assert!(hub.subscribe(None).is_none(), "one subscriber at most");
        hub.publish(token(7));
        let got = sub.live.try_recv().expect("the event");
        assert_eq!(got.event, token(7));
        assert_eq!(
            std::str::from_utf8(&got.frame).ok(),
            Some(
                format!(
                    "id: {}\nevent: token\ndata: {{\"kind\":\"token\",\"token_id\":\"tok_7\"}}\n\n",
                    hub.cursor(1)
                )
                .as_str()
            )
        );
        drop(sub);
        assert!(hub.subscribe(None).is_some(), "the slot came back");
    }
}
