//! A password change: the new hash and the end of the user's login
//! sessions, in one transaction.

use super::commit::Pool;
use super::rows::{db_error, millis};
use crate::{PasswordEnds, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use ward_core::audit::AuditEntry;
use ward_core::{TokenId, TokenKind, UserId};

/// Sets a live human's password hash and ends what `ends` names; returns
/// how many credentials ended. `NotFound` for
/// no such live user, `Conflict` for a service user; nothing changes then.
pub(super) async fn set(
    pool: &Pool,
    id: &UserId,
    hash: &str,
    ends: PasswordEnds<'_>,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut tx = pool.begin("set password").await?;
    let done = sqlx::query(
        "UPDATE users SET password_hash = ? WHERE id = ? AND deleted_at IS NULL AND kind = 'human'",
    )
    .bind(hash)
    .bind(id.as_str())
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error("update password hash", e))?;
    if done.rows_affected() != 1 {
        let live: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = ? AND deleted_at IS NULL")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error("select user by id", e))?;
        return Err(match live {
            Some(_) => {
                StoreError::Conflict(format!("'{id}' is a service user: service users have no password"))
            }
            None => StoreError::NotFound,
        });
    }
    let ended = match ends {
        PasswordEnds::SessionsExcept(keep) => sqlx::query(
            "UPDATE tokens SET revoked_at = ?
                 WHERE user_id = ? AND kind = ? AND revoked_at IS NULL AND id <> ?",
        )
        .bind(millis(now))
        .bind(id.as_str())
        .bind(TokenKind::Login.as_str())
        .bind(keep.map_or("", TokenId::as_str))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error("end login sessions", e))?
        .rows_affected(),
        PasswordEnds::Everything => super::users::end_credentials(&mut tx, id, now).await?,
    };
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit set password", e))?;
    Ok(ended)
}
