//! What the API does, one function per operation: authorize through
//! `ward_core::policy`, decide, call the store, and return domain records.
//! Handlers in `routes` parse each body into this module's [`input`] types
//! first and render what comes back through `routes::views`.

pub mod approvals;
pub mod authorize;
pub mod bootstrap;
pub mod check;
pub mod events;
pub mod forensics;
pub mod forward;
pub mod input;
pub mod leaks;
pub mod lifecycle;
pub mod mint;
pub mod oauth;
pub mod password;
pub mod service_users;
pub mod session;
pub mod tokens;
pub mod users;

use crate::audit::AuditEvent;
use crate::entropy::OsEntropy;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use ward_core::{
    Caller, PlainToken, Principal, PrincipalKind, ScopeSet, TokenId, TokenKind, TokenName, UserId,
};
use ward_store::{TokenRecord, TokenWithOwner, UseLimits, UserKind, UserRecord};

/// The policy view of a stored user.
pub fn principal(user: &UserRecord) -> Principal {
    let kind = match &user.kind {
        UserKind::Human { role, .. } => PrincipalKind::Human(*role),
        UserKind::Service { scopes } => PrincipalKind::Service(scopes.clone()),
    };
    Principal { id: user.id.clone(), name: user.name.to_string(), kind }
}

/// What a user may grant to its tokens now: nothing once it is deleted.
pub fn permissions(state: &AppState, user: &UserRecord) -> ScopeSet {
    if user.deleted_at.is_some() {
        return ScopeSet::new();
    }
    state.settings.roles.permissions(&principal(user))
}

/// A live user by `usr_…` id or by name; 404 otherwise.
pub async fn resolve_user(state: &AppState, id_or_name: &str) -> ApiResult<UserRecord> {
    let found = match UserId::parse(id_or_name) {
        Ok(id) => state.store.user_by_id(&id).await?,
        Err(_) => state.store.user_by_name(id_or_name).await?,
    };
    found.ok_or(ApiError::NotFound("user"))
}

/// A token by id; 404 for an id that does not parse or does not exist.
pub async fn find_token(state: &AppState, id: &str) -> ApiResult<TokenWithOwner> {
    let id = TokenId::parse(id).map_err(|_| ApiError::NotFound("token"))?;
    state.store.token_by_id(&id).await?.ok_or(ApiError::NotFound("token"))
}

/// A value and the moment it was read at: what a token's status is
/// judged by when it is shown.
#[derive(Debug)]
pub struct AsOf<T> {
    pub now: DateTime<Utc>,
    pub value: T,
}

/// A token just drawn and stored: the one value that holds it in the
/// clear (`PlainToken`'s `Debug` is redacted), shown once.
#[derive(Debug)]
pub struct Issued {
    pub plain: PlainToken,
    pub record: TokenRecord,
}

/// Fields of a token about to be issued.
#[derive(Debug)]
pub struct Issue {
    pub name: TokenName,
    pub kind: TokenKind,
    pub owner: UserId,
    pub scopes: ScopeSet,
    pub expires_at: Option<DateTime<Utc>>,
    pub rotated_from: Option<TokenId>,
    /// The credential it descends from (`ward_core::grant::parent`).
    pub parent_token_id: Option<TokenId>,
    /// Who issues it and with what; `None` only for a login session, which
    /// a password issues.
    pub issuer: Option<Issuer>,
    /// Its usage limits (`--max-uses`, `--rate`); none by default.
    pub limits: UseLimits,
}

/// The user and the credential a new token is issued by: recorded on it,
/// and the store inserts it only while that credential is live.
#[derive(Debug)]
pub struct Issuer {
    pub user: UserId,
    pub via: TokenId,
}

impl Issuer {
    pub fn of(caller: &Caller) -> Self {
        Self { user: caller.principal.id.clone(), via: caller.token_id.clone() }
    }
}

/// Draws a token and its record; the caller stores the record and the hash.
pub fn draw_token(state: &AppState, now: DateTime<Utc>, issue: Issue) -> (PlainToken, TokenRecord) {
    let plain = PlainToken::generate(&state.settings.prefix, issue.kind, &mut OsEntropy);
    let record = TokenRecord {
        id: TokenId::generate(now, &mut OsEntropy),
        name: issue.name,
        kind: issue.kind,
        user_id: issue.owner,
        scopes: issue.scopes,
        display: plain.display_start(),
        created_at: now,
        expires_at: issue.expires_at,
        revoked_at: None,
        last_used_at: None,
        rotated_from: issue.rotated_from,
        parent_token_id: issue.parent_token_id,
        issued_by: issue.issuer.as_ref().map(|i| i.user.clone()),
        issued_via: issue.issuer.map(|i| i.via),
        limits: issue.limits,
    };
    (plain, record)
}

/// Draws and stores a token in one step, with `event` (given the token's
/// id and scopes here) committed in the same transaction.
pub async fn issue(
    state: &AppState,
    now: DateTime<Utc>,
    issue: Issue,
    event: AuditEvent,
) -> ApiResult<Issued> {
    let (plain, record) = draw_token(state, now, issue);
    let event = state.audit.prepare(event.token(&record.id).scopes(&record.scopes));
    state.store.insert_token(&record, &plain.hash(), &[event]).await?;
    state.audit.committed();
    Ok(Issued { plain, record })
}
