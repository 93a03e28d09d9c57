//! Ending a credential ends what it obtained: the descendants of a token or
//! agent token, found through `parent_token_id` over `tokens` ∪
//! `minted_tokens` (a recursive CTE), are revoked with it, or cut to its
//! new end when a rotation's grace shortens it. Every function here runs
//! inside the ending write's own transaction.

use super::rows::{db_error, millis};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// Every descendant of the credentials `roots` names (ids of tokens or
/// jtis of agent tokens, as a JSON array in `?1`): their ids.
const DESCENDANTS: &str = "WITH RECURSIVE d(id) AS (
        SELECT id FROM tokens WHERE parent_token_id IN (SELECT value FROM json_each(?1))
        UNION
        SELECT jti FROM minted_tokens WHERE parent_token_id IN (SELECT value FROM json_each(?1))
        UNION
        SELECT x.id FROM d
        JOIN (SELECT id, parent_token_id FROM tokens
              UNION ALL SELECT jti, parent_token_id FROM minted_tokens) AS x
          ON x.parent_token_id = d.id
    )
    SELECT id FROM d";

fn json(ids: &[&str]) -> StoreResult<String> {
    serde_json::to_string(ids).map_err(|e| StoreError::Backend(format!("encode token ids: {e}")))
}

/// The ids of every descendant of `roots`.
pub(super) async fn descendants(conn: &mut SqliteConnection, roots: &[&str]) -> StoreResult<Vec<String>> {
    if roots.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(DESCENDANTS)
        .bind(json(roots)?)
        .fetch_all(conn)
        .await
        .map_err(|e| db_error("find descendant tokens", e))
}

/// Revokes, at `now`, every unrevoked descendant of `roots`.
pub(super) async fn revoke(
    conn: &mut SqliteConnection,
    roots: &[&str],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let found = descendants(conn, roots).await?;
    if found.is_empty() {
        return Ok(());
    }
    let ids = json(&found.iter().map(String::as_str).collect::<Vec<_>>())?;
    for sql in [
        "UPDATE tokens SET revoked_at = ?1
         WHERE revoked_at IS NULL AND id IN (SELECT value FROM json_each(?2))",
        "UPDATE minted_tokens SET revoked_at = ?1
         WHERE revoked_at IS NULL AND jti IN (SELECT value FROM json_each(?2))",
    ] {
        sqlx::query(sql)
            .bind(millis(now))
            .bind(&ids)
            .execute(&mut *conn)
            .await
            .map_err(|e| db_error("revoke descendant tokens", e))?;
    }
    Ok(())
}

/// Cuts every unrevoked descendant of `root` to end no later than `end`.
pub(super) async fn shorten(conn: &mut SqliteConnection, root: &str, end: i64) -> StoreResult<()> {
    let found = descendants(conn, &[root]).await?;
    if found.is_empty() {
        return Ok(());
    }
    let ids = json(&found.iter().map(String::as_str).collect::<Vec<_>>())?;
    for sql in [
        "UPDATE tokens SET expires_at = ?1
         WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)
           AND id IN (SELECT value FROM json_each(?2))",
        "UPDATE minted_tokens SET expires_at = ?1
         WHERE revoked_at IS NULL AND expires_at > ?1 AND jti IN (SELECT value FROM json_each(?2))",
    ] {
        sqlx::query(sql)
            .bind(end)
            .bind(&ids)
            .execute(&mut *conn)
            .await
            .map_err(|e| db_error("shorten descendant tokens", e))?;
    }
    Ok(())
}

/// Revokes every descendant of the credentials a user held or minted (their
/// ending user's own are revoked by the caller).
pub(super) async fn revoke_of_user(
    conn: &mut SqliteConnection,
    user: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let roots: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM tokens WHERE user_id = ?1 UNION ALL SELECT jti FROM minted_tokens WHERE minted_by = ?1",
    )
    .bind(user)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db_error("select the credentials of a user", e))?;
    revoke(conn, &roots.iter().map(String::as_str).collect::<Vec<_>>(), now).await
}

/// Revokes every descendant of the agent tokens a retired key signed.
pub(super) async fn revoke_of_key(
    conn: &mut SqliteConnection,
    kid: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let roots: Vec<String> = sqlx::query_scalar("SELECT jti FROM minted_tokens WHERE kid = ?1")
        .bind(kid)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error("select the tokens a key signed", e))?;
    revoke(conn, &roots.iter().map(String::as_str).collect::<Vec<_>>(), now).await
}
