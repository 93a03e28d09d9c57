//! Signed agent tokens: mint, list, revoke; signing keys: list, rotate,
//! retire; the public JWKS.
//!
//! Who may mint what, and which minted tokens a `ward:mint` holder reaches,
//! is decided by `ward_core::agent_rules`: an agent mints only for itself,
//! nothing outlives a caller that is not a login session, and a holder who
//! is not an admin lists and revokes only what they minted (someone else's
//! jti is not found, exactly like a missing one).

use super::AsOf;
use super::input::{MintRevoke, NewMint};
use crate::audit::AuditEvent;
use crate::entropy::OsEntropy;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use ward_api::MintedQuery;
use ward_core::agent_rules::{MintedReach, may_mint};
use ward_core::grant::{self, Granted, Wanted};
use ward_core::policy::SCOPE_MINT;
use ward_core::signed::{self, Claims};
use ward_core::{Caller, KeyStatus, TokenId};
use ward_store::MintedRecord;

/// A signed agent token just minted: the JWT, shown once, and its record.
pub struct MintedToken {
    pub jwt: String,
    pub record: MintedRecord,
}

impl std::fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedToken").field("jwt", &"***").field("record", &self.record).finish()
    }
}

/// A signing key as shown: what it does now, never key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    pub kid: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub status: KeyStatus,
}

/// `POST /v1/mint`: a signed token for the agent with the (expanded) scopes.
pub async fn mint(state: &AppState, caller: &Caller, new: NewMint) -> ApiResult<MintedToken> {
    caller.require(SCOPE_MINT)?;
    let NewMint { agent, scopes, ttl, audience } = new;
    let now = state.now();
    let wanted = Wanted { scopes, expires_at: Some(now + ttl.as_duration()) };
    let Granted { scopes, expires_at } = may_mint(caller, agent.as_str(), wanted, now)?;
    // `derive` keeps an end it was given: it cannot be missing here.
    let expires_at =
        expires_at.ok_or_else(|| ApiError::invalid("an agent token needs an end: give --ttl"))?;
    let (kid, key) = state.keys.current(now).await?;
    let jti = TokenId::generate(now, &mut OsEntropy);
    let claims = Claims {
        iss: state.settings.mint.issuer.clone(),
        sub: agent.as_str().to_owned(),
        scope: scopes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
        exp: expires_at.timestamp(),
        iat: now.timestamp(),
        jti: jti.to_string(),
        aud: audience,
    };
    let record = MintedRecord {
        jti: jti.clone(),
        agent: agent.as_str().to_owned(),
        scopes: scopes.clone(),
        kid: kid.clone(),
        minted_by: caller.principal.id.clone(),
        issued_at: now,
        expires_at,
        revoked_at: None,
        parent_token_id: grant::parent(caller),
        issued_via: Some(caller.token_id.clone()),
    };
    let risk = state.settings.catalog.max_risk(&scopes);
    let event = state
        .audit
        .prepare(AuditEvent::new("mint").subject(agent.as_str()).token(&jti).scopes(&scopes).risk(risk));
    state.agents.insert_minted(&record, &[event]).await?;
    state.audit.committed();
    let token = signed::encode(&kid, &claims, &key);
    tracing::info!(token.id = %jti, agent = %agent, key.id = %kid, by.token = %caller.token_id, "agent token minted");
    Ok(MintedToken { jwt: token, record })
}

/// `GET /v1/mint`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    query: MintedQuery,
) -> ApiResult<AsOf<Vec<MintedRecord>>> {
    caller.require(SCOPE_MINT)?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let reach = MintedReach::of(caller);
    let now = state.now();
    let Some(filter) = reach.filter(query.agent.as_deref()) else {
        return Ok(AsOf { now, value: Vec::new() });
    };
    let found = state.agents.list_minted(filter.agent, filter.minted_by, limit).await?;
    Ok(AsOf { now, value: found })
}

/// `POST /v1/mint/revoke`: one token by `jti`, or every token of an agent
/// issued so far (tokens minted afterwards are not affected).
pub async fn revoke(state: &AppState, caller: &Caller, which: MintRevoke) -> ApiResult<u64> {
    caller.require(SCOPE_MINT)?;
    let now = state.now();
    let reach = MintedReach::of(caller);
    let revoked = match which {
        MintRevoke::Jti(id) => {
            let minted = reachable(state, &reach, &id).await?;
            let event = state.audit.prepare(AuditEvent::new("mint.revoke").subject(&minted.agent).token(&id));
            let revoked = state.agents.revoke_minted(&id, now, &[event]).await;
            // What it obtained was revoked with it: out of the verify cache.
            state.cache.evict_derived();
            if !revoked? {
                return Err(ApiError::Conflict(format!("minted token {id} is already revoked")));
            }
            state.audit.committed();
            1
        }
        MintRevoke::Agent(agent) => match reach.filter(Some(agent.as_str())) {
            Some(filter) => {
                let event = AuditEvent::new("mint.revoke").subject(agent.as_str()).decision("all revoked");
                let event = state.audit.prepare(event);
                let n = state.agents.revoke_agent(agent.as_str(), filter.minted_by, now, &[event]).await;
                state.cache.evict_derived();
                let n = n?;
                state.audit.committed();
                n
            }
            None => {
                state
                    .audit
                    .emit(AuditEvent::new("mint.revoke").subject(agent.as_str()).decision("0 revoked"));
                0
            }
        },
    };
    tracing::info!(tokens.revoked = revoked, by.token = %caller.token_id, "agent tokens revoked");
    Ok(revoked)
}

/// The minted token `id` if it is within `reach`; someone else's is not
/// found, exactly like a missing one.
async fn reachable(state: &AppState, reach: &MintedReach, id: &TokenId) -> ApiResult<MintedRecord> {
    state
        .agents
        .minted_by_jti(id)
        .await?
        .filter(|m| reach.covers(&m.minted_by, &m.agent))
        .ok_or(ApiError::NotFound("minted token"))
}

/// What [`revoke`] of `which` would reach, for the page that asks first:
/// the one token by `jti`, or the agent's tokens (at most 1000 listed),
/// under the same reach and the same 404.
pub async fn to_revoke(
    state: &AppState,
    caller: &Caller,
    which: &MintRevoke,
) -> ApiResult<AsOf<Vec<MintedRecord>>> {
    caller.require(SCOPE_MINT)?;
    let reach = MintedReach::of(caller);
    let now = state.now();
    let found = match which {
        MintRevoke::Jti(id) => vec![reachable(state, &reach, id).await?],
        MintRevoke::Agent(agent) => match reach.filter(Some(agent.as_str())) {
            Some(filter) => state.agents.list_minted(filter.agent, filter.minted_by, 1000).await?,
            None => Vec::new(),
        },
    };
    Ok(AsOf { now, value: found })
}

/// `GET /v1/keys`.
pub async fn keys(state: &AppState, caller: &Caller) -> ApiResult<Vec<KeyState>> {
    caller.require(SCOPE_MINT)?;
    key_states(state).await
}

/// Every signing key and what it does now.
async fn key_states(state: &AppState) -> ApiResult<Vec<KeyState>> {
    let keys = state.keys.keys().await?;
    let newest_active = keys.iter().rev().find(|k| k.retired_at.is_none()).map(|k| k.kid.clone());
    let keys = keys
        .into_iter()
        .map(|k| KeyState {
            status: if k.retired_at.is_some() {
                KeyStatus::Retired
            } else if Some(&k.kid) == newest_active.as_ref() {
                KeyStatus::Active
            } else {
                KeyStatus::Verifying
            },
            kid: k.kid,
            created_at: k.created_at,
            retired_at: k.retired_at,
        })
        .collect();
    Ok(keys)
}

/// `POST /v1/keys/rotate`: admins.
pub async fn rotate(state: &AppState, caller: &Caller) -> ApiResult<KeyState> {
    caller.require_admin("rotate signing keys")?;
    let event = |key: &ward_store::KeyRecord| {
        let event = AuditEvent::new("key.rotate").subject(&caller.principal.name).token(&caller.token_id);
        vec![state.audit.prepare(event.operation(&key.kid))]
    };
    let record = state.keys.rotate(state.now(), event).await?;
    state.audit.committed();
    Ok(KeyState {
        kid: record.kid,
        created_at: record.created_at,
        retired_at: None,
        status: KeyStatus::Active,
    })
}

/// The key retiring `kid` would retire, for the page that asks first:
/// admins, as [`retire`]; a retired key is a 409 here too.
pub async fn to_retire(state: &AppState, caller: &Caller, kid: &str) -> ApiResult<KeyState> {
    caller.require_admin("retire signing keys")?;
    let key = key_states(state).await?.into_iter().find(|k| k.kid == kid);
    let key = key.ok_or(ApiError::NotFound("signing key"))?;
    if key.retired_at.is_some() {
        return Err(ApiError::Conflict(format!("signing key {kid} is already retired")));
    }
    Ok(key)
}

/// `POST /v1/keys/{kid}/retire`: admins. Every token the key signed stops
/// verifying, and what those obtained is revoked.
pub async fn retire(state: &AppState, caller: &Caller, kid: &str) -> ApiResult<KeyState> {
    caller.require_admin("retire signing keys")?;
    let event = state.audit.prepare(
        AuditEvent::new("key.retire").subject(&caller.principal.name).token(&caller.token_id).operation(kid),
    );
    let retired = state.keys.retire(kid, state.now(), &[event]).await;
    // What its agent tokens obtained was revoked with them.
    state.cache.evict_derived();
    if !retired? {
        return Err(ApiError::Conflict(format!("signing key {kid} is already retired")));
    }
    state.audit.committed();
    let key = state.keys.find(kid).await?.ok_or(ApiError::NotFound("signing key"))?;
    Ok(KeyState {
        kid: key.kid,
        created_at: key.created_at,
        retired_at: key.retired_at,
        status: KeyStatus::Retired,
    })
}

/// `GET /.well-known/jwks.json`: every key that still verifies.
pub async fn jwks(state: &AppState) -> ApiResult<serde_json::Value> {
    let keys: Vec<serde_json::Value> = state
        .keys
        .keys()
        .await?
        .iter()
        .filter(|k| k.retired_at.is_none())
        .map(|k| signed::jwk(&k.kid, &k.public))
        .collect();
    Ok(serde_json::json!({ "keys": keys }))
}
