//! The credential a new one is issued via must still be live when the new
//! one is inserted: a token (or login session) not revoked and not
//! expired, or an agent token not revoked and not expired.
//!
//! PostgreSQL runs writers at once, so the check share-locks the issuer's
//! row until the inserting transaction ends. A revocation that updated the
//! row first is waited for, and the row is then re-read as committed
//! (READ COMMITTED re-checks a locked row that changed): the insert is
//! refused. A revocation that comes second waits for the insert to commit,
//! and its cascade, a later statement on a fresh snapshot, finds the new
//! credential. Callers lock the owner's user row before this, in the order
//! enders lock users before tokens.

use super::rows::{db_error, millis};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use ward_core::TokenId;

/// `IssuerEnded` unless `via` is live at `now`; holds its row share-locked.
pub(super) async fn require_live(
    conn: &mut PgConnection,
    via: &TokenId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for sql in [
        "SELECT 1 FROM tokens WHERE id = $1 AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > $2) FOR SHARE",
        "SELECT 1 FROM minted_tokens WHERE jti = $1 AND revoked_at IS NULL AND expires_at > $2 FOR SHARE",
    ] {
        let live: Option<i32> = sqlx::query_scalar(sql)
            .bind(via.as_str())
            .bind(millis(now))
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| db_error("check the issuing credential", e))?;
        if live.is_some() {
            return Ok(());
        }
    }
    Err(StoreError::IssuerEnded)
}

/// `NotFound` unless `user` is a live user; holds its row share-locked, so
/// a delete or an ending of that user in flight is waited for.
pub(super) async fn lock_live_user(conn: &mut PgConnection, user: &str) -> StoreResult<()> {
    let live: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL FOR SHARE")
            .bind(user)
            .fetch_optional(conn)
            .await
            .map_err(|e| db_error("lock the owner", e))?;
    live.map(|_| ()).ok_or(StoreError::NotFound)
}
