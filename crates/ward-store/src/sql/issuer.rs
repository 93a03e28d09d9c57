//! The credential a new one is issued via must still be live when the new
//! one is inserted: a token (or login session) not revoked and not
//! expired, or an agent token not revoked and not expired.
//!
//! On SQLite every write of the process holds the write gate
//! (`sqlite/commit.rs`), so the check and the insert are one step with
//! respect to every revocation. PostgreSQL runs writers at once, so the
//! check share-locks the issuer's row until the inserting transaction
//! ends. A revocation that updated the row first is waited for, and the
//! row is then re-read as committed (READ COMMITTED re-checks a locked row
//! that changed): the insert is refused. A revocation that comes second
//! waits for the insert to commit, and its cascade, a later statement on a
//! fresh snapshot, finds the new credential. Callers lock the owner's user
//! row before this ([`lock_live_user`]), in the order enders lock users
//! before tokens.

use super::rows::millis;
use super::{Conn, Sql, exists};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use ward_core::TokenId;

/// `IssuerEnded` unless `via` is live at `now`; holds its row share-locked.
pub(crate) async fn require_live<C: Conn>(
    conn: &mut C,
    via: &TokenId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for sql in [
        "SELECT id FROM tokens WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        "SELECT jti FROM minted_tokens WHERE jti = $1 AND revoked_at IS NULL AND expires_at > $2",
    ] {
        let sql = Sql::new(format!("{sql}{}", C::FOR_SHARE)).bind(via.as_str()).bind(millis(now));
        if exists(conn, sql, "check the issuing credential").await? {
            return Ok(());
        }
    }
    Err(StoreError::IssuerEnded)
}

/// `NotFound` unless `user` is a live user; holds its row share-locked, so
/// a delete or an ending of that user in flight is waited for.
pub(crate) async fn lock_live_user<C: Conn>(conn: &mut C, user: &str) -> StoreResult<()> {
    let sql = Sql::new(format!("SELECT id FROM users WHERE id = $1 AND deleted_at IS NULL{}", C::FOR_SHARE))
        .bind(user);
    match exists(conn, sql, "lock the owner").await? {
        true => Ok(()),
        false => Err(StoreError::NotFound),
    }
}

/// Both checks, owner first: what every credential insert asks.
pub(crate) async fn check<C: Conn>(
    conn: &mut C,
    owner: &str,
    via: Option<&TokenId>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    lock_live_user(conn, owner).await?;
    match via {
        Some(via) => require_live(conn, via, now).await,
        None => Ok(()),
    }
}
