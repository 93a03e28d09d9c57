//! Expiry notices: a webhook call (and a `token.expiry_notice` audit
//! event) at each configured point before a token ends, once per token per
//! point, across restarts and nodes.
//!
//! [`sweep`] asks the store for the notices due now
//! (`ward_core::notice`), claims each in the database
//! (`ward_store::NoticeStore`: only one claimant wins, on any node), posts
//! it, and marks it sent with its audit event in one transaction. A failed
//! post hands the claim back with a backoff (`ward_core::notice::retry_delay`);
//! a later sweep retries until the token ends. The payload names the token
//! (id, name, type, owner, end) and never carries the token or its hash.

use crate::audit::AuditEvent;
use crate::entropy::OsEntropy;
use crate::error::ApiResult;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use ward_core::Entropy;
use ward_core::notice::{point_text, retry_delay};
use ward_store::{NoticeClaim, TokenWithOwner};

/// How many due notices one sweep takes per point.
const BATCH: u32 = 500;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub sent: usize,
    pub failed: usize,
}

/// A random name for this sweep's claims.
fn claimant() -> String {
    let mut bytes = [0u8; 8];
    OsEntropy.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends every notice due now that no node has sent or holds.
pub async fn sweep(state: &AppState) -> ApiResult<Swept> {
    let settings = &state.settings.lifecycle.notices;
    let Some(url) = settings.webhook_url.as_deref() else { return Ok(Swept::default()) };
    let node = claimant();
    let now = state.now();
    let lease =
        Duration::from_std(settings.webhook_timeout).unwrap_or(Duration::seconds(5)) + Duration::seconds(30);
    let mut swept = Swept::default();
    for window in settings.points.windows() {
        for found in state.notices.due_notices(window, now, BATCH).await? {
            let (t, point) = (&found.token, window.point);
            let Some(end) = t.expires_at else { continue };
            if settings.points.due(t.created_at, end, now) != Some(point) {
                continue;
            }
            let claim = NoticeClaim { token_id: &t.id, point, node: &node, now, lease_until: now + lease };
            let Some(attempt) = state.notices.claim_notice(claim).await? else { continue };
            match post(state, url, &found, point, now).await {
                Ok(()) => {
                    let event = state.audit.prepare(
                        AuditEvent::new("token.expiry_notice")
                            .subject(&found.owner.name)
                            .token(&t.id)
                            .decision(format!(
                                "notice {} before expiry (ends {})",
                                point_text(point),
                                end.to_rfc3339()
                            )),
                    );
                    if state.notices.notice_sent(&t.id, point, &node, state.now(), &[event]).await? {
                        state.audit.committed();
                        swept.sent += 1;
                        tracing::info!(token.id = %t.id, notice.before = %point_text(point), "expiry notice sent");
                    }
                }
                Err(why) => {
                    let retry_at = state.now() + retry_delay(attempt);
                    state.notices.notice_failed(&t.id, point, &node, retry_at).await?;
                    swept.failed += 1;
                    tracing::warn!(token.id = %t.id, notice.attempt = attempt, notice.retry_at = %retry_at.to_rfc3339(), error = %why, "expiry notice not delivered; will retry");
                }
            }
        }
    }
    Ok(swept)
}

/// The webhook body: the token named, never the token.
fn payload(found: &TokenWithOwner, point: Duration, now: DateTime<Utc>) -> serde_json::Value {
    let t = &found.token;
    serde_json::json!({
        "event": "token.expiry_notice",
        "token": {
            "id": t.id.as_str(),
            "name": t.name.as_str(),
            "type": t.kind.as_str(),
            "owner": found.owner.name.as_str(),
            "owner_id": found.owner.id.as_str(),
            "expires_at": t.expires_at,
        },
        "notice_before": point_text(point),
        "expires_in_seconds": t.expires_at.map(|end| (end - now).num_seconds().max(0)),
        "sent_at": now,
    })
}

/// POSTs one notice; any 2xx is delivered. No redirects (their target
/// never passed the plain-http rule) and no proxy for plain http.
async fn post(
    state: &AppState,
    url: &str,
    found: &TokenWithOwner,
    point: Duration,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let mut builder = reqwest::Client::builder()
        .timeout(state.settings.lifecycle.notices.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none());
    if url.starts_with("http://") {
        builder = builder.no_proxy();
    }
    let client = builder.build().map_err(|e| format!("webhook client: {e}"))?;
    match client.post(url).json(&payload(found, point, now)).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("webhook answered HTTP {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Err("webhook timed out".into()),
        Err(_) => Err("webhook unreachable".into()),
    }
}
