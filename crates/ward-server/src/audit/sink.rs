//! [`AuditSink`]: where events go, cheap to call from any request.
//!
//! The channel is unbounded on purpose: an event is never dropped and a
//! request never blocks on the audit log. Token uses, the one kind of event
//! every request makes, do not travel one by one: they are counted
//! ([`super::uses`]) and reach the channel as one event per distinct use per
//! interval, so the queue grows with the rate of writes (logins, creates,
//! revokes …), which the database bounds anyway, and while the database
//! refuses writes; the writer logs how many events wait.

use super::AuditEvent;
use super::context;
use super::mirror::Mirror;
use super::uses::UseCounter;
use crate::clock::Clock;
use crate::entropy::OsEntropy;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use ward_core::EventId;
use ward_core::audit::{AuditEntry, ChainKey};
use ward_store::AuditLog;

/// How long [`AuditSink::flush`] waits for the writer.
const FLUSH_WAIT: Duration = Duration::from_secs(5);

/// What travels from requests to the writer.
#[derive(Debug)]
pub(super) enum Message {
    Event(Box<AuditEntry>),
    /// Answer once everything queued before this is stored.
    Flush(oneshot::Sender<()>),
}

/// What the writer takes while it runs and gives back when it stops.
#[derive(Debug)]
pub(super) struct WriterParts {
    pub(super) queue: mpsc::UnboundedReceiver<Message>,
    pub(super) mirror: Option<Mirror>,
}

/// Where events go: a queue in front of the store's [`AuditLog`].
pub struct AuditSink {
    log: Arc<dyn AuditLog>,
    /// The chain's HMAC key (derived from the master key, never stored).
    key: ChainKey,
    sender: mpsc::UnboundedSender<Message>,
    /// Here while no writer runs; the writer's while it does.
    parts: Mutex<Option<WriterParts>>,
    writing: AtomicBool,
    /// Set by [`AuditSink::committed`], cleared by the writer's drain.
    outbox_waiting: AtomicBool,
    uses: UseCounter,
    use_interval: Duration,
    /// Stamps events that carry no time of their own.
    clock: Clock,
}

impl std::fmt::Debug for AuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSink").field("writing", &self.writing).finish_non_exhaustive()
    }
}

impl AuditSink {
    /// A sink that writes to `log` once a writer is started
    /// ([`super::writer::AuditWriter::start`], which [`crate::serve`] does),
    /// and hands counted uses to it every `use_interval`. The chain is
    /// keyed with `key`. Events are stamped with `clock`'s time.
    pub fn new(log: Arc<dyn AuditLog>, key: ChainKey, use_interval: Duration, clock: Clock) -> Self {
        let (sender, queue) = mpsc::unbounded_channel();
        Self {
            log,
            key,
            sender,
            parts: Mutex::new(Some(WriterParts { queue, mirror: None })),
            writing: AtomicBool::new(false),
            outbox_waiting: AtomicBool::new(true),
            uses: UseCounter::default(),
            use_interval,
            clock,
        }
    }

    /// The clock events are stamped with.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// How often counted uses become events.
    pub fn use_interval(&self) -> Duration {
        self.use_interval
    }

    /// The key the chain is written and verified with.
    pub fn chain_key(&self) -> &ChainKey {
        &self.key
    }

    /// The log events are written to (and read back from).
    pub fn log(&self) -> &dyn AuditLog {
        self.log.as_ref()
    }

    pub(super) fn log_handle(&self) -> Arc<dyn AuditLog> {
        self.log.clone()
    }

    /// Mirrors every event written from now on to `mirror` as well. Takes
    /// effect when the writer (re)starts: call it before [`crate::serve`].
    pub fn mirror_to(&self, mirror: Mirror) {
        if let Some(parts) = self.parts().as_mut() {
            parts.mirror = Some(mirror);
        } else {
            tracing::warn!("the audit mirror was set while the writer runs; it is ignored");
        }
    }

    /// The event of a state change, ready to be passed to the store write
    /// that makes the change (which commits it to the audit outbox in its
    /// own transaction): stamped with the current request's id and client
    /// address, given its `evt_…` id, every field capped. Call
    /// [`AuditSink::committed`] after the write.
    pub fn prepare(&self, event: AuditEvent) -> AuditEntry {
        self.entry(context::stamp(event))
    }

    /// `event` with its `evt_…` id, at the clock's time unless it has one.
    fn entry(&self, event: AuditEvent) -> AuditEntry {
        let now = self.clock.now();
        event.into_entry(EventId::generate(now, &mut OsEntropy), now)
    }

    /// Says that a write committed events to the outbox: the writer moves
    /// them into the chain at its next tick (at most 50 ms on), or at once
    /// when a search or verify flushes.
    pub fn committed(&self) {
        self.outbox_waiting.store(true, Ordering::Release);
    }

    /// Whether a write committed outbox events since the last call.
    pub(super) fn take_outbox_waiting(&self) -> bool {
        self.outbox_waiting.swap(false, Ordering::AcqRel)
    }

    /// Records an event that is not a state change (an authorize decision,
    /// a refused login …) with the current request's id and client address.
    /// Returns at once; the writer stores it within a batch interval.
    pub fn emit(&self, event: AuditEvent) {
        self.queue(context::stamp(event));
    }

    /// Records a use of a token (`token.use`, `token.verify`) with the
    /// current request's id and client address: counted, and written as one
    /// event with the others like it within `use_interval`.
    pub fn emit_use(&self, event: AuditEvent) {
        if let Some(full) = self.uses.add(context::stamp(event), self.clock.now()) {
            full.into_iter().for_each(|event| self.queue(event));
        }
    }

    /// Queues every use counted so far as events.
    pub(super) fn hand_over_uses(&self) {
        self.uses.take().into_iter().for_each(|event| self.queue(event));
    }

    fn queue(&self, event: AuditEvent) {
        let action = event.action;
        let entry = self.entry(event);
        if self.sender.send(Message::Event(Box::new(entry))).is_err() {
            // Only if the writer task panicked with the queue in hand.
            tracing::error!(audit.action = action, "audit event lost: the audit writer is gone");
        }
    }

    /// Waits (up to 5 s) until every event emitted before this call, and
    /// every use counted so far, is stored. False when no writer runs or it
    /// could not store them in time.
    pub async fn flush(&self) -> bool {
        self.hand_over_uses();
        let (done, answer) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).is_err() || !self.writing.load(Ordering::SeqCst) {
            return false;
        }
        matches!(tokio::time::timeout(FLUSH_WAIT, answer).await, Ok(Ok(())))
    }

    pub(super) fn parts(&self) -> MutexGuard<'_, Option<WriterParts>> {
        self.parts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the queue for a writer; `None` when one already runs.
    pub(super) fn take_parts(&self) -> Option<WriterParts> {
        let parts = self.parts().take()?;
        self.writing.store(true, Ordering::SeqCst);
        Some(parts)
    }

    /// Gives the queue back when a writer stops, so events emitted after
    /// that wait for the next writer instead of being lost.
    pub(super) fn return_parts(&self, parts: WriterParts) {
        self.writing.store(false, Ordering::SeqCst);
        *self.parts() = Some(parts);
    }
}
