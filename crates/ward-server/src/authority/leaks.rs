//! `POST /v1/leaks`: tokens found where they should not be (`ward scan
//! --revoke`), ended by whoever found them.
//!
//! Who may call it: anyone who holds the token, as RFC 7009 revocation
//! (`authority::oauth::revoke`) — possession of a token is the authority to
//! end it, and whoever finds a leaked token in a public repository should
//! not need an account to stop its use. What keeps it from being an oracle
//! or a lever: each reported token counts against the client address's
//! `[leaks] per_minute` (`crate::rate`) before anything is looked up (a
//! report that runs out answers 429, the tokens before it having been
//! handled; sending them again is harmless); a token that is unknown or
//! malformed is answered `unknown` and changes nothing; a found token can
//! only be ended, never extended or read. See docs/security.md.
//!
//! A found token is ended through the normal revocation path
//! (`Store::revoke_token`: what it obtained is revoked with it, the verify
//! cache evicts it here and other nodes by NOTIFY), with the audit event
//! `token.leaked` — where it was found in its `decision` — committed in the
//! same transaction. The owner is told through `[leaks] webhook_url`, or
//! when that is unset `[lifecycle.notices] webhook_url`
//! (`crate::leaks::notify`). Checking it is not a use: a token out of uses
//! or over its rate is still ended.

use super::check::{Check, look_up};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::leaks::{LeakNotice, notify};
use crate::state::AppState;
use std::net::IpAddr;
use ward_api::{Leak, LeakOutcome, MAX_LEAKS};
use ward_core::{PlainToken, TokenKind};

/// What became of one reported token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// The display start, for a well-formed token.
    pub display: Option<String>,
    pub outcome: LeakOutcome,
}

/// Handles a report, in order; see the module doc.
pub async fn report(state: &AppState, client: Option<IpAddr>, leaks: &[Leak]) -> ApiResult<Vec<Reported>> {
    if leaks.is_empty() || leaks.len() > MAX_LEAKS {
        return Err(ApiError::invalid(format!("report 1 to {MAX_LEAKS} tokens at a time")));
    }
    let mut out = Vec::with_capacity(leaks.len());
    for leak in leaks {
        state
            .leak_limit
            .check(client)
            .map_err(|wait| ApiError::RateLimited { retry_after: wait.as_secs().max(1) })?;
        out.push(one(state, &leak.token, leak.location.as_deref()).await?);
    }
    Ok(out)
}

async fn one(state: &AppState, presented: &str, location: Option<&str>) -> ApiResult<Reported> {
    let display = PlainToken::parse(presented).ok().map(|t| t.display_start());
    let place = location.unwrap_or("an unnamed place");
    let verdict = look_up(state, presented).await?;
    let (found, ended_before) = match verdict {
        Check::Valid { found, .. } | Check::Exhausted(found) => (found, false),
        Check::Expired(found) | Check::Revoked(found) => (found, true),
        Check::Malformed | Check::NotFound => {
            state.audit.emit(AuditEvent::new("token.leaked").decision(format!("unknown; found in {place}")));
            return Ok(Reported { display, outcome: LeakOutcome::Unknown });
        }
    };
    let now = state.now();
    let event = |outcome: &str| {
        AuditEvent::new("token.leaked")
            .subject(&found.subject)
            .token(&found.token_id)
            .decision(format!("{outcome}; found in {place}"))
    };
    let revoked = if ended_before {
        false
    } else if found.kind == TokenKind::Agent {
        let prepared = state.audit.prepare(event("revoked"));
        let revoked = state.agents.revoke_minted(&found.token_id, now, &[prepared]).await;
        state.cache.evict_derived();
        revoked?
    } else {
        state.store.revoke_token(&found.token_id, now, &[state.audit.prepare(event("revoked"))]).await?
    };
    let outcome = if revoked {
        state.audit.committed();
        tracing::warn!(token.id = %found.token_id, "leaked token revoked");
        LeakOutcome::Revoked
    } else {
        state.audit.emit(event("already_ended"));
        LeakOutcome::AlreadyEnded
    };
    // The owner's webhook: `[leaks] webhook_url`, else the expiry notices'
    // (`[lifecycle.notices] webhook_url`); see docs/lifecycle.md.
    let url = state.settings.leaks.webhook_url.as_deref().or(state
        .settings
        .lifecycle
        .notices
        .webhook_url
        .as_deref());
    notify(
        url,
        state.settings.leaks.webhook_timeout,
        LeakNotice {
            event: "token.leaked",
            token_id: found.token_id.to_string(),
            owner: found.subject.clone(),
            display: display.clone().unwrap_or_default(),
            token_type: found.kind.to_string(),
            location: location.map(str::to_owned),
            outcome: if revoked { "revoked" } else { "already_ended" },
            reported_at: now,
        },
    );
    Ok(Reported { display, outcome })
}
