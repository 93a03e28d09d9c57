//! Login, logout and whoami.

use super::{Issue, issue, permissions};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::password;
use crate::state::AppState;
use std::net::IpAddr;
use ward_api::{LoginRequest, LoginResponse, LogoutResponse, WhoAmI};
use ward_core::{Caller, Password, PrincipalKind, TokenKind};
use ward_store::UserKind;

/// Checks a username and password and opens a session (a `l` token).
/// Throttled per username and client address; see `crate::throttle`.
pub async fn login(state: &AppState, req: LoginRequest, client: Option<IpAddr>) -> ApiResult<LoginResponse> {
    let username = req.username.trim().to_owned();
    let password = Password::any(req.password).map_err(ApiError::invalid)?;
    if let Err(wait) = state.throttle.check(&username, client) {
        state.audit.emit(
            AuditEvent::new("login.failure").subject(&username).error("throttled: too many failed logins"),
        );
        return Err(ApiError::TooManyRequests { retry_after: wait.as_secs().max(1) });
    }
    let user = state.store.user_by_name(&username).await?;
    let stored = match user.as_ref().map(|u| &u.kind) {
        Some(UserKind::Human { password_hash, .. }) => password_hash.clone(),
        _ => None,
    };
    if !password::verify(password, stored).await? {
        let delay = state.throttle.failure(&username, client);
        tracing::info!(user.name = %username, client.ip = ?client, "login failed");
        state
            .audit
            .emit(AuditEvent::new("login.failure").subject(&username).error("invalid username or password"));
        tokio::time::sleep(delay).await;
        return Err(ApiError::BadCredentials);
    }
    let Some(user) = user else {
        return Err(ApiError::BadCredentials);
    };
    state.throttle.success(&username);
    let now = state.now();
    let ttl = state.settings.login.session_ttl;
    let created = issue(
        state,
        now,
        Issue {
            name: format!("login session of {}", user.name),
            kind: TokenKind::Login,
            owner: user.id.clone(),
            scopes: permissions(state, &user),
            expires_at: Some(now + ttl.as_duration()),
            rotated_from: None,
        },
    )
    .await?;
    tracing::info!(user.id = %user.id, token.id = %created.id, "login");
    state.audit.emit(
        AuditEvent::new("login.success").subject(&user.name).token(&created.id).scopes(&created.scopes),
    );
    Ok(LoginResponse {
        expires_at: created.expires_at.unwrap_or(now),
        token: created.token,
        token_id: created.id,
        user_id: user.id.to_string(),
        username: user.name,
    })
}

/// Revokes the calling token.
pub async fn logout(state: &AppState, caller: &Caller) -> ApiResult<LogoutResponse> {
    let revoked = state.store.revoke_token(&caller.token_id, state.now()).await?;
    tracing::info!(token.id = %caller.token_id, "logout");
    state.audit.emit(AuditEvent::new("logout").subject(&caller.principal.name).token(&caller.token_id));
    Ok(LogoutResponse { revoked, token_id: caller.token_id.to_string() })
}

/// Describes the caller.
pub async fn whoami(state: &AppState, caller: &Caller) -> ApiResult<WhoAmI> {
    let expires_at = match caller.token_kind {
        TokenKind::Agent => state.agents.minted_by_jti(&caller.token_id).await?.map(|m| m.expires_at),
        _ => {
            state
                .store
                .token_by_id(&caller.token_id)
                .await?
                .ok_or(ApiError::NotFound("token"))?
                .token
                .expires_at
        }
    };
    let role = match &caller.principal.kind {
        PrincipalKind::Human(role) => role.as_str(),
        PrincipalKind::Service(_) => "service",
        PrincipalKind::Agent { .. } => "agent",
    };
    Ok(WhoAmI {
        user_id: caller.principal.id.to_string(),
        username: caller.principal.name.clone(),
        role: role.to_owned(),
        token_id: caller.token_id.to_string(),
        token_type: caller.token_kind.to_string(),
        scopes: caller.scopes.iter().map(ToString::to_string).collect(),
        expires_at,
    })
}
