//! The token lifecycle: create, list, show, revoke, delete, rotate.

use super::input::{NewToken, Rotation, TokenListing};
use super::{AsOf, Issue, Issued, Issuer, draw_token, find_token, issue, permissions, resolve_user};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use ward_core::grant::{self, Wanted};
use ward_core::limits::MaxUses;
use ward_core::policy::{SCOPE_TOKENS, effective_scopes, scopes_for_new_token};
use ward_core::{Caller, ScopeSet, TokenId, TokenKind, TokenStatus};
use ward_store::{TokenFilter, TokenWithOwner, UseLimits};

/// `POST /v1/tokens`.
pub async fn create(state: &AppState, caller: &Caller, new: NewToken) -> ApiResult<Issued> {
    caller.require(SCOPE_TOKENS)?;
    let owner = match new.owner.as_deref() {
        Some(who) => {
            caller.may_manage_tokens_of_named(who, "create tokens for other users")?;
            resolve_user(state, who).await?
        }
        None => state.store.user_by_id(&caller.principal.id).await?.ok_or(ApiError::NotFound("user"))?,
    };
    if owner.id != caller.principal.id {
        caller.require_admin("create tokens for other users")?;
    }
    let now = state.now();
    let scopes = scopes_for_new_token(caller, new.kind, new.scopes, &permissions(state, &owner))?;
    let risk = state.settings.catalog.max_risk(&scopes);
    let expires_at = super::lifecycle::lifetime_end(state, caller, new.kind, risk, new.lifetime, now)?;
    let granted = grant::derive(caller, Wanted { scopes, expires_at }, now)?;
    let created = issue(
        state,
        now,
        Issue {
            name: new.name,
            kind: new.kind,
            owner: owner.id.clone(),
            scopes: granted.scopes,
            expires_at: granted.expires_at,
            rotated_from: None,
            parent_token_id: grant::parent(caller),
            issuer: Some(Issuer::of(caller)),
            limits: UseLimits {
                max_uses: new.limits.max_uses.map(MaxUses::get),
                uses_left: new.limits.max_uses.map(MaxUses::get),
                rate: new.limits.rate,
            },
        },
        AuditEvent::new("token.create").subject(&owner.name).risk(risk),
    )
    .await?;
    tracing::info!(token.id = %created.record.id, token.kind = %new.kind, user.id = %owner.id, by.token = %caller.token_id, "token created");
    Ok(created)
}

/// The scopes `caller` may give a new token of its own (the create
/// form's checkboxes): its owner's permissions within what the calling
/// session holds. `ward:tokens` first, as [`create`]; `create` decides
/// again on what is posted.
pub async fn grantable(state: &AppState, caller: &Caller) -> ApiResult<ScopeSet> {
    caller.require(SCOPE_TOKENS)?;
    let me = state.store.user_by_id(&caller.principal.id).await?.ok_or(ApiError::NotFound("user"))?;
    Ok(effective_scopes(&caller.scopes, &permissions(state, &me)))
}

/// One page of tokens, newest first, and where the next page starts.
#[derive(Debug)]
pub struct TokenPage {
    pub tokens: Vec<TokenWithOwner>,
    pub next_cursor: Option<TokenId>,
}

/// A rotation: the successor (shown once) and the old token as it now stands.
#[derive(Debug)]
pub struct RotatedToken {
    pub successor: Issued,
    pub previous: TokenWithOwner,
}

/// `GET /v1/tokens`: the caller's own tokens, or anyone's for an admin.
pub async fn list(state: &AppState, caller: &Caller, query: TokenListing) -> ApiResult<AsOf<TokenPage>> {
    let owner = match query.owner.as_deref() {
        Some(who) => {
            caller.may_manage_tokens_of_named(who, "list other users' tokens")?;
            resolve_user(state, who).await?.id
        }
        None => caller.principal.id.clone(),
    };
    caller.may_manage_tokens_of(&owner, "list other users' tokens")?;
    let TokenListing { kind, status, before, limit, expiring, unused_for, .. } = query;
    let now = state.now();
    if unused_for.is_some() {
        // Uses still pending in memory count: a token used a moment ago is not unused.
        state.usage.flush().await;
    }
    let filter = TokenFilter {
        user_id: Some(owner),
        kind,
        // Expiring or unused: of the tokens that still work.
        status: status.or((expiring.is_some() || unused_for.is_some()).then_some(TokenStatus::Active)),
        now,
        before,
        limit,
        expiring_by: expiring.map(|t| now + t.as_duration()),
        unused_since: unused_for.map(|t| now - t.as_duration()),
    };
    let found = state.store.list_tokens(&filter).await?;
    let next_cursor =
        if found.len() == limit as usize { found.last().map(|t| t.token.id.clone()) } else { None };
    Ok(AsOf { now, value: TokenPage { tokens: found, next_cursor } })
}

/// The active tokens that end within `within`, and whose they are.
#[derive(Debug)]
pub struct Expiring {
    pub tokens: Vec<TokenWithOwner>,
    /// Every user's (the caller may manage other users' tokens), not only
    /// the caller's own.
    pub everyone: bool,
    /// Every active token was looked at (else only the newest
    /// [`EXPIRING_SCAN`] pages of them).
    pub complete: bool,
}

/// At most this many pages of active tokens are read for "expiring soon".
pub const EXPIRING_SCAN: usize = 20;

/// "Expiring soon": the caller's active tokens that end within `within`,
/// or every user's for a caller who may manage other users' tokens (an
/// admin holding `ward:tokens`, the rule of listing another user's).
pub async fn expiring(state: &AppState, caller: &Caller, within: Duration) -> ApiResult<AsOf<Expiring>> {
    caller.require(SCOPE_TOKENS)?;
    let everyone = caller.is_admin();
    let now = state.now();
    let until = now + within;
    let mut filter = TokenFilter {
        user_id: (!everyone).then(|| caller.principal.id.clone()),
        kind: None,
        status: Some(TokenStatus::Active),
        now,
        before: None,
        limit: TokenListing::MAX_PAGE,
        // The same filter as `ward token list --expiring`, in the query.
        expiring_by: Some(until),
        unused_since: None,
    };
    let mut tokens = Vec::new();
    let mut complete = false;
    for _ in 0..EXPIRING_SCAN {
        let page = state.store.list_tokens(&filter).await?;
        let last = page.last().map(|t| t.token.id.clone()).filter(|_| page.len() == filter.limit as usize);
        tokens.extend(page.into_iter().filter(|t| t.token.expires_at.is_some_and(|end| end <= until)));
        match last {
            Some(id) => filter.before = Some(id),
            None => {
                complete = true;
                break;
            }
        }
    }
    Ok(AsOf { now, value: Expiring { tokens, everyone, complete } })
}

/// A token the caller may manage: `ward:tokens` first (403); then a
/// missing token, or another user's for a non-admin, is the same 404, so
/// the answer never tells a non-admin that someone else's id exists.
async fn owned(state: &AppState, caller: &Caller, id: &str) -> ApiResult<TokenWithOwner> {
    caller.require(SCOPE_TOKENS)?;
    let found = find_token(state, id).await?;
    if found.token.user_id != caller.principal.id && !caller.is_admin() {
        return Err(ApiError::NotFound("token"));
    }
    Ok(found)
}

/// `GET /v1/tokens/{id}`.
pub async fn show(state: &AppState, caller: &Caller, id: &str) -> ApiResult<AsOf<TokenWithOwner>> {
    let found = owned(state, caller, id).await?;
    Ok(AsOf { now: state.now(), value: found })
}

/// `POST /v1/tokens/{id}/revoke`: permanent. Revoking twice is a 409.
pub async fn revoke(state: &AppState, caller: &Caller, id: &str) -> ApiResult<AsOf<TokenWithOwner>> {
    let found = owned(state, caller, id).await?;
    let now = state.now();
    let event = state.audit.prepare(
        AuditEvent::new("token.revoke")
            .subject(&found.owner.name)
            .token(&found.token.id)
            .scopes(&found.token.scopes),
    );
    if !state.store.revoke_token(&found.token.id, now, &[event]).await? {
        return Err(ApiError::Conflict(format!("token {} is already revoked", found.token.id)));
    }
    state.audit.committed();
    tracing::info!(token.id = %found.token.id, by.token = %caller.token_id, "token revoked");
    let after = find_token(state, found.token.id.as_str()).await?;
    Ok(AsOf { now, value: after })
}

/// `DELETE /v1/tokens/{id}`: admins only; the record is gone, the token
/// answers `NOT_FOUND` from then on.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    caller.require_admin("delete tokens")?;
    let found = find_token(state, id).await?;
    let event = state
        .audit
        .prepare(AuditEvent::new("token.delete").subject(&found.owner.name).token(&found.token.id));
    state.store.delete_token(&found.token.id, state.now(), &[event]).await?;
    state.audit.committed();
    tracing::info!(token.id = %found.token.id, by.token = %caller.token_id, "token deleted");
    Ok(())
}

/// `POST /v1/tokens/{id}/rotate`.
pub async fn rotate(
    state: &AppState,
    caller: &Caller,
    id: &str,
    rotation: Rotation,
) -> ApiResult<AsOf<RotatedToken>> {
    let found = owned(state, caller, id).await?;
    rotate_found(state, caller, found, rotation).await
}

/// Issues a successor with the same name, kind, owner, effective scopes and
/// lifetime, and lets the old token live until `min(now + grace, its
/// expiry)`, both in one transaction.
///
/// What the successor holds is derived from the caller ([`grant`]): the
/// caller must hold every effective scope of the old token (403 otherwise),
/// and the successor ends no later than a caller that is not a login
/// session. The store rotates only an active token with no successor yet
/// (409 naming the successor), deciding inside its transaction.
pub async fn rotate_found(
    state: &AppState,
    caller: &Caller,
    found: TokenWithOwner,
    rotation: Rotation,
) -> ApiResult<AsOf<RotatedToken>> {
    let old = &found.token;
    if old.kind == TokenKind::Login {
        return Err(ApiError::invalid("login sessions are not rotated; log in again"));
    }
    let now = state.now();
    let scopes = effective_scopes(&old.scopes, &permissions(state, &found.owner));
    let risk = state.settings.catalog.max_risk(&scopes);
    let rotated = grant::rotated_expiry(caller, old.created_at, old.expires_at, now);
    let wanted =
        Wanted { scopes, expires_at: super::lifecycle::rotation_end(state, old.kind, risk, rotated, now) };
    let granted = grant::derive(caller, wanted, now)?;
    let issue = Issue {
        name: old.name.clone(),
        kind: old.kind,
        owner: old.user_id.clone(),
        scopes: granted.scopes,
        expires_at: granted.expires_at,
        rotated_from: Some(old.id.clone()),
        parent_token_id: grant::successor_parent(caller, &old.id, old.parent_token_id.as_ref()),
        issuer: Some(Issuer::of(caller)),
        // The successor keeps the rate and the uses left. With a grace
        // period the old token keeps its own count until it ends
        // (docs/lifecycle.md says so).
        limits: old.limits,
    };
    let (plain, record) = draw_token(state, now, issue);
    let old_ends_at: Option<DateTime<Utc>> = rotation.grace.map(|g| now + g.as_duration());
    let linked = format!(
        "rotated from {} (old token ends {})",
        old.id,
        old_ends_at.map_or("now".to_owned(), |t| t.to_rfc3339())
    );
    let event = state.audit.prepare(
        AuditEvent::new("token.rotate")
            .subject(&found.owner.name)
            .token(&record.id)
            .scopes(&record.scopes)
            .decision(linked),
    );
    state.store.rotate_token(&old.id, old_ends_at, &record, &plain.hash(), now, &[event]).await?;
    state.audit.committed();
    tracing::info!(token.id = %record.id, token.rotated_from = %old.id, by.token = %caller.token_id, "token rotated");
    let previous = find_token(state, old.id.as_str()).await?;
    Ok(AsOf { now, value: RotatedToken { successor: Issued { plain, record }, previous } })
}
