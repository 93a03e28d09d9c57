//! Ending a credential ends what it obtained: the descendants of a token or
//! agent token, found through `parent_token_id` over `tokens` ∪
//! `minted_tokens` (a recursive CTE), are revoked with it, or cut to its
//! new end when a rotation's grace shortens it. Every function here runs
//! inside the ending write's own transaction, and announces each
//! descendant it ends (`Invalidation::Token` per token,
//! `Invalidation::AgentToken` per agent token) so every node drops it from
//! its verify cache, and the revocation stream names it, when that
//! transaction commits.
//!
//! Token rows are locked in id order before they change, as
//! `record_usage` and revoke-tokens lock them, so the two cannot deadlock.

use super::rows::millis;
use super::{Conn, Sql, texts};
use crate::{Invalidation, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use ward_core::TokenId;

/// Every descendant of the credentials in `$1` (ids of tokens or jtis of
/// agent tokens): their ids.
fn descendants_sql<C: Conn>() -> String {
    let roots = C::in_list("$1");
    format!(
        "WITH RECURSIVE d(id) AS (
            SELECT id FROM tokens WHERE parent_token_id {roots}
            UNION
            SELECT jti FROM minted_tokens WHERE parent_token_id {roots}
            UNION
            SELECT x.id FROM d
            JOIN (SELECT id, parent_token_id FROM tokens
                  UNION ALL SELECT jti, parent_token_id FROM minted_tokens) AS x
              ON x.parent_token_id = d.id
        )
        SELECT id FROM d ORDER BY id"
    )
}

/// The ids of every descendant of `roots`.
async fn descendants<C: Conn>(conn: &mut C, roots: &[&str]) -> StoreResult<Vec<String>> {
    if roots.is_empty() {
        return Ok(Vec::new());
    }
    texts(conn, Sql::new(descendants_sql::<C>()).bind(roots), "id", "find descendant tokens").await
}

/// Revokes, at `now`, every unrevoked descendant of `roots`.
///
/// Round after round until none is left: on PostgreSQL a descendant
/// inserted while a round ran held its parent's row share-locked
/// (`issuer.rs`), so that round's update waited for it, and the next round,
/// a fresh snapshot, finds it. Nothing new can join a revoked parent, so
/// the rounds end.
pub(crate) async fn revoke<C: Conn>(conn: &mut C, roots: &[&str], now: DateTime<Utc>) -> StoreResult<()> {
    loop {
        let found = descendants(conn, roots).await?;
        let found = unrevoked(conn, found).await?;
        if found.is_empty() {
            return Ok(());
        }
        let revoked = "revoked_at = $1 WHERE revoked_at IS NULL";
        end(conn, [revoked, revoked], millis(now), found).await?;
    }
}

/// Applies `changes` (`SET` clause and condition, with `$1` = `value`) to
/// the tokens and to the agent tokens among `ids`, and announces each one
/// it changed.
async fn end<C: Conn>(conn: &mut C, changes: [&str; 2], value: i64, ids: Vec<String>) -> StoreResult<()> {
    let [change, minted_change] = changes;
    let (tokens, minted) = (C::in_list("$2"), C::in_list("$2"));
    let sql = Sql::new(format!(
        "UPDATE tokens SET {change} AND id IN (SELECT id FROM tokens WHERE id {tokens} ORDER BY id{})
         RETURNING id",
        C::FOR_UPDATE
    ))
    .bind(value)
    .bind(ids.clone());
    let ended = texts(conn, sql, "id", "end descendant tokens").await?;
    let sql = Sql::new(format!("UPDATE minted_tokens SET {minted_change} AND jti {minted} RETURNING jti"))
        .bind(value)
        .bind(ids);
    let ended_minted = texts(conn, sql, "jti", "end descendant agent tokens").await?;
    let parse =
        |id: &str| TokenId::parse(id).map_err(|e| StoreError::Corrupt(format!("token id {id:?}: {e}")));
    for id in ended {
        conn.announce(&Invalidation::Token(parse(&id)?)).await?;
    }
    for jti in ended_minted {
        conn.announce(&Invalidation::AgentToken(parse(&jti)?)).await?;
    }
    Ok(())
}

/// Which of `ids` (tokens or agent tokens) are not revoked yet.
async fn unrevoked<C: Conn>(conn: &mut C, ids: Vec<String>) -> StoreResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(ids);
    }
    let sql = Sql::new(format!(
        "SELECT id FROM tokens WHERE id {} AND revoked_at IS NULL
         UNION ALL SELECT jti FROM minted_tokens WHERE jti {} AND revoked_at IS NULL
         ORDER BY 1",
        C::in_list("$1"),
        C::in_list("$1")
    ))
    .bind(ids);
    texts(conn, sql, "id", "select unrevoked descendants").await
}

/// Cuts every unrevoked descendant of `root` to end no later than `end`.
pub(crate) async fn shorten<C: Conn>(conn: &mut C, root: &str, end_at: i64) -> StoreResult<()> {
    let found = descendants(conn, &[root]).await?;
    if found.is_empty() {
        return Ok(());
    }
    let tokens = "expires_at = $1 WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)";
    let minted = "expires_at = $1 WHERE revoked_at IS NULL AND expires_at > $1";
    end(conn, [tokens, minted], end_at, found).await
}

/// Revokes every descendant of the credentials a user held or minted (the
/// ending user's own are revoked by the caller).
pub(crate) async fn revoke_of_user<C: Conn>(conn: &mut C, user: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = Sql::new(
        "SELECT id FROM tokens WHERE user_id = $1 UNION ALL SELECT jti AS id FROM minted_tokens WHERE minted_by = $1",
    )
    .bind(user);
    let roots = texts(conn, sql, "id", "select the credentials of a user").await?;
    revoke(conn, &roots.iter().map(String::as_str).collect::<Vec<_>>(), now).await
}

/// Revokes every descendant of the agent tokens a retired key signed.
pub(crate) async fn revoke_of_key<C: Conn>(conn: &mut C, kid: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = Sql::new("SELECT jti FROM minted_tokens WHERE kid = $1").bind(kid);
    let roots = texts(conn, sql, "jti", "select the tokens a key signed").await?;
    revoke(conn, &roots.iter().map(String::as_str).collect::<Vec<_>>(), now).await
}
