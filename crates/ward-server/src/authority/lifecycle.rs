//! The token lifecycle policy (`[lifecycle]`, `docs/lifecycle.md`): how
//! long a new token may live, and the idle policy.
//!
//! Lifetimes: [`lifetime_end`] applies `ward_core::lifetime` to a creation
//! (token create, service-user create) and [`rotation_end`] to a rotation,
//! before `ward_core::grant::derive` bounds the result by the caller.
//!
//! Idle tokens: [`idle`] lists the active tokens unused for the threshold
//! (a dry run: nothing changes), [`revoke_idle`] revokes exactly those, one
//! `token.revoke` event each (decision `idle`), through the store's normal
//! revocation (cascade to what they obtained, eviction from every cache).
//! Login sessions are never idle tokens: they end by themselves.

use super::AsOf;
use super::input::IdleQuery;
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use ward_core::grant;
use ward_core::{Caller, Risk, TokenKind, Ttl};
use ward_store::{TokenFilter, TokenStatus, TokenWithOwner};

/// The end of a new token of `kind` whose scopes reach `risk`, when
/// `asked` is requested at `now`: the lifetime policy's answer (422 naming
/// the limit and the rule when refused). A default the policy fills in
/// never reaches past a non-session caller's own end.
pub fn lifetime_end(
    state: &AppState,
    caller: &Caller,
    kind: TokenKind,
    risk: Risk,
    asked: Option<Ttl>,
    now: DateTime<Utc>,
) -> ApiResult<Option<DateTime<Utc>>> {
    let decided = state
        .settings
        .lifecycle
        .lifetimes
        .decide(kind, risk, asked)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let end = decided.lifetime.map(|t| now + t.as_duration());
    Ok(match (asked, end, grant::ceiling(caller)) {
        (None, Some(end), Some(cap)) => Some(end.min(cap)),
        _ => end,
    })
}

/// A rotated token's successor end (`rotated`, from
/// `grant::rotated_expiry`), cut to the strictest applicable maximum. A
/// rotation names no lifetime, so it is capped rather than refused: a
/// token made before the policy tightened can still be rotated.
pub fn rotation_end(
    state: &AppState,
    kind: TokenKind,
    risk: Risk,
    rotated: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match state.settings.lifecycle.lifetimes.max(kind, risk) {
        Some((max, _)) => {
            let cap = now + max.as_duration();
            Some(rotated.map_or(cap, |at| at.min(cap)))
        }
        None => rotated,
    }
}

/// Idle tokens found or revoked at one moment.
#[derive(Debug)]
pub struct IdleReport {
    pub unused_for: Ttl,
    pub unused_since: DateTime<Utc>,
    pub applied: bool,
    pub tokens: Vec<TokenWithOwner>,
}

/// The threshold asked for, else the configured one (422 when neither).
fn threshold(state: &AppState, query: &IdleQuery) -> ApiResult<Ttl> {
    query.unused_for.or(state.settings.lifecycle.revoke_unused_after).ok_or_else(|| {
        ApiError::invalid(
            "no idle threshold: give unused_for (e.g. --unused-for 90d) or set lifecycle.revoke_unused_after in the server config",
        )
    })
}

/// Every active token (of every user), login sessions aside, unused since
/// `since`: pending uses are written first, so a token used a moment ago
/// on this node is not idle.
async fn find_idle(
    state: &AppState,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<TokenWithOwner>> {
    state.usage.flush().await;
    let mut out = Vec::new();
    let mut filter = TokenFilter {
        status: Some(TokenStatus::Active),
        unused_since: Some(since),
        ..TokenFilter::all(now, 1000)
    };
    loop {
        let page = state.store.list_tokens(&filter).await?;
        let full = page.len() == filter.limit as usize;
        filter.before = page.last().map(|t| t.token.id.clone());
        out.extend(page.into_iter().filter(|t| t.token.kind != TokenKind::Login));
        if !full {
            return Ok(out);
        }
    }
}

/// `GET /v1/idle-tokens` (admins): the dry run.
pub async fn idle(state: &AppState, caller: &Caller, query: IdleQuery) -> ApiResult<AsOf<IdleReport>> {
    caller.require_admin("list idle tokens")?;
    let unused_for = threshold(state, &query)?;
    let now = state.now();
    let unused_since = now - unused_for.as_duration();
    let tokens = find_idle(state, unused_since, now).await?;
    Ok(AsOf { now, value: IdleReport { unused_for, unused_since, applied: false, tokens } })
}

/// `POST /v1/idle-tokens/revoke` (admins): revokes the idle tokens.
pub async fn revoke_idle(state: &AppState, caller: &Caller, query: IdleQuery) -> ApiResult<AsOf<IdleReport>> {
    caller.require_admin("revoke idle tokens")?;
    let unused_for = threshold(state, &query)?;
    let report = sweep_idle(state, unused_for).await?;
    tracing::info!(tokens.revoked = report.value.tokens.len(), by.token = %caller.token_id, "idle tokens revoked");
    Ok(report)
}

/// Revokes every token idle for `unused_for` now: what `revoke_idle` and
/// the background sweep (`crate::lifecycle`) run. Returns the tokens this
/// call revoked, as they now stand (one revoked meanwhile by someone else
/// is left out).
pub async fn sweep_idle(state: &AppState, unused_for: Ttl) -> ApiResult<AsOf<IdleReport>> {
    let now = state.now();
    let unused_since = now - unused_for.as_duration();
    let mut revoked = Vec::new();
    for found in find_idle(state, unused_since, now).await? {
        let t = &found.token;
        let last =
            t.last_used_at.map_or("never used".to_owned(), |at| format!("last used {}", at.to_rfc3339()));
        let event = state.audit.prepare(
            AuditEvent::new("token.revoke")
                .subject(&found.owner.name)
                .token(&t.id)
                .scopes(&t.scopes)
                .decision(format!("idle: unused for {unused_for} ({last})")),
        );
        if state.store.revoke_token(&t.id, now, &[event]).await? {
            state.audit.committed();
            tracing::info!(token.id = %t.id, "idle token revoked");
            if let Some(after) = state.store.token_by_id(&t.id).await? {
                revoked.push(after);
            }
        }
    }
    Ok(AsOf { now, value: IdleReport { unused_for, unused_since, applied: true, tokens: revoked } })
}
