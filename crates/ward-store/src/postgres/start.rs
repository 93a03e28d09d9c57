//! The start lock: a session-level advisory lock that one starting node
//! holds from before its migrations until its first admin exists.
//!
//! It is held on one pooled connection, taken out of the pool's hands for
//! as long as the lock lives. Released, the connection goes back; dropped
//! unreleased (start failed), the connection is closed, and PostgreSQL
//! ends the lock with the session.

use crate::StoreResult;
use crate::sql::DbResult;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

/// "wardstrt" in ASCII.
const START_LOCK: i64 = 0x7761_7264_7374_7274;

/// The held start lock; see the module doc.
#[derive(Debug)]
pub(crate) struct PgStartLock {
    conn: Option<PoolConnection<Postgres>>,
}

impl PgStartLock {
    /// Waits for the lock (another node may be starting) and takes it.
    pub(crate) async fn take(pool: &PgPool) -> StoreResult<Self> {
        let mut conn = pool.acquire().await.db("acquire a connection for the start lock")?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(START_LOCK)
            .execute(&mut *conn)
            .await
            .db("take the start lock")?;
        Ok(Self { conn: Some(conn) })
    }

    /// Unlocks and gives the connection back to the pool.
    pub(crate) async fn release(mut self) -> StoreResult<()> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(START_LOCK)
                .execute(&mut *conn)
                .await
                .db("release the start lock")?;
        }
        Ok(())
    }
}

impl Drop for PgStartLock {
    fn drop(&mut self) {
        // Never back into the pool with the lock held: closing the
        // session ends it.
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}
