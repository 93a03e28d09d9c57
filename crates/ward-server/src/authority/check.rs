//! Is this token string good right now? The one answer behind both the auth
//! extractor and `POST /v1/verify`.
//!
//! Order matters for cost: shape and checksum first (no store), then the
//! SHA-256 and one indexed lookup, then the state check.

use super::permissions;
use crate::error::ApiResult;
use crate::state::AppState;
use ward_core::policy::effective_scopes;
use ward_core::token::inspect;
use ward_core::{ScopeSet, TokenHash};
use ward_store::{TokenStatus, TokenWithOwner};

/// The verdict on a token string.
#[derive(Debug)]
pub enum Check {
    Valid { found: TokenWithOwner, scopes: ScopeSet },
    Malformed,
    NotFound,
    Expired(TokenWithOwner),
    Revoked(TokenWithOwner),
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
        }
    }

    /// The id of the token found, if one was.
    pub fn token_id(&self) -> Option<&ward_core::TokenId> {
        match self {
            Check::Valid { found, .. } | Check::Expired(found) | Check::Revoked(found) => {
                Some(&found.token.id)
            }
            Check::Malformed | Check::NotFound => None,
        }
    }

    /// Why a token was refused, for a 401 (never contains the token).
    pub fn refusal(&self) -> &'static str {
        match self {
            Check::Valid { .. } => "valid",
            Check::Malformed => "the token is malformed (bad shape or checksum)",
            Check::NotFound => "the token is not known to this server",
            Check::Expired(_) => "the token has expired",
            Check::Revoked(_) => "the token has been revoked",
        }
    }
}

/// Checks a presented token. A valid use is recorded for last-used tracking.
pub async fn check(state: &AppState, presented: &str) -> ApiResult<Check> {
    let Ok(inspected) = inspect(presented) else {
        return Ok(Check::Malformed);
    };
    if inspected.prefix != state.settings.prefix.as_str() {
        return Ok(Check::NotFound);
    }
    let hash = TokenHash::of(presented);
    let Some(found) = state.store.token_by_hash(&hash).await? else {
        return Ok(Check::NotFound);
    };
    let now = state.now();
    if found.owner.deleted_at.is_some() {
        return Ok(Check::Revoked(found));
    }
    match found.token.status(now) {
        TokenStatus::Revoked => Ok(Check::Revoked(found)),
        TokenStatus::Expired => Ok(Check::Expired(found)),
        TokenStatus::Active => {
            state.usage.record(&found.token.id, now);
            let scopes = effective_scopes(&found.token.scopes, &permissions(state, &found.owner));
            Ok(Check::Valid { found, scopes })
        }
    }
}
