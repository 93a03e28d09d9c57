//! SQLite's invalidation feed. One process owns the file (one node), so no
//! other node needs telling, but the process itself does: its revocation
//! stream publishes each committed change that ends credentials, the
//! cascade's descendants included, which only the write knows.
//!
//! A write announces into a per-connection `TEMP` table, inside its own
//! transaction, so an announcement rolls back with the write. Just before
//! its COMMIT, [`WriteTx::commit`](super::commit::WriteTx::commit) takes
//! them out (in the same transaction), and once the COMMIT succeeded sends
//! them to every feed [`Listeners::subscribe`] handed out — still holding
//! the write gate, so feeds hear writes in commit order, and never one that
//! did not commit.

use crate::Invalidation;
use crate::StoreResult;
use crate::sql::DbResult;
use sqlx::SqliteConnection;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Run on every new connection of the pool.
pub(super) const CREATE: &str = "CREATE TEMP TABLE IF NOT EXISTS ward_announced (payload TEXT NOT NULL)";

/// Queues `what` in the transaction `conn` runs.
pub(super) async fn queue(conn: &mut SqliteConnection, what: &Invalidation) -> StoreResult<()> {
    sqlx::query("INSERT INTO temp.ward_announced (payload) VALUES (?)")
        .bind(what.payload())
        .execute(conn)
        .await
        .db("announce a cache invalidation")?;
    Ok(())
}

/// The feeds handed out by [`crate::Store::invalidations`]; cloned with
/// the pool.
#[derive(Debug, Clone, Default)]
pub(super) struct Listeners(Arc<Mutex<Vec<mpsc::UnboundedSender<Invalidation>>>>);

impl Listeners {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::UnboundedSender<Invalidation>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new feed of every change committed from now on.
    pub(super) fn subscribe(&self) -> mpsc::UnboundedReceiver<Invalidation> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().push(tx);
        rx
    }

    /// Takes what the transaction on `conn` announced, before its COMMIT.
    pub(super) async fn take(&self, conn: &mut SqliteConnection) -> Result<Vec<Invalidation>, sqlx::Error> {
        let clear = "DELETE FROM temp.ward_announced";
        if self.lock().is_empty() {
            sqlx::query(clear).execute(&mut *conn).await?;
            return Ok(Vec::new());
        }
        let payloads: Vec<(String,)> =
            sqlx::query_as("SELECT payload FROM temp.ward_announced ORDER BY rowid")
                .fetch_all(&mut *conn)
                .await?;
        sqlx::query(clear).execute(&mut *conn).await?;
        Ok(payloads.iter().map(|(p,)| Invalidation::parse(p)).collect())
    }

    /// Sends what a committed transaction announced to every feed still
    /// read; a feed whose receiver is gone is dropped.
    pub(super) fn send(&self, heard: Vec<Invalidation>) {
        if heard.is_empty() {
            return;
        }
        self.lock().retain(|feed| heard.iter().all(|what| feed.send(what.clone()).is_ok()));
    }
}
