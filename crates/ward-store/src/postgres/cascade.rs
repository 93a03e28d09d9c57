//! Ending a credential ends what it obtained: the descendants of a token or
//! agent token, found through `parent_token_id` over `tokens` ∪
//! `minted_tokens` (a recursive CTE), are revoked with it, or cut to its
//! new end when a rotation's grace shortens it. Every function here runs
//! inside the ending write's own transaction, and announces each
//! descendant token it ends (`Invalidation::Token`, one per token) so every
//! node drops it from its verify cache when that transaction commits.
//! Agent tokens are not cached (each check reads the minted record).

use super::rows::{db_error, millis};
use crate::{Invalidation, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use ward_core::TokenId;

// Token rows are locked in id order before they change, as
// `record_usage` and revoke-tokens lock them, so the two cannot deadlock.

/// Every descendant of the credentials in `$1` (ids of tokens or jtis of
/// agent tokens): their ids.
const DESCENDANTS: &str = "WITH RECURSIVE d(id) AS (
        SELECT id FROM tokens WHERE parent_token_id = ANY($1)
        UNION
        SELECT jti FROM minted_tokens WHERE parent_token_id = ANY($1)
        UNION
        SELECT x.id FROM d
        JOIN (SELECT id, parent_token_id FROM tokens
              UNION ALL SELECT jti, parent_token_id FROM minted_tokens) AS x
          ON x.parent_token_id = d.id
    )
    SELECT id FROM d ORDER BY id";

/// The ids of every descendant of `roots`.
async fn descendants(conn: &mut PgConnection, roots: &[&str]) -> StoreResult<Vec<String>> {
    if roots.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(DESCENDANTS)
        .bind(roots)
        .fetch_all(conn)
        .await
        .map_err(|e| db_error("find descendant tokens", e))
}

/// Revokes, at `now`, every unrevoked descendant of `roots`.
///
/// Round after round until none is left: a descendant inserted while a
/// round ran held its parent's row share-locked (`issuer.rs`), so that
/// round's update waited for it, and the next round, a fresh snapshot,
/// finds it. Nothing new can join a revoked parent, so the rounds end.
pub(super) async fn revoke(conn: &mut PgConnection, roots: &[&str], now: DateTime<Utc>) -> StoreResult<()> {
    loop {
        let found = unrevoked(descendants(conn, roots).await?, conn).await?;
        if found.is_empty() {
            return Ok(());
        }
        let ended: Vec<String> = sqlx::query_scalar(
            "UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND id IN (
                 SELECT id FROM tokens WHERE id = ANY($2) ORDER BY id FOR UPDATE
             ) RETURNING id",
        )
        .bind(millis(now))
        .bind(&found)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error("revoke descendant tokens", e))?;
        sqlx::query("UPDATE minted_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND jti = ANY($2)")
            .bind(millis(now))
            .bind(&found)
            .execute(&mut *conn)
            .await
            .map_err(|e| db_error("revoke descendant agent tokens", e))?;
        announce(conn, &ended).await?;
    }
}

/// Which of `ids` (tokens or agent tokens) are not revoked yet.
async fn unrevoked(ids: Vec<String>, conn: &mut PgConnection) -> StoreResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(ids);
    }
    sqlx::query_scalar(
        "SELECT id FROM tokens WHERE id = ANY($1) AND revoked_at IS NULL
         UNION ALL SELECT jti FROM minted_tokens WHERE jti = ANY($1) AND revoked_at IS NULL
         ORDER BY 1",
    )
    .bind(&ids)
    .fetch_all(conn)
    .await
    .map_err(|e| db_error("select unrevoked descendants", e))
}

/// Cuts every unrevoked descendant of `root` to end no later than `end`.
pub(super) async fn shorten(conn: &mut PgConnection, root: &str, end: i64) -> StoreResult<()> {
    let found = descendants(conn, &[root]).await?;
    if found.is_empty() {
        return Ok(());
    }
    let ended: Vec<String> = sqlx::query_scalar(
        "UPDATE tokens SET expires_at = $1
         WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1) AND id IN (
             SELECT id FROM tokens WHERE id = ANY($2) ORDER BY id FOR UPDATE
         ) RETURNING id",
    )
    .bind(end)
    .bind(&found)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db_error("shorten descendant tokens", e))?;
    sqlx::query(
        "UPDATE minted_tokens SET expires_at = $1
         WHERE revoked_at IS NULL AND expires_at > $1 AND jti = ANY($2)",
    )
    .bind(end)
    .bind(&found)
    .execute(&mut *conn)
    .await
    .map_err(|e| db_error("shorten descendant agent tokens", e))?;
    announce(conn, &ended).await
}

async fn announce(conn: &mut PgConnection, ended: &[String]) -> StoreResult<()> {
    for id in ended {
        let id = TokenId::parse(id).map_err(|e| StoreError::Corrupt(format!("tokens.id: {e}")))?;
        super::notify::publish(&mut *conn, &Invalidation::Token(id)).await?;
    }
    Ok(())
}

/// Revokes every descendant of the credentials a user held or minted (their
/// ending user's own are revoked by the caller).
pub(super) async fn revoke_of_user(
    conn: &mut PgConnection,
    user: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let roots: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM tokens WHERE user_id = $1 UNION ALL SELECT jti FROM minted_tokens WHERE minted_by = $1",
    )
    .bind(user)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db_error("select the credentials of a user", e))?;
    revoke(conn, &roots.iter().map(String::as_str).collect::<Vec<_>>(), now).await
}

/// Revokes every descendant of the agent tokens a retired key signed.
pub(super) async fn revoke_of_key(conn: &mut PgConnection, kid: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let roots: Vec<String> = sqlx::query_scalar("SELECT jti FROM minted_tokens WHERE kid = $1")
        .bind(kid)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error("select the tokens a key signed", e))?;
    revoke(conn, &roots.iter().map(String::as_str).collect::<Vec<_>>(), now).await
}
