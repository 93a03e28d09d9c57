//! LISTEN/NOTIFY on the `ward_invalidate` channel.
//!
//! A write that ends tokens or changes keys sends its notification inside
//! its own transaction (`pg_notify` is transactional): listeners hear of it
//! exactly when it commits, never of one that rolled back, and a change
//! whose notification cannot be sent fails and does not commit. A listener
//! task per node forwards notifications; when its connection drops it
//! reconnects by itself and sends `Resync`, because notifications sent
//! meanwhile are lost. What remains — a node that misses a notification
//! without noticing — is bounded by `cache.ttl` (`docs/multi-node.md`).

use crate::StoreResult;
use crate::invalidation::Invalidation;
use crate::sql::DbResult;
use sqlx::postgres::PgListener;
use sqlx::{PgExecutor, PgPool};
use std::time::Duration;
use tokio::sync::mpsc;

pub(super) const CHANNEL: &str = "ward_invalidate";

/// Queues one invalidation in the transaction `exec` runs in; PostgreSQL
/// delivers it when (and only if) that transaction commits. A failure is
/// returned, so the change it announces rolls back.
pub(super) async fn publish<'e>(exec: impl PgExecutor<'e>, what: &Invalidation) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(what.payload())
        .execute(exec)
        .await
        .db("announce a cache invalidation")?;
    Ok(())
}

/// Starts the listener task; the receiver ends when the pool is closed.
pub(super) fn subscribe(pool: PgPool) -> mpsc::UnboundedReceiver<Invalidation> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            if pool.is_closed() || tx.is_closed() {
                return;
            }
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for invalidations; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "LISTEN failed; retrying");
                tokio::time::sleep(backoff).await;
                continue;
            }
            backoff = Duration::from_millis(100);
            // Whatever happened before this connection listened is unknown.
            if tx.send(Invalidation::Resync).is_err() {
                return;
            }
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => {
                        if tx.send(Invalidation::parse(n.payload())).is_err() {
                            return;
                        }
                    }
                    // The connection dropped; PgListener reconnects on the
                    // next call, and anything sent meanwhile is lost.
                    Ok(None) => {
                        tracing::warn!("invalidation listener lost its connection; reconnecting");
                        if tx.send(Invalidation::Resync).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "invalidation listener failed; reconnecting");
                        if tx.send(Invalidation::Resync).is_err() {
                            return;
                        }
                        tokio::time::sleep(backoff).await;
                        break;
                    }
                }
            }
        }
    });
    rx
}
