//! What the API does, one function per operation: authorize through
//! `ward_core::policy`, parse into domain types, call the store, and build
//! the wire type. Handlers in `routes` only extract and render.

pub mod approvals;
pub mod authorize;
pub mod bootstrap;
pub mod check;
pub mod mint;
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
use ward_api::{CreatedToken, TokenInfo, TokenStatus, User, UserRole};
use ward_core::{Caller, PlainToken, Principal, PrincipalKind, ScopeSet, TokenId, TokenKind, Ttl, UserId};
use ward_store::{TokenRecord, TokenWithOwner, UserKind, UserRecord};

/// The policy view of a stored user.
pub fn principal(user: &UserRecord) -> Principal {
    let kind = match &user.kind {
        UserKind::Human { role, .. } => PrincipalKind::Human(*role),
        UserKind::Service { scopes } => PrincipalKind::Service(scopes.clone()),
    };
    Principal { id: user.id.clone(), name: user.name.clone(), kind }
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

/// `expires_in_days` or `ttl`, never both; `None` for no expiry.
pub fn expiry(now: DateTime<Utc>, days: Option<u32>, ttl: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    let ttl = match (days, ttl) {
        (Some(_), Some(_)) => return Err(ApiError::invalid("give expires_in_days or ttl, not both")),
        (Some(d), None) => Some(Ttl::days(d).map_err(ApiError::invalid)?),
        (None, Some(t)) => Some(Ttl::parse(t).map_err(ApiError::invalid)?),
        (None, None) => None,
    };
    Ok(ttl.map(|t| now + t.as_duration()))
}

/// Fields of a token about to be issued.
#[derive(Debug)]
pub struct Issue {
    pub name: String,
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
) -> ApiResult<CreatedToken> {
    let (plain, record) = draw_token(state, now, issue);
    let event = state.audit.prepare(event.token(&record.id).scopes(scope_names(&record.scopes)));
    state.store.insert_token(&record, &plain.hash(), &[event]).await?;
    state.audit.committed();
    Ok(created_view(&plain, &record))
}

fn scope_names(scopes: &ScopeSet) -> Vec<String> {
    scopes.iter().map(ToString::to_string).collect()
}

/// The one response that shows a token.
pub fn created_view(plain: &PlainToken, record: &TokenRecord) -> CreatedToken {
    CreatedToken {
        id: record.id.to_string(),
        token: plain.expose().to_owned(),
        name: record.name.clone(),
        token_type: record.kind,
        prefix: record.display.clone(),
        scopes: scope_names(&record.scopes),
        user_id: record.user_id.to_string(),
        created_at: record.created_at,
        expires_at: record.expires_at,
    }
}

/// A token's metadata, with pending usage folded in.
pub fn token_view(state: &AppState, now: DateTime<Utc>, t: &TokenWithOwner) -> TokenInfo {
    let token = &t.token;
    TokenInfo {
        id: token.id.to_string(),
        name: token.name.clone(),
        token_type: token.kind,
        prefix: token.display.clone(),
        scopes: scope_names(&token.scopes),
        user_id: token.user_id.to_string(),
        username: t.owner.name.clone(),
        created_at: token.created_at,
        last_used_at: state.usage.last_used(&token.id, token.last_used_at),
        status: status_view(token.status(now)),
        expires_at: token.expires_at,
        revoked_at: token.revoked_at,
        rotated_from: token.rotated_from.as_ref().map(ToString::to_string),
    }
}

/// A token's status as the API shows it (the store keeps its own enum).
pub fn status_view(status: ward_store::TokenStatus) -> TokenStatus {
    match status {
        ward_store::TokenStatus::Active => TokenStatus::Active,
        ward_store::TokenStatus::Expired => TokenStatus::Expired,
        ward_store::TokenStatus::Revoked => TokenStatus::Revoked,
    }
}

/// A status the API was asked to filter by, as the store filters.
pub fn stored_status(status: TokenStatus) -> ward_store::TokenStatus {
    match status {
        TokenStatus::Active => ward_store::TokenStatus::Active,
        TokenStatus::Expired => ward_store::TokenStatus::Expired,
        TokenStatus::Revoked => ward_store::TokenStatus::Revoked,
    }
}

/// A user as the API shows it.
pub fn user_view(state: &AppState, user: &UserRecord) -> User {
    let role = match &user.kind {
        UserKind::Human { role, .. } => UserRole::Human(*role),
        UserKind::Service { .. } => UserRole::Service,
    };
    User {
        id: user.id.to_string(),
        name: user.name.clone(),
        role,
        scopes: scope_names(&permissions(state, user)),
        created_at: user.created_at,
    }
}
