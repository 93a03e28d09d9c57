//! OAuth 2.0 interoperability: token introspection (RFC 7662), token
//! revocation (RFC 7009) and the authorization server metadata (RFC 8414),
//! for opaque and signed tokens alike, through the same `check` as every
//! other endpoint.
//!
//! - Introspection: the *caller* is authenticated first — a bearer token,
//!   or HTTP Basic with a service user's name and key — and must hold
//!   `ward:introspect`; only then is the presented token looked at. Anything
//!   that is not a valid token answers exactly `{"active":false}`.
//! - Revocation: possession of the token is enough (RFC 7009 §2.1, no
//!   client credentials); an unknown, malformed or already ended token is
//!   answered like a revoked one, and each client address is held to
//!   `[oauth] revoke_per_minute` (`crate::rate`) so the endpoint is no
//!   oracle for guessing.

use super::check::{Check, Found, check, look_up};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use std::net::IpAddr;
use ward_core::policy::SCOPE_INTROSPECT;
use ward_core::{Caller, PrincipalKind, TokenKind};

/// How an introspection caller authenticated.
pub enum Client<'a> {
    /// `Authorization: Bearer …`, already checked by the `Auth` extractor.
    Bearer(Caller),
    /// `Authorization: Basic …`: a service user's name and one of its keys.
    Basic { name: &'a str, key: &'a str },
}

impl std::fmt::Debug for Client<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Client::Bearer(c) => f.debug_tuple("Bearer").field(&c.token_id).finish(),
            Client::Basic { name, .. } => f.debug_struct("Basic").field("name", name).finish_non_exhaustive(),
        }
    }
}

/// The introspection caller, authenticated and allowed to introspect.
pub async fn authenticate(state: &AppState, client: Client<'_>) -> ApiResult<Caller> {
    let caller = match client {
        Client::Bearer(caller) => caller,
        Client::Basic { name, key } => match check(state, key).await? {
            Check::Valid { caller, .. }
                if matches!(caller.principal.kind, PrincipalKind::Service(_))
                    && caller.principal.name == name =>
            {
                caller
            }
            _ => return Err(ApiError::InvalidClient),
        },
    };
    caller.require(SCOPE_INTROSPECT)?;
    Ok(caller)
}

/// What introspection found: the token's record and its holder's view,
/// or nothing (`active: false`).
#[derive(Debug)]
pub struct Introspected {
    pub active: Option<(Found, Caller)>,
}

/// `POST /oauth/introspect` for an authenticated `caller` (see
/// [`authenticate`]); counted as a use of the presented token.
pub async fn introspect(state: &AppState, caller: &Caller, presented: &str) -> ApiResult<Introspected> {
    let verdict = check(state, presented).await?;
    let event = AuditEvent::new("token.introspect").decision(verdict.code());
    state.audit.emit_use(match verdict.found() {
        Some(found) => event.subject(&found.subject).token(&found.token_id),
        None => event.subject(&caller.principal.name),
    });
    Ok(Introspected {
        active: match verdict {
            Check::Valid { found, caller } => Some((found, caller)),
            _ => None,
        },
    })
}

/// `POST /oauth/revoke`: ends the presented token if it is one of ours and
/// not ended yet; answers the same whatever it was. `Err` only for a rate
/// exceeded (429) or a store failure.
pub async fn revoke(state: &AppState, client: Option<IpAddr>, presented: &str) -> ApiResult<()> {
    state
        .revoke_limit
        .check(client)
        .map_err(|wait| ApiError::RateLimited { retry_after: wait.as_secs().max(1) })?;
    // Not a use: a token over its rate or out of uses can still be ended.
    let verdict = look_up(state, presented).await?;
    let found = match verdict {
        Check::Valid { found, .. } | Check::Expired(found) | Check::Exhausted(found) => found,
        other => {
            let event = AuditEvent::new("oauth.revoke").decision(other.code());
            state.audit.emit_use(match other.found() {
                Some(found) => event.subject(&found.subject).token(&found.token_id),
                None => event,
            });
            return Ok(());
        }
    };
    let now = state.now();
    if found.kind == TokenKind::Agent {
        let event = AuditEvent::new("mint.revoke").subject(&found.subject).token(&found.token_id);
        let revoked = state.agents.revoke_minted(&found.token_id, now, &[state.audit.prepare(event)]).await;
        // What it obtained was revoked with it: out of the verify cache.
        state.cache.evict_derived();
        if revoked? {
            state.audit.committed();
        }
    } else {
        let event = AuditEvent::new("token.revoke").subject(&found.subject).token(&found.token_id);
        if state.store.revoke_token(&found.token_id, now, &[state.audit.prepare(event)]).await? {
            state.audit.committed();
        }
    }
    tracing::info!(token.id = %found.token_id, "token revoked by its holder (oauth)");
    Ok(())
}
