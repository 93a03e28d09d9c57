//! Between rows and domain records: times as integer milliseconds UTC,
//! scope sets as JSON arrays in text, enums as their lower-case names, the
//! token hash as 32 bytes. Both databases store the same encoding, so a
//! record reads back the same from either.

use crate::{ApprovalRecord, ApprovalStatus, KeyRecord, MintedRecord};
use crate::{StoreError, StoreResult, TokenRecord, TokenWithOwner, UseLimits, UserKind, UserRecord};
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Row, Type};
use ward_core::limits::UseRate;
use ward_core::{Risk, Role, ScopeSet, TokenId, TokenKind, TokenName, UserId, Username};

/// The columns [`token_with_owner`] reads, joined on the owner.
pub(crate) const SELECT_TOKEN_WITH_OWNER: &str = "SELECT
    t.id, t.name, t.kind, t.user_id, t.scopes, t.display, t.created_at,
    t.expires_at, t.revoked_at, t.last_used_at, t.rotated_from, t.parent_token_id,
    t.issued_by, t.issued_via, t.max_uses, t.uses_left, t.rate_limit,
    u.id AS u_id, u.name AS u_name, u.kind AS u_kind, u.role AS u_role,
    u.password_hash AS u_password_hash, u.scopes AS u_scopes,
    u.created_at AS u_created_at, u.deleted_at AS u_deleted_at, u.created_by AS u_created_by
FROM tokens t JOIN users u ON u.id = t.user_id";

/// The columns [`user`] reads, with no prefix.
pub(crate) const SELECT_USER: &str =
    "SELECT id, name, kind, role, password_hash, scopes, created_at, deleted_at, created_by FROM users";

/// The columns [`key`] reads.
pub(crate) const SELECT_KEY: &str =
    "SELECT kid, public_key, private_sealed, created_at, retired_at FROM signing_keys";

/// The columns [`minted`] reads.
pub(crate) const SELECT_MINTED: &str = "SELECT jti, agent, scopes, kid, minted_by, issued_at, expires_at, \
    revoked_at, parent_token_id, issued_via FROM minted_tokens";

/// The columns [`approval`] reads, to follow `SELECT` or `RETURNING`.
pub(crate) const APPROVAL_COLUMNS: &str = "id, token_id, subject, requested_by, operation, risk, status,
    created_at, expires_at, decided_by, decided_at, reason";

/// A row's columns by name, in the few types ward stores. A column that
/// does not decode is `Corrupt`, naming it.
pub trait Columns {
    fn text(&self, column: &str) -> StoreResult<String>;
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;
    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>>;
}

impl<R> Columns for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> StoreResult<String> {
        self.try_get(column).map_err(|e| corrupt(column, e))
    }
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        self.try_get(column).map_err(|e| corrupt(column, e))
    }
    fn int(&self, column: &str) -> StoreResult<i64> {
        self.try_get(column).map_err(|e| corrupt(column, e))
    }
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        self.try_get(column).map_err(|e| corrupt(column, e))
    }
    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>> {
        self.try_get(column).map_err(|e| corrupt(column, e))
    }
}

pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn opt_millis(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(millis)
}

pub(crate) fn scopes_json(scopes: &ScopeSet) -> StoreResult<String> {
    serde_json::to_string(scopes)
        .map_err(|e| StoreError::Backend(format!("could not encode a scope set: {e}")))
}

pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

fn from_millis(column: &str, ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(column, "time out of range"))
}

fn time(row: &impl Columns, column: &str) -> StoreResult<DateTime<Utc>> {
    from_millis(column, row.int(column)?)
}

fn opt_time(row: &impl Columns, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    row.opt_int(column)?.map(|ms| from_millis(column, ms)).transpose()
}

fn scopes(row: &impl Columns, column: &str) -> StoreResult<ScopeSet> {
    serde_json::from_str(&row.text(column)?).map_err(|e| corrupt(column, e))
}

/// A nullable token-id column (`what` names it in errors).
fn opt_token_id(row: &impl Columns, column: &str, what: &str) -> StoreResult<Option<TokenId>> {
    row.opt_text(column)?.map(|s| TokenId::parse(&s).map_err(|e| corrupt(what, e))).transpose()
}

/// A nullable user-id column (`what` names it in errors).
fn opt_user_id(row: &impl Columns, column: &str, what: &str) -> StoreResult<Option<UserId>> {
    row.opt_text(column)?.map(|s| UserId::parse(&s).map_err(|e| corrupt(what, e))).transpose()
}

/// A user from columns named `{prefix}id`, `{prefix}name`, ….
fn user_with_prefix(row: &impl Columns, prefix: &str) -> StoreResult<UserRecord> {
    let col = |name: &str| format!("{prefix}{name}");
    let kind = match row.text(&col("kind"))?.as_str() {
        "human" => {
            let role = row.opt_text(&col("role"))?;
            let role = role.ok_or_else(|| corrupt("users.role", "missing for a human user"))?;
            UserKind::Human {
                role: role.parse::<Role>().map_err(|e| corrupt("users.role", e))?,
                password_hash: row.opt_text(&col("password_hash"))?,
            }
        }
        "service" => UserKind::Service { scopes: scopes(row, &col("scopes"))? },
        other => return Err(corrupt("users.kind", format!("unknown kind '{other}'"))),
    };
    Ok(UserRecord {
        id: UserId::parse(&row.text(&col("id"))?).map_err(|e| corrupt("users.id", e))?,
        name: Username::parse(&row.text(&col("name"))?).map_err(|e| corrupt("users.name", e))?,
        kind,
        created_at: time(row, &col("created_at"))?,
        deleted_at: opt_time(row, &col("deleted_at"))?,
        created_by: opt_user_id(row, &col("created_by"), "users.created_by")?,
    })
}

/// A row of [`SELECT_USER`].
pub(crate) fn user(row: &impl Columns) -> StoreResult<UserRecord> {
    user_with_prefix(row, "")
}

/// A row of [`SELECT_TOKEN_WITH_OWNER`].
pub(crate) fn token_with_owner(row: &impl Columns) -> StoreResult<TokenWithOwner> {
    let token = TokenRecord {
        id: TokenId::parse(&row.text("id")?).map_err(|e| corrupt("tokens.id", e))?,
        name: TokenName::parse(&row.text("name")?).map_err(|e| corrupt("tokens.name", e))?,
        kind: row.text("kind")?.parse::<TokenKind>().map_err(|e| corrupt("tokens.kind", e))?,
        user_id: UserId::parse(&row.text("user_id")?).map_err(|e| corrupt("tokens.user_id", e))?,
        scopes: scopes(row, "scopes")?,
        display: row.text("display")?,
        created_at: time(row, "created_at")?,
        expires_at: opt_time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
        rotated_from: opt_token_id(row, "rotated_from", "tokens.rotated_from")?,
        parent_token_id: opt_token_id(row, "parent_token_id", "tokens.parent_token_id")?,
        issued_by: opt_user_id(row, "issued_by", "tokens.issued_by")?,
        issued_via: opt_token_id(row, "issued_via", "tokens.issued_via")?,
        limits: limits(row)?,
    };
    Ok(TokenWithOwner { token, owner: user_with_prefix(row, "u_")? })
}

/// The usage limits of a token row.
fn limits(row: &impl Columns) -> StoreResult<UseLimits> {
    let count = |column: &str| -> StoreResult<Option<u64>> {
        row.opt_int(column)?.map(|n| u64::try_from(n).map_err(|e| corrupt(column, e))).transpose()
    };
    let rate = row
        .opt_text("rate_limit")?
        .map(|r| r.parse::<UseRate>().map_err(|e| corrupt("tokens.rate_limit", e)))
        .transpose()?;
    Ok(UseLimits { max_uses: count("max_uses")?, uses_left: count("uses_left")?, rate })
}

/// A row of [`SELECT_KEY`].
pub(crate) fn key(row: &impl Columns) -> StoreResult<KeyRecord> {
    let public_key = row.bytes("public_key")?;
    Ok(KeyRecord {
        kid: row.text("kid")?,
        public_key: public_key.try_into().map_err(|_| corrupt("signing_keys.public_key", "not 32 bytes"))?,
        private_sealed: row.bytes("private_sealed")?,
        created_at: time(row, "created_at")?,
        retired_at: opt_time(row, "retired_at")?,
    })
}

/// A row of [`SELECT_MINTED`].
pub(crate) fn minted(row: &impl Columns) -> StoreResult<MintedRecord> {
    Ok(MintedRecord {
        jti: TokenId::parse(&row.text("jti")?).map_err(|e| corrupt("minted_tokens.jti", e))?,
        agent: row.text("agent")?,
        scopes: scopes(row, "scopes")?,
        kid: row.text("kid")?,
        minted_by: UserId::parse(&row.text("minted_by")?)
            .map_err(|e| corrupt("minted_tokens.minted_by", e))?,
        issued_at: time(row, "issued_at")?,
        expires_at: time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        parent_token_id: opt_token_id(row, "parent_token_id", "minted_tokens.parent_token_id")?,
        issued_via: opt_token_id(row, "issued_via", "minted_tokens.issued_via")?,
    })
}

/// A row of [`APPROVAL_COLUMNS`].
pub(crate) fn approval(row: &impl Columns) -> StoreResult<ApprovalRecord> {
    let status = row.text("status")?;
    Ok(ApprovalRecord {
        id: row.text("id")?,
        token_id: row.text("token_id")?,
        subject: row.text("subject")?,
        requested_by: opt_user_id(row, "requested_by", "approvals.requested_by")?,
        operation: row.text("operation")?,
        risk: row.text("risk")?.parse::<Risk>().map_err(|e| corrupt("approvals.risk", e))?,
        status: ApprovalStatus::LISTABLE
            .into_iter()
            .find(|s| s.as_str() == status)
            .ok_or_else(|| corrupt("approvals.status", format!("unknown status '{status}'")))?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        decided_by: row.opt_text("decided_by")?,
        decided_at: opt_time(row, "decided_at")?,
        reason: row.opt_text("reason")?,
    })
}
