//! Reading the trail back: `GET /v1/audit` (search) and `GET
//! /v1/audit/verify` (check the chain). Both need `ward:audit`, and both
//! first flush this node's queued events, so a search made right after an
//! action sees it.

use super::mirror::record;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use std::str::FromStr;
use ward_api::{AuditBadEvent, AuditList, AuditQuery, AuditVerifyResponse};
use ward_core::audit::{Verdict, parse_time_bound};
use ward_core::policy::SCOPE_AUDIT;
use ward_core::{Caller, Risk};
use ward_store::{AuditFilter, MAX_AUDIT_LIMIT};

/// Events matching `query`, newest (or oldest) first, one page.
pub async fn search(state: &AppState, caller: &Caller, query: AuditQuery) -> ApiResult<AuditList> {
    caller.require(SCOPE_AUDIT)?;
    let filter = filter(&query, state.now())?;
    state.audit.flush().await;
    let events = state.audit.log().query_audit(&filter).await?;
    let full_page = events.len() == filter.limit as usize;
    let next_cursor = events.last().filter(|_| full_page).map(|e| e.seq.to_string());
    Ok(AuditList { events: events.iter().map(record).collect(), next_cursor })
}

/// Checks the whole chain and names the first bad event.
pub async fn verify(state: &AppState, caller: &Caller) -> ApiResult<AuditVerifyResponse> {
    caller.require(SCOPE_AUDIT)?;
    state.audit.flush().await;
    let verdict = ward_store::verify_chain(state.audit.log(), state.audit.chain_key()).await?;
    if let Some(bad) = &verdict.first_bad {
        tracing::warn!(audit.seq = bad.seq, audit.id = ?bad.id, audit.problem = %bad.problem,
            "the audit chain failed verification: {}", bad.detail);
    }
    Ok(verify_view(verdict))
}

/// The store's filter for a query: times parsed, risk checked, limit capped.
pub fn filter(query: &AuditQuery, now: chrono::DateTime<chrono::Utc>) -> ApiResult<AuditFilter> {
    let time = |text: &Option<String>| text.as_deref().map(|t| parse_time_bound(t, now)).transpose();
    let risk_level = query.risk.as_deref().map(|risk| Risk::from_str(risk.trim())).transpose();
    let risk_level = risk_level.map_err(ApiError::Unprocessable)?;
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_AUDIT_LIMIT {
        return Err(ApiError::Unprocessable(format!("limit must be between 1 and {MAX_AUDIT_LIMIT}")));
    }
    let oldest_first = match query.order.as_deref().map(str::trim) {
        None | Some("" | "newest") => false,
        Some("oldest") => true,
        Some(other) => {
            return Err(ApiError::Unprocessable(format!("order must be newest or oldest, not {other:?}")));
        }
    };
    let cursor = match query.cursor.as_deref() {
        Some(cursor) => Some(cursor.parse::<u64>().map_err(|_| {
            ApiError::Unprocessable("invalid cursor: pass the next_cursor of the previous page".into())
        })?),
        None => None,
    };
    let (before_seq, after_seq) = if oldest_first { (None, cursor) } else { (cursor, None) };
    let text =
        |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    Ok(AuditFilter {
        subject: text(&query.subject),
        token_id: text(&query.token_id),
        action: text(&query.action),
        decision: text(&query.decision),
        risk_level,
        since: time(&query.since).map_err(ApiError::invalid)?,
        until: time(&query.until).map_err(ApiError::invalid)?,
        before_seq,
        after_seq,
        oldest_first,
        limit,
    })
}

fn verify_view(verdict: Verdict) -> AuditVerifyResponse {
    AuditVerifyResponse {
        ok: verdict.ok(),
        checked: verdict.checked,
        unkeyed: verdict.unkeyed,
        first_bad: verdict.first_bad.map(|bad| AuditBadEvent {
            seq: bad.seq,
            id: bad.id,
            problem: bad.problem.as_str().to_owned(),
            detail: bad.detail,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_millis(1_750_000_000_000).unwrap_or_default()
    }

    #[test]
    fn a_query_becomes_a_filter_with_parsed_times_and_a_checked_risk() {
        let query = AuditQuery {
            subject: Some(" alice ".into()),
            risk: Some("critical".into()),
            since: Some("24h".into()),
            until: Some("2025-06-15T16:00:00Z".into()),
            cursor: Some("40".into()),
            ..AuditQuery::default()
        };
        let filter = filter(&query, now()).expect("valid");
        assert_eq!(filter.subject.as_deref(), Some("alice"));
        assert_eq!(filter.risk_level, Some(Risk::Critical));
        assert_eq!(filter.since, Some(now() - chrono::Duration::hours(24)));
        assert_eq!(filter.until.map(|t| t.timestamp()), Some(1_750_003_200));
        assert_eq!((filter.before_seq, filter.limit), (Some(40), 100));
    }

    #[test]
    fn bad_query_values_are_refused_with_what_to_send() {
        let bad = |query: AuditQuery| filter(&query, now()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(bad(AuditQuery { risk: Some("severe".into()), ..Default::default() }).contains("critical"));
        assert!(bad(AuditQuery { since: Some("yesterday".into()), ..Default::default() }).contains("24h"));
        assert!(bad(AuditQuery { limit: Some(0), ..Default::default() }).contains("between 1 and"));
        assert!(bad(AuditQuery { cursor: Some("x".into()), ..Default::default() }).contains("cursor"));
        assert!(bad(AuditQuery { order: Some("random".into()), ..Default::default() }).contains("oldest"));
    }
}
