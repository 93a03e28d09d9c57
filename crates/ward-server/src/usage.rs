//! Last-used tracking without a database write per request.
//!
//! Each use is recorded in memory (one map insert under a mutex); a
//! background task flushes the batch every `usage.flush_interval`, and once
//! more at shutdown. Listings overlay the pending times, so `last_used_at` is
//! current even before a flush. A failed flush puts its batch back. The
//! clients each token was used from ride along (`crate::clients`), in the
//! same flush.

use crate::clients::RecentClients;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ward_core::TokenId;
use ward_store::{ClientSeen, Store};

/// Pending last-used times, by token.
pub struct UsageTracker {
    store: Arc<dyn Store>,
    pending: Mutex<HashMap<TokenId, DateTime<Utc>>>,
    clients: RecentClients,
}

impl std::fmt::Debug for UsageTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageTracker").finish_non_exhaustive()
    }
}

impl UsageTracker {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store, pending: Mutex::new(HashMap::new()), clients: RecentClients::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenId, DateTime<Utc>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes that `token` was used at `at`.
    pub fn record(&self, token: &TokenId, at: DateTime<Utc>) {
        let mut pending = self.lock();
        match pending.get_mut(token) {
            Some(t) if *t >= at => {}
            Some(t) => *t = at,
            None => {
                pending.insert(token.clone(), at);
            }
        }
    }

    /// Notes the current request's client (address and user agent) as one
    /// `token` was used from at `at`; nothing outside a request.
    pub fn record_client(&self, token: &TokenId, at: DateTime<Utc>) {
        crate::audit::context::with_client(|address, agent| self.clients.record(token, address, agent, at));
    }

    /// The clients `token` was used from: `stored` with what is pending.
    pub fn clients(&self, token: &TokenId, stored: Vec<ClientSeen>) -> Vec<ClientSeen> {
        self.clients.overlay(token, stored)
    }

    /// The newer of the stored time and a pending one.
    pub fn last_used(&self, token: &TokenId, stored: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let pending = self.lock().get(token).copied();
        stored.max(pending)
    }

    /// Writes every pending time in one batch.
    pub async fn flush(&self) {
        let seen = self.clients.take();
        if !seen.is_empty()
            && let Err(e) = self.store.record_clients(&seen).await
        {
            tracing::warn!(error = %e, usage.pending = seen.len(), "could not record token clients; will retry");
            self.clients.put_back(seen);
        }
        let batch: Vec<(TokenId, DateTime<Utc>)> = std::mem::take(&mut *self.lock()).into_iter().collect();
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.store.record_usage(&batch).await {
            tracing::warn!(error = %e, usage.pending = batch.len(), "could not record token usage; will retry");
            for (id, at) in batch {
                self.record(&id, at);
            }
        }
    }

    /// Flushes every `interval` until the task is dropped.
    pub async fn run(self: Arc<Self>, interval: Duration) {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.flush().await;
        }
    }
}
