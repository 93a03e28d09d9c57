//! Is this token string good right now? The one answer behind both the auth
//! extractor and `POST /v1/verify`, for opaque and signed tokens alike.
//!
//! Order matters for cost. Opaque: shape and checksum first (no store), then
//! the SHA-256 and one indexed lookup, then the state check. Signed: parse,
//! find the key, check the signature (no store), then the minted record for
//! revocation.
//!
//! A check is a *use* of the token ([`check`]): it is noted for last-used
//! and forensics, and a token's usage limits apply — its `--rate` first (in
//! memory, `crate::token_rate`: a 429), then its `--max-uses` (one
//! conditional decrement in the store, for limited tokens only:
//! `USAGE_EXCEEDED` once none are left). [`look_up`] answers the same
//! without a use, for revoking a token by possession.

use super::{permissions, principal};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, TimeZone, Utc};
use ward_core::policy::{SCOPE_INTROSPECT, effective_scopes};
use ward_core::signed::{self, looks_like_jwt};
use ward_core::token::inspect;
use ward_core::{Caller, Principal, PrincipalKind, ScopeSet, TokenHash, TokenId, TokenKind};
use ward_store::TokenStatus;

/// What is known of a token that was found.
#[derive(Debug, Clone)]
pub struct Found {
    pub token_id: TokenId,
    pub kind: TokenKind,
    /// The owner's name, or the agent's.
    pub subject: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was issued (created, or minted).
    pub issued_at: DateTime<Utc>,
    /// A minted token's `aud`, if its minter named one.
    pub audience: Option<String>,
}

/// The verdict on a token string.
#[derive(Debug)]
pub enum Check {
    Valid {
        found: Found,
        caller: Caller,
    },
    Malformed,
    NotFound,
    Expired(Found),
    Revoked(Found),
    /// A `--max-uses` token whose uses are spent.
    Exhausted(Found),
}

impl Check {
    /// The `code` of `/v1/verify`.
    pub fn code(&self) -> &'static str {
        match self {
            Check::Valid { .. } => "VALID",
            Check::Malformed => "MALFORMED",
            Check::NotFound => "NOT_FOUND",
            Check::Expired(_) => "EXPIRED",
            Check::Revoked(_) => "REVOKED",
            Check::Exhausted(_) => "USAGE_EXCEEDED",
        }
    }

    pub fn found(&self) -> Option<&Found> {
        match self {
            Check::Valid { found, .. }
            | Check::Expired(found)
            | Check::Revoked(found)
            | Check::Exhausted(found) => Some(found),
            Check::Malformed | Check::NotFound => None,
        }
    }

    /// The id of the token found, if one was.
    pub fn token_id(&self) -> Option<&TokenId> {
        self.found().map(|f| &f.token_id)
    }

    /// The effective scopes of a valid token (empty otherwise).
    pub fn scopes(&self) -> ScopeSet {
        match self {
            Check::Valid { caller, .. } => caller.scopes.clone(),
            _ => ScopeSet::new(),
        }
    }

    /// Why a token was refused, for a 401 (never contains the token).
    pub fn refusal(&self) -> &'static str {
        match self {
            Check::Valid { .. } => "valid",
            Check::Malformed => "the token is malformed (bad shape, checksum or signature)",
            Check::NotFound => "the token is not known to this server",
            Check::Expired(_) => "the token has expired",
            Check::Revoked(_) => "the token has been revoked",
            Check::Exhausted(_) => "the token has used up its uses (max uses)",
        }
    }
}

/// Whether a check is a use of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    /// Noted, and held to the token's usage limits.
    Use,
    /// Neither: ending a token by possession is not a use of it.
    NotAUse,
}

/// Checks a presented token as a use of it: noted for last-used and the
/// clients it was used from, held to its rate (`Err` 429) and its max uses.
pub async fn check(state: &AppState, presented: &str) -> ApiResult<Check> {
    check_counted(state, presented, Counted::Use).await
}

/// [`check`] without a use: nothing noted, no limit applied.
pub async fn look_up(state: &AppState, presented: &str) -> ApiResult<Check> {
    check_counted(state, presented, Counted::NotAUse).await
}

async fn check_counted(state: &AppState, presented: &str, counted: Counted) -> ApiResult<Check> {
    if looks_like_jwt(presented) {
        return check_signed(state, presented).await;
    }
    let Ok(inspected) = inspect(presented) else {
        return Ok(Check::Malformed);
    };
    if inspected.prefix != state.settings.prefix.as_str() {
        return Ok(Check::NotFound);
    }
    let hash = TokenHash::of(presented);
    // Shared with the verify cache on a hit: read from, never copied whole.
    let Some(t) = state.store.token_by_hash_shared(&hash).await? else {
        return Ok(Check::NotFound);
    };
    let now = state.now();
    let found = Found {
        token_id: t.token.id.clone(),
        kind: t.token.kind,
        subject: t.owner.name.to_string(),
        expires_at: t.token.expires_at,
        issued_at: t.token.created_at,
        audience: None,
    };
    if t.owner.deleted_at.is_some() {
        return Ok(Check::Revoked(found));
    }
    match t.token.status(now) {
        TokenStatus::Revoked => Ok(Check::Revoked(found)),
        TokenStatus::Expired => Ok(Check::Expired(found)),
        TokenStatus::Active => {
            if counted == Counted::Use {
                if let Some(rate) = t.token.limits.rate {
                    state.token_rates.check(&t.token.id, rate).map_err(|retry_after| {
                        ApiError::TokenRateLimited { rate: rate.to_string(), retry_after }
                    })?;
                }
                if t.token.limits.max_uses.is_some() && state.store.consume_use(&t.token.id).await?.is_none()
                {
                    return Ok(Check::Exhausted(found));
                }
                state.usage.record(&t.token.id, now);
                state.usage.record_client(&t.token.id, now);
            }
            let principal = principal(&t.owner);
            // `permissions(state, &t.owner)`, without building the principal twice.
            let scopes = effective_scopes(&t.token.scopes, state.settings.roles.ceiling(&principal));
            let caller = Caller {
                principal,
                token_id: t.token.id.clone(),
                token_kind: t.token.kind,
                scopes,
                expires_at: t.token.expires_at,
            };
            Ok(Check::Valid { found, caller })
        }
    }
}

async fn check_signed(state: &AppState, presented: &str) -> ApiResult<Check> {
    let Ok(unverified) = signed::decode(presented) else {
        return Ok(Check::Malformed);
    };
    let Some(key) = state.keys.find(&unverified.header.kid).await? else {
        return Ok(Check::NotFound);
    };
    let Ok(claims) = unverified.verify(&key.public) else {
        return Ok(Check::Malformed);
    };
    let Ok(jti) = TokenId::parse(&claims.jti) else {
        return Ok(Check::Malformed);
    };
    if claims.iss != state.settings.mint.issuer {
        return Ok(Check::NotFound);
    }
    let Some(minted) = state.agents.minted_by_jti(&jti).await? else {
        return Ok(Check::NotFound);
    };
    let found = Found {
        token_id: jti.clone(),
        kind: TokenKind::Agent,
        subject: minted.agent.clone(),
        // The record's end when its parent's rotation grace cut it short.
        expires_at: Utc.timestamp_opt(claims.exp, 0).single().map(|exp| exp.min(minted.expires_at)),
        issued_at: minted.issued_at,
        audience: claims.aud.clone(),
    };
    let now = state.now();
    if key.retired_at.is_some() || minted.revoked_at.is_some() {
        return Ok(Check::Revoked(found));
    }
    if minted.expires_at <= now || claims.exp <= now.timestamp() {
        return Ok(Check::Expired(found));
    }
    let Some(minter) = state.store.user_by_id(&minted.minted_by).await? else {
        return Ok(Check::Revoked(found));
    };
    let scopes = effective_scopes(&minted.scopes, &permissions(state, &minter));
    let principal = Principal {
        id: minter.id.clone(),
        name: minted.agent.clone(),
        kind: PrincipalKind::Agent { minted_by: minter.id },
    };
    let caller = Caller {
        principal,
        token_id: jti,
        token_kind: TokenKind::Agent,
        scopes,
        expires_at: Some(minted.expires_at),
    };
    Ok(Check::Valid { found, caller })
}

/// `POST /v1/verify`: `ward:introspect` first, then the verdict on the
/// presented token (always 200), counted as one of its uses.
pub async fn verify(state: &AppState, caller: &Caller, presented: &str) -> ApiResult<Check> {
    caller.require(SCOPE_INTROSPECT)?;
    let verdict = check(state, presented).await?;
    state.metrics.verify(verdict.code());
    let event = AuditEvent::new("token.verify").decision(verdict.code());
    state.audit.emit_use(match verdict.found() {
        Some(found) => event.subject(&found.subject).token(&found.token_id),
        None => event.subject(&caller.principal.name),
    });
    Ok(verdict)
}
