//! `POST /v1/authorize`: may this token run this operation now?
//!
//! The checked token is the bearer's own, or — for a resource server
//! holding `ward:introspect` — the one in the body. A bad checked token is a
//! 401, a missing scope a 403 naming it; otherwise the answer is `allow`,
//! `deny` or `approval_required` with the reason (see
//! `ward_core::operation::decide`).
//!
//! Every decision is audited. One that involves no approval — an allow of
//! an operation that needs none (or was auto-approved), a refusal for a
//! missing scope — is a use of the token and is counted like `token.use`
//! (`crate::audit::uses`: one event per token, operation, decision and
//! client per flush interval, with its `count`), so a proxy asking
//! `/v1/forward-auth` on every request writes no row per request. A decision
//! that opens, spends or refuses an approval is written on its own.

use super::approvals;
use super::check::{Check, check};
use super::input::Authorize;
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use ward_core::operation::{ApprovalRule, Decision, Operation, decide};
use ward_core::policy::SCOPE_INTROSPECT;
use ward_core::{Caller, Denied};

/// The answer: what was decided, for which operation and token, and the
/// approval it opened or spent.
#[derive(Debug)]
pub struct Authorized {
    pub decision: Decision,
    pub operation: Operation,
    pub subject: Caller,
    pub approval_id: Option<String>,
}

pub async fn authorize(state: &AppState, bearer: Caller, req: Authorize) -> ApiResult<Authorized> {
    let subject = match req.token.as_deref() {
        None => bearer,
        Some(token) => {
            bearer.require(SCOPE_INTROSPECT)?;
            match check(state, token).await? {
                Check::Valid { caller, .. } => caller,
                refused => return Err(ApiError::InvalidToken(refused.refusal())),
            }
        }
    };
    let op = &req.operation;
    let event = AuditEvent::new("authorize")
        .subject(&subject.principal.name)
        .token(&subject.token_id)
        .scopes(&subject.scopes)
        .operation(&op.name)
        .risk(op.risk);

    if let Err(missing) = decide(op, &subject.scopes, req.auto_approve, None) {
        state.audit.emit_use(event.decision("deny").error(missing.to_string()));
        return Err(Denied::MissingScope(missing.missing.join(" ")).into());
    }
    let approval_state = match (op.approval, req.approval_id.as_deref()) {
        (ApprovalRule::Human, Some(id)) => Some(approvals::spend(state, id, &subject, &op.name).await?),
        _ => None,
    };
    let mut approval_id = req.approval_id.clone().filter(|_| op.approval == ApprovalRule::Human);
    let mut decision = decide(op, &subject.scopes, req.auto_approve, approval_state)
        .map_err(|m| ApiError::from(Denied::MissingScope(m.missing.join(" "))))?;
    if let Decision::NeedsApproval(reason) = &decision {
        let (id, verdict) = approvals::request(state, &subject, op, reason).await?;
        approval_id = id;
        decision = verdict;
    }
    let event = event.decision(decision.as_str());
    match &decision {
        Decision::Allow(_) if approval_state.is_none() => state.audit.emit_use(event),
        Decision::Deny(reason) => state.audit.emit(event.error(reason.clone())),
        _ => state.audit.emit(event),
    }
    Ok(Authorized { decision, operation: req.operation, subject, approval_id })
}
