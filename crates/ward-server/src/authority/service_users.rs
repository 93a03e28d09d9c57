//! Service users: machine principals with fixed scopes and rotatable keys
//! (`s` tokens).

use super::input::{NewServiceUser, Rotation};
use super::tokens::RotatedToken;
use super::{AsOf, Issue, Issued, Issuer, issue, resolve_user};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use ward_core::grant::{self, Wanted};
use ward_core::{Caller, TokenKind, TokenName, UserId};
use ward_store::{TokenFilter, TokenStatus, TokenWithOwner, UserKind, UserKindFilter, UserRecord};

/// `POST /v1/service-users` (admins): the user and its first key.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    new: NewServiceUser,
) -> ApiResult<(UserRecord, Issued)> {
    caller.require_admin("create service users")?;
    let NewServiceUser { name, scopes, lifetime } = new;
    let now = state.now();
    let risk = state.settings.catalog.max_risk(&scopes);
    let expires_at = super::lifecycle::lifetime_end(state, caller, TokenKind::Service, risk, lifetime, now)?;
    // The user's scopes and its first key's end, as the caller may grant them.
    let granted = grant::derive(caller, Wanted { scopes, expires_at }, now)?;
    let scopes = granted.scopes;
    let user = UserRecord {
        id: UserId::generate(now, &mut crate::entropy::OsEntropy),
        name,
        kind: UserKind::Service { scopes: scopes.clone() },
        created_at: now,
        deleted_at: None,
        created_by: Some(caller.principal.id.clone()),
    };
    let key_name = TokenName::parse(&format!("{} key", user.name)).map_err(ApiError::invalid)?;
    state.store.create_user(&user, &[]).await?;
    let key = issue(
        state,
        now,
        Issue {
            name: key_name,
            kind: TokenKind::Service,
            owner: user.id.clone(),
            scopes,
            expires_at: granted.expires_at,
            rotated_from: None,
            parent_token_id: grant::parent(caller),
            issuer: Some(Issuer::of(caller)),
            limits: Default::default(),
        },
        AuditEvent::new("service_user.create").subject(&user.name),
    )
    .await?;
    tracing::info!(user.id = %user.id, token.id = %key.record.id, by.token = %caller.token_id, "service user created");
    Ok((user, key))
}

/// `GET /v1/service-users` (admins), each with its active keys.
pub async fn list(
    state: &AppState,
    caller: &Caller,
) -> ApiResult<AsOf<Vec<(UserRecord, Vec<TokenWithOwner>)>>> {
    caller.require_admin("list service users")?;
    let now = state.now();
    let mut out = Vec::new();
    for user in state.store.list_users(Some(UserKindFilter::Service)).await? {
        let filter = TokenFilter {
            user_id: Some(user.id.clone()),
            kind: None,
            status: Some(TokenStatus::Active),
            ..TokenFilter::all(now, 100)
        };
        let keys = state.store.list_tokens(&filter).await?;
        out.push((user, keys));
    }
    Ok(AsOf { now, value: out })
}

/// `POST /v1/service-users/{id}/rotate-key` (admins): rotates the newest
/// active key; the old one lives on for `grace`. What the new key holds is
/// derived from the caller as for any rotation (`tokens::rotate_found`).
pub async fn rotate_key(
    state: &AppState,
    caller: &Caller,
    who: &str,
    rotation: Rotation,
) -> ApiResult<AsOf<RotatedToken>> {
    caller.require_admin("rotate service user keys")?;
    let user = resolve_user(state, who).await?;
    if !matches!(user.kind, UserKind::Service { .. }) {
        return Err(ApiError::NotFound("service user"));
    }
    let filter = TokenFilter {
        user_id: Some(user.id.clone()),
        kind: Some(TokenKind::Service),
        status: Some(TokenStatus::Active),
        ..TokenFilter::all(state.now(), 1)
    };
    let Some(current) = state.store.list_tokens(&filter).await?.into_iter().next() else {
        return Err(ApiError::Conflict(format!("service user {} has no active key to rotate", user.name)));
    };
    super::tokens::rotate_found(state, caller, current, rotation).await
}
