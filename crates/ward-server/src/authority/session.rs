//! Login, logout and whoami.
//!
//! A login is bounded before anything else: a username longer than any user
//! name, or a password over 1 KiB, is refused (422) before any lookup,
//! throttle entry or audit event, and only counted. Then the attempt is
//! reserved in the throttle (429 while locked out, counted), slowed down
//! per username, and its password checked under the hashing bound (503 when
//! busy). A failure for a name that is no user is logged and audited as a
//! keyed hash of the name ([`shown_name`]): people type passwords there.

use super::{Issue, Issued, issue, permissions};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use std::net::IpAddr;
use ward_api::LoginRequest;
use ward_core::{Caller, Password, TokenKind, TokenName};
use ward_store::{UserKind, UserRecord};

/// No user name is longer (`ward_core::Username`), so no longer login name
/// is looked up, throttled or written anywhere.
pub const MAX_LOGIN_NAME: usize = 64;

/// How a login name appears in logs and the audit trail: a user's name as
/// it is; anything else as `unknown:` and 16 hex digits of a keyed hash
/// (HMAC-SHA-256 with the `login-names` key), so the same mistyped name can
/// be correlated without being readable.
pub fn shown_name(state: &AppState, name: &str, user: Option<&UserRecord>) -> String {
    if let Some(user) = user {
        return user.name.to_string();
    }
    let key = state.master.derive("login-names");
    let digest = ward_core::keyed::mac(key.as_ref(), &[name.as_bytes()]);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("unknown:{hex}")
}

/// Refuses a login whose fields are over their bounds: counted, never
/// written one by one, and nothing of the input kept.
fn bounded(state: &AppState, req: LoginRequest) -> ApiResult<(String, Password)> {
    let refuse = |why: &'static str| {
        state.audit.emit_use(AuditEvent::new("login.refused").error(why));
        ApiError::Unprocessable(format!("{why}; check what was typed there"))
    };
    let username = req.username.trim();
    if username.is_empty() || username.len() > MAX_LOGIN_NAME {
        return Err(refuse("username must be 1 to 64 characters"));
    }
    let password = Password::any(req.password).map_err(|_| refuse("password must be at most 1024 bytes"))?;
    Ok((username.to_owned(), password))
}

/// Checks a username and password and opens a session (a `l` token).
/// Throttled per username and client address; see `crate::throttle`.
pub async fn login(
    state: &AppState,
    req: LoginRequest,
    client: Option<IpAddr>,
) -> ApiResult<(UserRecord, Issued)> {
    let (username, password) = bounded(state, req)?;
    let user = state.store.user_by_name(&username).await?;
    let shown = shown_name(state, &username, user.as_ref());
    let attempt = match state.throttle.reserve(&username, client) {
        Ok(attempt) => attempt,
        Err(wait) => {
            state.audit.emit_use(
                AuditEvent::new("login.failure").subject(&shown).error("throttled: too many failed logins"),
            );
            return Err(ApiError::TooManyRequests { retry_after: wait.as_secs().max(1) });
        }
    };
    tokio::time::sleep(attempt.delay).await;
    let stored = match user.as_ref().map(|u| &u.kind) {
        Some(UserKind::Human { password_hash, .. }) => password_hash.clone(),
        _ => None,
    };
    let verified = match state.hasher.verify(password, stored).await {
        Ok(verified) => verified,
        Err(e) => {
            // No password was checked: the attempt does not count.
            state.throttle.cancelled(attempt);
            return Err(e);
        }
    };
    let (true, Some(user)) = (verified, user) else {
        state.throttle.failed(attempt);
        tracing::info!(user.name = %shown, client.ip = client.map(tracing::field::display), "login failed");
        state
            .audit
            .emit(AuditEvent::new("login.failure").subject(&shown).error("invalid username or password"));
        return Err(ApiError::BadCredentials);
    };
    state.throttle.succeeded(attempt);
    let now = state.now();
    let ttl = state.settings.login.session_ttl;
    let name = TokenName::parse(&format!("login session of {}", user.name)).map_err(ApiError::invalid)?;
    let created = issue(
        state,
        now,
        Issue {
            name,
            kind: TokenKind::Login,
            owner: user.id.clone(),
            scopes: permissions(state, &user),
            expires_at: Some(now + ttl.as_duration()),
            rotated_from: None,
            parent_token_id: None,
            issuer: None,
            limits: Default::default(),
        },
        AuditEvent::new("login.success").subject(&user.name),
    )
    .await?;
    tracing::info!(user.id = %user.id, token.id = %created.record.id, "login");
    Ok((user, created))
}

/// Revokes the calling token.
/// Whether it was still unrevoked.
pub async fn logout(state: &AppState, caller: &Caller) -> ApiResult<bool> {
    let event = state
        .audit
        .prepare(AuditEvent::new("logout").subject(&caller.principal.name).token(&caller.token_id));
    let revoked = state.store.revoke_token(&caller.token_id, state.now(), &[event]).await?;
    state.audit.committed();
    tracing::info!(token.id = %caller.token_id, "logout");
    Ok(revoked)
}

/// When the caller's credential ends, as stored (a rotation's grace may
/// have cut it short); the rest of `whoami` is the caller itself.
pub async fn whoami(state: &AppState, caller: &Caller) -> ApiResult<Option<DateTime<Utc>>> {
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
    Ok(expires_at)
}
