//! Between PostgreSQL rows and domain records: times as BIGINT milliseconds
//! UTC, scope sets as JSON arrays in TEXT, enums as their lower-case names,
//! the token hash as 32 bytes of BYTEA. The encoding is the SQLite
//! backend's, so a record reads back the same from either.
//!
//! Errors are mapped here too. A unique violation is recognised by the name
//! of its constraint (the schema names every one) and becomes a `Conflict`
//! whose message the caller writes; every other failure becomes `Backend`
//! with a fixed context and PostgreSQL's primary message, which names
//! relations and constraints but never a bound value (values appear only in
//! the error's DETAIL, which is never formatted).

use crate::{ApprovalRecord, ApprovalStatus, KeyRecord, MintedRecord};
use crate::{StoreError, StoreResult, TokenRecord, TokenWithOwner, UserKind, UserRecord};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use ward_core::{Risk, Role, ScopeSet, TokenId, TokenKind, UserId};

/// The columns [`token_with_owner`] reads, joined on the owner.
pub(super) const SELECT_TOKEN_WITH_OWNER: &str = "SELECT
    t.id, t.name, t.kind, t.user_id, t.scopes, t.display, t.created_at,
    t.expires_at, t.revoked_at, t.last_used_at, t.rotated_from, t.parent_token_id,
    t.issued_by, t.issued_via,
    u.id AS u_id, u.name AS u_name, u.kind AS u_kind, u.role AS u_role,
    u.password_hash AS u_password_hash, u.scopes AS u_scopes,
    u.created_at AS u_created_at, u.deleted_at AS u_deleted_at, u.created_by AS u_created_by
FROM tokens t JOIN users u ON u.id = t.user_id";

/// The columns [`user`] reads, with no prefix.
pub(super) const SELECT_USER: &str =
    "SELECT id, name, kind, role, password_hash, scopes, created_at, deleted_at, created_by FROM users";

/// A failure of the database itself, with what we were doing.
pub(super) fn db_error(context: &str, err: sqlx::Error) -> StoreError {
    StoreError::Backend(format!("{context}: {err}"))
}

/// True when `err` is a unique violation of the constraint (or unique
/// index) named `constraint`.
pub(super) fn is_unique_violation(err: &sqlx::Error, constraint: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => db.is_unique_violation() && db.constraint() == Some(constraint),
        _ => false,
    }
}

pub(super) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn opt_millis(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(millis)
}

pub(super) fn scopes_json(scopes: &ScopeSet) -> StoreResult<String> {
    serde_json::to_string(scopes)
        .map_err(|e| StoreError::Backend(format!("could not encode a scope set: {e}")))
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

fn from_millis(column: &str, ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(column, "time out of range"))
}

fn time(row: &PgRow, column: &str) -> StoreResult<DateTime<Utc>> {
    from_millis(column, get(row, column)?)
}

fn opt_time(row: &PgRow, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    let ms: Option<i64> = get(row, column)?;
    ms.map(|ms| from_millis(column, ms)).transpose()
}

fn scopes(row: &PgRow, column: &str) -> StoreResult<ScopeSet> {
    let json: String = get(row, column)?;
    serde_json::from_str(&json).map_err(|e| corrupt(column, e))
}

/// A user from columns named `{prefix}id`, `{prefix}name`, ….
fn user_with_prefix(row: &PgRow, prefix: &str) -> StoreResult<UserRecord> {
    let col = |name: &str| format!("{prefix}{name}");
    let id: String = get(row, &col("id"))?;
    let kind: String = get(row, &col("kind"))?;
    let kind = match kind.as_str() {
        "human" => {
            let role: Option<String> = get(row, &col("role"))?;
            let role = role.ok_or_else(|| corrupt("users.role", "missing for a human user"))?;
            UserKind::Human {
                role: role.parse::<Role>().map_err(|e| corrupt("users.role", e))?,
                password_hash: get(row, &col("password_hash"))?,
            }
        }
        "service" => UserKind::Service { scopes: scopes(row, &col("scopes"))? },
        other => return Err(corrupt("users.kind", format!("unknown kind '{other}'"))),
    };
    let created_by: Option<String> = get(row, &col("created_by"))?;
    Ok(UserRecord {
        id: UserId::parse(&id).map_err(|e| corrupt("users.id", e))?,
        name: get(row, &col("name"))?,
        kind,
        created_at: time(row, &col("created_at"))?,
        deleted_at: opt_time(row, &col("deleted_at"))?,
        created_by: created_by
            .map(|s| UserId::parse(&s).map_err(|e| corrupt("users.created_by", e)))
            .transpose()?,
    })
}

/// A row of [`SELECT_USER`].
pub(super) fn user(row: &PgRow) -> StoreResult<UserRecord> {
    user_with_prefix(row, "")
}

/// A row of [`SELECT_TOKEN_WITH_OWNER`].
pub(super) fn token_with_owner(row: &PgRow) -> StoreResult<TokenWithOwner> {
    let id: String = get(row, "id")?;
    let kind: String = get(row, "kind")?;
    let user_id: String = get(row, "user_id")?;
    let rotated_from: Option<String> = get(row, "rotated_from")?;
    let token = TokenRecord {
        id: TokenId::parse(&id).map_err(|e| corrupt("tokens.id", e))?,
        name: get(row, "name")?,
        kind: kind.parse::<TokenKind>().map_err(|e| corrupt("tokens.kind", e))?,
        user_id: UserId::parse(&user_id).map_err(|e| corrupt("tokens.user_id", e))?,
        scopes: scopes(row, "scopes")?,
        display: get(row, "display")?,
        created_at: time(row, "created_at")?,
        expires_at: opt_time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
        rotated_from: rotated_from
            .map(|s| TokenId::parse(&s).map_err(|e| corrupt("tokens.rotated_from", e)))
            .transpose()?,
        parent_token_id: opt_token_id(row, "parent_token_id", "tokens.parent_token_id")?,
        issued_by: opt_user_id(row, "issued_by", "tokens.issued_by")?,
        issued_via: opt_token_id(row, "issued_via", "tokens.issued_via")?,
    };
    Ok(TokenWithOwner { token, owner: user_with_prefix(row, "u_")? })
}

/// The columns [`key`] reads.
pub(super) const SELECT_KEY: &str =
    "SELECT kid, public_key, private_sealed, created_at, retired_at FROM signing_keys";

/// The columns [`minted`] reads.
pub(super) const SELECT_MINTED: &str = "SELECT jti, agent, scopes, kid, minted_by, issued_at, expires_at, revoked_at, parent_token_id, issued_via FROM minted_tokens";

/// The columns [`approval`] reads, to follow `SELECT` or `RETURNING`.
pub(super) const APPROVAL_COLUMNS: &str = "id, token_id, subject, requested_by, operation, risk, status,
    created_at, expires_at, decided_by, decided_at, reason";

/// A row of [`SELECT_KEY`].
pub(super) fn key(row: &PgRow) -> StoreResult<KeyRecord> {
    let public_key: Vec<u8> = get(row, "public_key")?;
    Ok(KeyRecord {
        kid: get(row, "kid")?,
        public_key: public_key.try_into().map_err(|_| corrupt("signing_keys.public_key", "not 32 bytes"))?,
        private_sealed: get(row, "private_sealed")?,
        created_at: time(row, "created_at")?,
        retired_at: opt_time(row, "retired_at")?,
    })
}

/// A row of [`SELECT_MINTED`].
pub(super) fn minted(row: &PgRow) -> StoreResult<MintedRecord> {
    let jti: String = get(row, "jti")?;
    let minted_by: String = get(row, "minted_by")?;
    Ok(MintedRecord {
        jti: TokenId::parse(&jti).map_err(|e| corrupt("minted_tokens_pkey", e))?,
        agent: get(row, "agent")?,
        scopes: scopes(row, "scopes")?,
        kid: get(row, "kid")?,
        minted_by: UserId::parse(&minted_by).map_err(|e| corrupt("minted_tokens.minted_by", e))?,
        issued_at: time(row, "issued_at")?,
        expires_at: time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        parent_token_id: opt_token_id(row, "parent_token_id", "minted_tokens.parent_token_id")?,
        issued_via: opt_token_id(row, "issued_via", "minted_tokens.issued_via")?,
    })
}

/// A row of [`APPROVAL_COLUMNS`].
pub(super) fn approval(row: &PgRow) -> StoreResult<ApprovalRecord> {
    let requested_by: Option<String> = get(row, "requested_by")?;
    let risk: String = get(row, "risk")?;
    let status: String = get(row, "status")?;
    Ok(ApprovalRecord {
        id: get(row, "id")?,
        token_id: get(row, "token_id")?,
        subject: get(row, "subject")?,
        requested_by: requested_by
            .map(|s| UserId::parse(&s).map_err(|e| corrupt("approvals.requested_by", e)))
            .transpose()?,
        operation: get(row, "operation")?,
        risk: risk.parse::<Risk>().map_err(|e| corrupt("approvals.risk", e))?,
        status: ApprovalStatus::parse(&status)
            .ok_or_else(|| corrupt("approvals.status", format!("unknown status '{status}'")))?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        decided_by: get(row, "decided_by")?,
        decided_at: opt_time(row, "decided_at")?,
        reason: get(row, "reason")?,
    })
}

/// A nullable token-id column (`what` names it in errors).
fn opt_token_id(row: &PgRow, column: &str, what: &str) -> StoreResult<Option<TokenId>> {
    let id: Option<String> = get(row, column)?;
    id.map(|s| TokenId::parse(&s).map_err(|e| corrupt(what, e))).transpose()
}

/// A nullable user-id column (`what` names it in errors).
fn opt_user_id(row: &PgRow, column: &str, what: &str) -> StoreResult<Option<UserId>> {
    let id: Option<String> = get(row, column)?;
    id.map(|s| UserId::parse(&s).map_err(|e| corrupt(what, e))).transpose()
}
