//! The audit writer: one task that moves queued events into the store.
//!
//! Every `usage.flush_interval` on the server's clock (checked at each
//! 50 ms tick, so a test that moves the clock sees it) it takes the sink's
//! counted token uses as events. It stores a batch when 500 events wait, when a flush is asked
//! for, and otherwise every 50 ms; each batch of up to 500 is one `append_audit`
//! transaction, chained by the store. A batch that fails stays queued, in
//! order, and is retried with a growing pause (up to 5 s); events keep
//! queuing meanwhile. After a successful append the stored events (with
//! their `seq` and hashes) go to the mirror file, if there is one.
//!
//! Every tick it reports how many events wait (queued and pending) and
//! every stored batch how long its write took (`crate::observe`).
//!
//! On [`AuditWriter::stop`] the writer takes everything still queued and
//! counted,
//! stores it (retrying for up to 10 s if the database fails), and hands the
//! queue back to the sink; only then does `stop` return.

use super::sink::{AuditSink, Message, WriterParts};
use crate::observe::AuditMetrics;
use chrono::SubsecRound;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use ward_core::audit::AuditEntry;

/// The most events one transaction appends.
const MAX_BATCH: usize = 500;
/// How often queued events are written when fewer than a batch wait.
const INTERVAL: Duration = Duration::from_millis(50);
/// Every this many ticks (1 s) the outbox is drained even if this node wrote
/// nothing to it: events another node committed before it crashed.
const OUTBOX_SWEEP_TICKS: u32 = 20;
/// The longest pause between two attempts after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long shutdown keeps retrying a failing database.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running writer; [`AuditWriter::stop`] drains it.
#[derive(Debug)]
pub struct AuditWriter {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl AuditWriter {
    /// Starts the writer for `sink`, reporting its queue and write times to
    /// `metrics`; `None` when one already runs.
    pub fn start(sink: Arc<AuditSink>, metrics: AuditMetrics) -> Option<Self> {
        let parts = sink.take_parts()?;
        let (stop, stopped) = oneshot::channel();
        let writer = Writer {
            sink,
            parts: Some(parts),
            pending: Vec::new(),
            waiters: Vec::new(),
            failures: 0,
            retry_at: None,
            outbox_due: true,
            metrics,
        };
        Some(Self { stop, task: tokio::spawn(writer.run(stopped)) })
    }

    /// Stores everything queued so far, then stops.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the audit writer failed");
        }
    }
}

struct Writer {
    sink: Arc<AuditSink>,
    /// Always `Some` while running; taken back on the way out.
    parts: Option<WriterParts>,
    pending: Vec<AuditEntry>,
    waiters: Vec<oneshot::Sender<()>>,
    failures: u32,
    retry_at: Option<Instant>,
    /// Whether the outbox should be drained at the next write.
    outbox_due: bool,
    metrics: AuditMetrics,
}

impl Writer {
    async fn run(mut self, mut stopped: oneshot::Receiver<()>) {
        let Some(mut parts) = self.parts.take() else { return };
        self.begin_keyed_chain(&mut parts).await;
        // What a crashed process left in the outbox goes first.
        self.drain_outbox(&mut parts).await;
        let mut ticker = tokio::time::interval(INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let use_interval = self.sink.use_interval().max(INTERVAL);
        let mut ticks: u32 = 0;
        let mut uses_due = self.sink.clock().instant() + use_interval;
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                message = parts.queue.recv() => match message {
                    Some(message) => {
                        let urgent = matches!(message, Message::Flush(_));
                        self.take(message);
                        if urgent || self.pending.len() >= MAX_BATCH {
                            self.write(&mut parts).await;
                        }
                    }
                    None => break,
                },
                _ = ticker.tick() => {
                    ticks = ticks.wrapping_add(1);
                    let now = self.sink.clock().instant();
                    if now >= uses_due {
                        self.sink.hand_over_uses();
                        uses_due = now + use_interval;
                    }
                    // The outbox when this node wrote to it, and every
                    // second for other nodes' writes left by a crash.
                    if self.sink.take_outbox_waiting() || ticks.is_multiple_of(OUTBOX_SWEEP_TICKS) {
                        self.outbox_due = true;
                    }
                    self.write(&mut parts).await;
                    self.metrics.queue.set((parts.queue.len() + self.pending.len()) as f64);
                }
            }
        }
        self.sink.hand_over_uses();
        self.outbox_due = true;
        while let Ok(message) = parts.queue.try_recv() {
            self.take(message);
        }
        self.drain(&mut parts).await;
        self.sink.return_parts(parts);
    }

    /// Starts the keyed chain after events chained before the audit key
    /// existed, if there are any. A failure is logged and tried again at
    /// the next start; until then verify names the first keyed event.
    async fn begin_keyed_chain(&self, parts: &mut WriterParts) {
        let now = self.sink.clock().now();
        let id = ward_core::EventId::generate(now, &mut crate::entropy::OsEntropy).to_string();
        let log = self.sink.log_handle();
        match log.begin_keyed_chain(self.sink.chain_key(), id, now.trunc_subsecs(3)).await {
            Ok(Some(start)) => {
                tracing::info!(
                    audit.unkeyed = start.seq - 1,
                    "the audit chain is keyed from seq {}",
                    start.seq
                );
                if let Some(mirror) = parts.mirror.as_mut() {
                    mirror.append(std::slice::from_ref(&start)).await;
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "could not start the keyed audit chain; will try at the next start")
            }
        }
    }

    fn take(&mut self, message: Message) {
        match message {
            Message::Event(entry) => self.pending.push(*entry),
            Message::Flush(done) => {
                self.outbox_due = true;
                self.waiters.push(done);
            }
        }
    }

    /// Moves the outbox into the chain, batch by batch. False when the
    /// database failed (the events stay in the outbox for the next try).
    async fn drain_outbox(&mut self, parts: &mut WriterParts) -> bool {
        let log = self.sink.log_handle();
        loop {
            let started = std::time::Instant::now();
            match log.drain_outbox(self.sink.chain_key(), MAX_BATCH as u32).await {
                Ok(stored) => {
                    self.metrics.flush.record(started.elapsed().as_secs_f64());
                    if let Some(mirror) = parts.mirror.as_mut() {
                        mirror.append(&stored).await;
                    }
                    if stored.len() < MAX_BATCH {
                        self.outbox_due = false;
                        return true;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not move audit events from the outbox into the chain; will retry");
                    return false;
                }
            }
        }
    }

    /// Appends pending events batch by batch, unless a retry is not due.
    async fn write(&mut self, parts: &mut WriterParts) {
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return;
        }
        if self.outbox_due && !self.drain_outbox(parts).await {
            self.failures = self.failures.saturating_add(1);
            self.retry_at = Some(Instant::now() + backoff(self.failures));
            return;
        }
        let log = self.sink.log_handle();
        while !self.pending.is_empty() {
            let n = self.pending.len().min(MAX_BATCH);
            let started = std::time::Instant::now();
            match log.append_audit(self.sink.chain_key(), &self.pending[..n]).await {
                Ok(stored) => {
                    self.metrics.flush.record(started.elapsed().as_secs_f64());
                    self.pending.drain(..n);
                    self.failures = 0;
                    self.retry_at = None;
                    if let Some(mirror) = parts.mirror.as_mut() {
                        mirror.append(&stored).await;
                    }
                }
                Err(e) => {
                    self.failures = self.failures.saturating_add(1);
                    let pause = backoff(self.failures);
                    self.retry_at = Some(Instant::now() + pause);
                    tracing::warn!(error = %e, audit.pending = self.pending.len(), retry.in_ms = pause.as_millis() as u64,
                        "could not write audit events; will retry");
                    return;
                }
            }
        }
        for done in self.waiters.drain(..) {
            let _ = done.send(());
        }
    }

    /// Writes what is left before shutdown, retrying for a while.
    async fn drain(&mut self, parts: &mut WriterParts) {
        let give_up = Instant::now() + SHUTDOWN_GRACE;
        loop {
            self.retry_at = None;
            self.write(parts).await;
            if self.pending.is_empty() && !self.outbox_due {
                return;
            }
            if Instant::now() + backoff(self.failures) > give_up {
                break;
            }
            tokio::time::sleep(backoff(self.failures)).await;
        }
        tracing::error!(audit.lost = self.pending.len(), "audit events could not be written before shutdown");
    }
}

/// 100 ms, 200 ms, 400 ms … up to [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(6);
    (Duration::from_millis(100) * factor).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_after_failures_doubles_up_to_five_seconds() {
        let pauses: Vec<u64> = (1..=8).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    }
}
