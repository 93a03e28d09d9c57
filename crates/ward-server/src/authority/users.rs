//! Users: create, list, their tokens, revoke all, delete.
//!
//! Ending a user (revoke-tokens, delete) ends everything they hold in one
//! store transaction: their tokens and sessions, the agent tokens they
//! minted, and their pending approval requests. `revoked` counts tokens and
//! agent tokens. Agent tokens are not in the verify cache (each use reads
//! its minted record), so they stop at once on every node.

use super::input::NewUser;
use super::{AsOf, resolve_user};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use ward_core::{Caller, UserId};
use ward_store::{TokenFilter, TokenWithOwner, UserKind, UserKindFilter, UserRecord};

/// `POST /v1/users` (admins).
pub async fn create(state: &AppState, caller: &Caller, new: NewUser) -> ApiResult<UserRecord> {
    caller.require_admin("create users")?;
    caller.require_session("create users")?;
    let NewUser { name, role, password } = new;
    let hash = state.hasher.hash(password).await?;
    let now = state.now();
    let user = UserRecord {
        id: UserId::generate(now, &mut crate::entropy::OsEntropy),
        name,
        kind: UserKind::Human { role, password_hash: Some(hash) },
        created_at: now,
        deleted_at: None,
        created_by: Some(caller.principal.id.clone()),
    };
    let event = state.audit.prepare(
        AuditEvent::new("user.create").subject(&user.name).token(&caller.token_id).decision(role.as_str()),
    );
    state.store.create_user(&user, &[event]).await?;
    state.audit.committed();
    tracing::info!(user.id = %user.id, user.role = %role, by.token = %caller.token_id, "user created");
    Ok(user)
}

/// `GET /v1/users` (admins): people, not service users.
pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<Vec<UserRecord>> {
    caller.require_admin("list users")?;
    Ok(state.store.list_users(Some(UserKindFilter::Human)).await?)
}

/// `GET /v1/users/{id}/tokens`: a user's tokens (themselves or an admin).
pub async fn tokens(state: &AppState, caller: &Caller, who: &str) -> ApiResult<AsOf<Vec<TokenWithOwner>>> {
    caller.may_manage_tokens_of_named(who, "list other users' tokens")?;
    let user = resolve_user(state, who).await?;
    caller.may_manage_tokens_of(&user.id, "list other users' tokens")?;
    let now = state.now();
    let filter = TokenFilter { user_id: Some(user.id), ..TokenFilter::all(now, 10_000) };
    Ok(AsOf { now, value: state.store.list_tokens(&filter).await? })
}

/// `POST /v1/users/{id}/revoke-tokens`: every token and session of the
/// user and every agent token they minted, at once; their pending approval
/// requests are denied.
pub async fn revoke_tokens(state: &AppState, caller: &Caller, who: &str) -> ApiResult<u64> {
    caller.may_manage_tokens_of_named(who, "revoke other users' tokens")?;
    let user = resolve_user(state, who).await?;
    caller.may_manage_tokens_of(&user.id, "revoke other users' tokens")?;
    // The count is known only inside the transaction: the event says
    // "all", and the answer and the log say how many.
    let event = state.audit.prepare(
        AuditEvent::new("user.revoke_tokens")
            .subject(&user.name)
            .token(&caller.token_id)
            .decision("all revoked"),
    );
    let revoked = state.store.revoke_user_tokens(&user.id, state.now(), &[event]).await?;
    state.audit.committed();
    tracing::info!(user.id = %user.id, tokens.revoked = revoked, by.token = %caller.token_id, "user tokens revoked");
    Ok(revoked)
}

/// `DELETE /v1/users/{id}` (admins): the user and all they hold (as
/// revoke-tokens), in one transaction. An admin cannot delete themselves, so one admin always
/// remains able to log in.
pub async fn delete(state: &AppState, caller: &Caller, who: &str, kind: UserKindFilter) -> ApiResult<u64> {
    let user = to_delete(state, caller, who, kind).await?;
    let is_service = matches!(user.kind, UserKind::Service { .. });
    let action = if is_service { "service_user.delete" } else { "user.delete" };
    let event = state
        .audit
        .prepare(AuditEvent::new(action).subject(&user.name).token(&caller.token_id).decision("all revoked"));
    let revoked = state.store.delete_user(&user.id, state.now(), &[event]).await?;
    state.audit.committed();
    tracing::info!(user.id = %user.id, tokens.revoked = revoked, by.token = %caller.token_id, "user deleted");
    Ok(revoked)
}

/// The user [`delete`] would delete, checked as it checks (admins; the
/// right kind; not the caller), for the page that asks first.
pub async fn to_delete(
    state: &AppState,
    caller: &Caller,
    who: &str,
    kind: UserKindFilter,
) -> ApiResult<UserRecord> {
    caller.require_admin("delete users")?;
    let user = resolve_user(state, who).await?;
    let is_service = matches!(user.kind, UserKind::Service { .. });
    if is_service != (kind == UserKindFilter::Service) {
        return Err(ApiError::NotFound(if is_service {
            "user (that is a service user)"
        } else {
            "service user"
        }));
    }
    if user.id == caller.principal.id {
        return Err(ApiError::Conflict("you cannot delete the user you are logged in as".into()));
    }
    Ok(user)
}
