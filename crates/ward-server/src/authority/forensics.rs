//! Forensics (issue 16): what is known of a token beyond its record — the
//! clients it was used from (`crate::clients`) — and what a raw token is,
//! told without using it.
//!
//! `POST /v1/tokens/identify` takes a raw token, as `ward audit --token -`
//! and `ward token identify -` read it from stdin: shape and checksum
//! first (no store), then the SHA-256 and one lookup by hash — the one way
//! from a token to its id, as GitHub's `hashed_token`. It is not a use:
//! nothing is noted, no limit applies, nothing about the token changes. The
//! caller needs `ward:tokens` before anything is looked at, and is told only
//! about their own tokens unless an admin: anyone else's is "not found",
//! like a token that does not exist.

use super::{AsOf, tokens};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use ward_core::policy::SCOPE_TOKENS;
use ward_core::token::inspect;
use ward_core::{Caller, TokenHash};
use ward_store::{ClientSeen, TokenWithOwner};

/// A token's page: its record and the clients it was used from.
#[derive(Debug)]
pub struct Detailed {
    pub token: TokenWithOwner,
    /// Newest first, at most five; pending sightings included.
    pub clients: Vec<ClientSeen>,
}

/// `GET /v1/tokens/{id}`: the token (as `tokens::show` authorizes it) and
/// its recent clients.
pub async fn show(state: &AppState, caller: &Caller, id: &str) -> ApiResult<AsOf<Detailed>> {
    let found = tokens::show(state, caller, id).await?;
    let stored = state.store.token_clients(&found.value.token.id).await?;
    let clients = state.usage.clients(&found.value.token.id, stored);
    Ok(AsOf { now: found.now, value: Detailed { token: found.value, clients } })
}

/// `POST /v1/tokens/identify`: the record of a raw token, for its owner or
/// an admin; not a use of it.
pub async fn identify(state: &AppState, caller: &Caller, presented: &str) -> ApiResult<AsOf<TokenWithOwner>> {
    caller.require(SCOPE_TOKENS)?;
    if inspect(presented).is_err() {
        return Err(ApiError::invalid(
            "that is not a ward token (bad shape or checksum); signed agent tokens are found with `ward mint list`",
        ));
    }
    let found = state.store.token_by_hash(&TokenHash::of(presented)).await?;
    let found = found
        .filter(|t| t.token.user_id == caller.principal.id || caller.is_admin())
        .ok_or(ApiError::NotFound("token"))?;
    // The verify cache may hold the record as first verified: read it by id
    // (never cached) so its uses left and status are the store's.
    let found = state.store.token_by_id(&found.token.id).await?.ok_or(ApiError::NotFound("token"))?;
    state
        .audit
        .emit(AuditEvent::new("token.identify").subject(&caller.principal.name).token(&found.token.id));
    Ok(AsOf { now: state.now(), value: found })
}
