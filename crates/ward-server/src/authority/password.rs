//! Passwords: a user changes their own (`POST /v1/password`), an admin
//! resets another user's (`POST /v1/users/{id}/password`).
//!
//! A change needs the calling token to be a login session and the current
//! password; the check is reserved in the login throttle like a login (so
//! a stolen session cannot guess faster than a login could) and runs under
//! the hashing bound. The new hash and the end of the user's other login
//! sessions (for a reset: all of them) are one store transaction.

use super::resolve_user;
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use std::net::IpAddr;
use ward_api::{ChangePasswordRequest, PasswordChanged, ResetPasswordRequest};
use ward_core::{Caller, Denied, Password};
use ward_store::{PasswordEnds, UserKind};

/// `POST /v1/password`: the caller's own password.
pub async fn change_own(
    state: &AppState,
    caller: &Caller,
    req: ChangePasswordRequest,
    client: Option<IpAddr>,
) -> ApiResult<PasswordChanged> {
    caller.require_session("change your password")?;
    let current = Password::any(req.current_password).map_err(ApiError::invalid)?;
    let new = Password::new_checked(req.new_password).map_err(ApiError::invalid)?;
    let user = state.store.user_by_id(&caller.principal.id).await?.ok_or(ApiError::NotFound("user"))?;
    let UserKind::Human { password_hash: stored, .. } = &user.kind else {
        return Err(ApiError::Conflict("service users have no password".into()));
    };
    let attempt = match state.throttle.reserve(user.name.as_str(), client) {
        Ok(attempt) => attempt,
        Err(wait) => {
            state.audit.emit_use(
                AuditEvent::new("user.password")
                    .subject(&user.name)
                    .error("throttled: too many wrong passwords"),
            );
            return Err(ApiError::TooManyRequests { retry_after: wait.as_secs().max(1) });
        }
    };
    tokio::time::sleep(attempt.delay).await;
    match state.hasher.verify(current, stored.clone()).await {
        Ok(true) => state.throttle.succeeded(attempt),
        Ok(false) => {
            state.throttle.failed(attempt);
            tracing::info!(user.id = %user.id, client.ip = client.map(tracing::field::display), "password change refused: wrong current password");
            state.audit.emit(
                AuditEvent::new("user.password")
                    .subject(&user.name)
                    .token(&caller.token_id)
                    .error("wrong current password"),
            );
            return Err(Denied::WrongPassword.into());
        }
        Err(e) => {
            state.throttle.cancelled(attempt);
            return Err(e);
        }
    }
    let hash = state.hasher.hash(new).await?;
    let event = state.audit.prepare(
        AuditEvent::new("user.password")
            .subject(&user.name)
            .token(&caller.token_id)
            .decision("changed; other sessions ended"),
    );
    let ended = state
        .store
        .set_password(
            &user.id,
            &hash,
            PasswordEnds::SessionsExcept(Some(&caller.token_id)),
            state.now(),
            &[event],
        )
        .await?;
    state.audit.committed();
    tracing::info!(user.id = %user.id, sessions.ended = ended, "password changed");
    Ok(PasswordChanged { user_id: user.id.to_string(), username: user.name.into(), sessions_ended: ended })
}

/// `POST /v1/users/{id}/password` (admins): another user's password; all
/// their login sessions end.
pub async fn reset(
    state: &AppState,
    caller: &Caller,
    who: &str,
    req: ResetPasswordRequest,
) -> ApiResult<PasswordChanged> {
    caller.require_admin("reset other users' passwords")?;
    caller.require_session("reset other users' passwords")?;
    let new = Password::new_checked(req.new_password).map_err(ApiError::invalid)?;
    let user = resolve_user(state, who).await?;
    if user.id == caller.principal.id {
        return Err(ApiError::Conflict(
            "to change your own password use `ward passwd` (POST /v1/password), which asks for the current one"
                .into(),
        ));
    }
    if !matches!(user.kind, UserKind::Human { .. }) {
        return Err(ApiError::Conflict(format!(
            "'{}' is a service user: service users have no password",
            user.name
        )));
    }
    let hash = state.hasher.hash(new).await?;
    let event = state.audit.prepare(
        AuditEvent::new("user.password")
            .subject(&user.name)
            .token(&caller.token_id)
            .decision(format!("reset by {}; sessions ended", caller.principal.name)),
    );
    let ended = state
        .store
        .set_password(&user.id, &hash, PasswordEnds::SessionsExcept(None), state.now(), &[event])
        .await?;
    state.audit.committed();
    tracing::info!(user.id = %user.id, sessions.ended = ended, by.token = %caller.token_id, "password reset");
    Ok(PasswordChanged { user_id: user.id.to_string(), username: user.name.into(), sessions_ended: ended })
}
