//! Users: humans with a role and a password hash, service users with fixed
//! scopes. A user is never removed, only marked deleted, so that tokens and
//! audit records keep an owner to name.
//!
//! Ending a user (revoke-tokens, delete, a recovery) ends everything they
//! hold in one transaction: their tokens (sessions included), every agent
//! token they minted, what those obtained, and their pending approval
//! requests (denied, with [`crate::ENDED_REASON`]). The user's row is
//! changed or locked first, then their tokens in id order, the order every
//! writer takes them in, so concurrent writers queue rather than deadlock;
//! a token insert share-locks its owner's row (`issuer.rs`), so an ending
//! waits for an insert in flight and then finds its token.

use super::rows::{self, SELECT_USER, millis, opt_millis, scopes_json};
use super::{Columns, Conn, Db, DbResult, Sql, Unique, exists, finish, texts};
use crate::{Invalidation, PasswordEnds, StoreError, StoreResult, UserKind, UserKindFilter, UserRecord};
use chrono::{DateTime, Utc};
use ward_core::audit::AuditEntry;
use ward_core::{TokenId, TokenKind, UserId};

const LIVE_NAME: Unique = Unique { sqlite: "users.name", postgres: "users_live_name" };
const USER_ID: Unique = Unique { sqlite: "users.id", postgres: "users_pkey" };

pub(crate) async fn create<D: Db>(db: &D, user: &UserRecord, events: &[AuditEntry]) -> StoreResult<()> {
    let (kind, role, password_hash, scopes) = match &user.kind {
        UserKind::Human { role, password_hash } => {
            ("human", Some(role.as_str()), password_hash.as_deref(), "[]".to_owned())
        }
        UserKind::Service { scopes } => ("service", None, None, scopes_json(scopes)?),
    };
    let mut tx = db.begin("create user").await?;
    let insert = Sql::new(
        "INSERT INTO users (id, name, kind, role, password_hash, scopes, created_at, deleted_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(user.id.as_str())
    .bind(user.name.as_str())
    .bind(kind)
    .bind(role)
    .bind(password_hash)
    .bind(scopes)
    .bind(millis(user.created_at))
    .bind(opt_millis(user.deleted_at))
    .bind(user.created_by.as_ref().map(UserId::as_str));
    tx.execute(insert).await.map_err(|e| {
        if D::Conn::violates(&e, LIVE_NAME) {
            StoreError::Conflict(format!("a user named '{}' already exists", user.name))
        } else if D::Conn::violates(&e, USER_ID) {
            StoreError::Conflict(format!("a user with id '{}' already exists", user.id))
        } else {
            super::db_error("insert user", e)
        }
    })?;
    finish::<D>(tx, events, "create user").await
}

/// A live user whose `column` is `value`.
async fn live_by<C: Conn>(conn: &mut C, column: &str, value: &str) -> StoreResult<Option<UserRecord>> {
    let sql = Sql::new(format!("{SELECT_USER} WHERE {column} = $1 AND deleted_at IS NULL")).bind(value);
    conn.fetch_optional(sql).await.db("select user")?.as_ref().map(rows::user).transpose()
}

pub(crate) async fn by_id<D: Db>(db: &D, id: &UserId) -> StoreResult<Option<UserRecord>> {
    live_by(&mut *db.read().await?, "id", id.as_str()).await
}

pub(crate) async fn by_name<D: Db>(db: &D, name: &str) -> StoreResult<Option<UserRecord>> {
    live_by(&mut *db.read().await?, "name", name).await
}

pub(crate) async fn list<D: Db>(db: &D, kind: Option<UserKindFilter>) -> StoreResult<Vec<UserRecord>> {
    let kind = kind.map(|k| match k {
        UserKindFilter::Human => "human",
        UserKindFilter::Service => "service",
    });
    let sql = Sql::new(format!(
        "{SELECT_USER} WHERE deleted_at IS NULL AND (CAST($1 AS TEXT) IS NULL OR kind = $1)
         ORDER BY created_at, id"
    ))
    .bind(kind);
    db.read().await?.fetch_all(sql).await.db("list users")?.iter().map(rows::user).collect()
}

pub(crate) async fn count<D: Db>(db: &D) -> StoreResult<u64> {
    let row = db
        .read()
        .await?
        .fetch_optional(Sql::new("SELECT COUNT(*) AS n FROM users"))
        .await
        .db("count users")?;
    Ok(row.map(|row| row.int("n")).transpose()?.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// Sets a live human's password hash; `NotFound` for no such live user,
/// `Conflict` for a service user.
async fn replace_hash<C: Conn>(conn: &mut C, id: &UserId, hash: &str) -> StoreResult<()> {
    let sql = Sql::new(
        "UPDATE users SET password_hash = $1 WHERE id = $2 AND deleted_at IS NULL AND kind = 'human'",
    )
    .bind(hash)
    .bind(id.as_str());
    if conn.execute(sql).await.db("update password hash")? == 1 {
        return Ok(());
    }
    let live = Sql::new("SELECT id FROM users WHERE id = $1 AND deleted_at IS NULL").bind(id.as_str());
    Err(match exists(conn, live, "select user by id").await? {
        true => StoreError::Conflict(format!("'{id}' is a service user: service users have no password")),
        false => StoreError::NotFound,
    })
}

pub(crate) async fn set_password_hash<D: Db>(db: &D, id: &UserId, hash: &str) -> StoreResult<()> {
    let mut tx = db.begin("set password hash").await?;
    replace_hash(&mut *tx, id, hash).await?;
    D::commit(tx, "set password hash").await
}

/// Sets a live human's password hash and ends what `ends` names; returns
/// how many credentials ended. `NotFound` for no such live user,
/// `Conflict` for a service user; nothing changes then.
pub(crate) async fn set_password<D: Db>(
    db: &D,
    id: &UserId,
    hash: &str,
    ends: PasswordEnds<'_>,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut tx = db.begin("set password").await?;
    replace_hash(&mut *tx, id, hash).await?;
    let ended = match ends {
        PasswordEnds::SessionsExcept(keep) => {
            let sql = Sql::new(format!(
                "UPDATE tokens SET revoked_at = $1
                 WHERE revoked_at IS NULL AND id IN (
                     SELECT id FROM tokens
                     WHERE user_id = $2 AND kind = $3 AND revoked_at IS NULL AND id <> $4
                     ORDER BY id{}
                 )",
                D::Conn::FOR_UPDATE
            ))
            .bind(millis(now))
            .bind(id.as_str())
            .bind(TokenKind::Login.as_str())
            .bind(keep.map_or("", TokenId::as_str));
            let ended = tx.execute(sql).await.db("end login sessions")?;
            announce_user(&mut *tx, id).await?;
            ended
        }
        PasswordEnds::Everything => end_credentials(&mut *tx, id, now).await?,
    };
    finish::<D>(tx, events, "set password").await?;
    Ok(ended)
}

/// Marks the user deleted and ends everything they hold, in one
/// transaction. `NotFound` when there is no live user with that id.
/// Returns how many tokens and minted agent tokens were revoked.
///
/// The first update locks the user's row until commit, and the others run
/// on fresh snapshots: a concurrent token or agent-token insert either
/// committed before them (and its token is revoked here) or waits for this
/// transaction and then finds the owner deleted.
pub(crate) async fn delete<D: Db>(
    db: &D,
    id: &UserId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut tx = db.begin("delete user").await?;
    let mark = Sql::new("UPDATE users SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(millis(now))
        .bind(id.as_str());
    if tx.execute(mark).await.db("mark user deleted")? == 0 {
        return Err(StoreError::NotFound);
    }
    let revoked = end_credentials(&mut *tx, id, now).await?;
    finish::<D>(tx, events, "delete user").await?;
    Ok(revoked)
}

/// Ends everything a (live or deleted) user holds, in one transaction;
/// how many tokens and minted agent tokens were revoked.
pub(crate) async fn end_all<D: Db>(
    db: &D,
    id: &UserId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut tx = db.begin("revoke user tokens").await?;
    // The user's row first, in its own statement: an insert for this user
    // in flight holds it share-locked, so this waits for it to commit, and
    // the statements below, each on a fresh snapshot, find its token.
    let lock =
        Sql::new(format!("SELECT id FROM users WHERE id = $1{}", D::Conn::FOR_UPDATE)).bind(id.as_str());
    tx.fetch_optional(lock).await.db("lock user")?;
    let revoked = end_credentials(&mut *tx, id, now).await?;
    finish::<D>(tx, events, "revoke user tokens").await?;
    Ok(revoked)
}

/// Inside a transaction: revokes the user's tokens and the agent tokens
/// they minted (each locked in id order first), what those obtained, and
/// denies their pending approval requests.
pub(crate) async fn end_credentials<C: Conn>(
    conn: &mut C,
    id: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    // What their credentials obtained (other users' included) ends too.
    super::cascade::revoke_of_user(conn, id.as_str(), now).await?;
    let now = millis(now);
    let tokens = Sql::new(format!(
        "UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND id IN (
             SELECT id FROM tokens WHERE user_id = $2 AND revoked_at IS NULL ORDER BY id{})",
        C::FOR_UPDATE
    ))
    .bind(now)
    .bind(id.as_str());
    let mut ended = conn.execute(tokens).await.db("revoke user tokens")?;
    // Agent tokens are named by their jti on the revocation stream: the
    // user's id does not reach them (their subject is the agent).
    let minted = Sql::new(format!(
        "UPDATE minted_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND jti IN (
             SELECT jti FROM minted_tokens WHERE minted_by = $2 AND revoked_at IS NULL ORDER BY jti{})
         RETURNING jti",
        C::FOR_UPDATE
    ))
    .bind(now)
    .bind(id.as_str());
    let minted = texts(conn, minted, "jti", "revoke minted tokens of user").await?;
    ended += minted.len() as u64;
    for jti in minted {
        let jti = TokenId::parse(&jti).map_err(|e| StoreError::Corrupt(format!("minted_tokens.jti: {e}")))?;
        conn.announce(&Invalidation::AgentToken(jti)).await?;
    }
    let deny = Sql::new(
        "UPDATE approvals SET status = 'denied', decided_by = $1, decided_at = $2, reason = $3
         WHERE requested_by = $4 AND status = 'pending'",
    )
    .bind(crate::ENDED_BY)
    .bind(now)
    .bind(crate::ENDED_REASON)
    .bind(id.as_str());
    conn.execute(deny).await.db("deny pending approvals of user")?;
    announce_user(conn, id).await?;
    Ok(ended)
}

/// Announces that every token of the user `id` changed, with their name
/// (read in this transaction: a deleted user keeps theirs).
async fn announce_user<C: Conn>(conn: &mut C, id: &UserId) -> StoreResult<()> {
    let sql = Sql::new("SELECT name FROM users WHERE id = $1").bind(id.as_str());
    let name = texts(conn, sql, "name", "select the name of an ending user").await?.pop().unwrap_or_default();
    conn.announce(&Invalidation::User { id: id.clone(), name }).await
}
