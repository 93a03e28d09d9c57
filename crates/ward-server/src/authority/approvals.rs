//! Approvals for `human` operations: requested by `/v1/authorize`, decided
//! by another admin in a login session (four eyes: see
//! `ward_core::agent_rules::may_decide`) or by the configured webhook,
//! spent once by the request they allow, and void after `approval.ttl`.

use super::AsOf;
use super::input::Decide;
use crate::audit::AuditEvent;
use crate::entropy::OsEntropy;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde::Deserialize;
use ward_api::ApprovalQuery;
use ward_core::agent_rules::{Requester, may_decide};
use ward_core::id::ApprovalId;
use ward_core::operation::{ApprovalState, Decision, Operation};
use ward_core::{Caller, Denied, PrincipalKind, TokenId, UserId};
use ward_store::{ApprovalRecord, ApprovalStatus, Opened, UserKind};

/// How many requests one token may have waiting for a decision at once,
/// for different operations (asking again for the same one returns the
/// request already waiting). Past it, a new request is a deny: a runaway
/// agent cannot flood the admins' queue.
pub const MAX_PENDING_PER_TOKEN: u32 = 16;

/// How far up a chain of service users creating service users, or of
/// credentials made with credentials, the four-eyes rule looks for the
/// decider.
const MAX_CREATOR_CHAIN: usize = 8;

/// The user behind a caller: the owner, or the minter of an agent token.
fn requester(caller: &Caller) -> UserId {
    match &caller.principal.kind {
        PrincipalKind::Agent { minted_by } => minted_by.clone(),
        _ => caller.principal.id.clone(),
    }
}

/// What an `approval_id` sent with a request is worth; an approved one is
/// spent here, atomically, so it allows exactly one request.
pub async fn spend(
    state: &AppState,
    id: &str,
    subject: &Caller,
    operation: &str,
) -> ApiResult<ApprovalState> {
    let Some(found) = state.agents.approval_by_id(id).await? else {
        return Ok(ApprovalState::Unusable);
    };
    let now = state.now();
    if found.token_id != subject.token_id.as_str() || found.operation != operation {
        return Ok(ApprovalState::Unusable);
    }
    Ok(match found.status {
        ApprovalStatus::Pending if found.expires_at <= now => ApprovalState::Expired,
        ApprovalStatus::Pending => ApprovalState::Pending,
        ApprovalStatus::Denied => ApprovalState::Denied,
        ApprovalStatus::Used => ApprovalState::Unusable,
        // Shown, never stored.
        ApprovalStatus::Expired => ApprovalState::Expired,
        ApprovalStatus::Approved if found.expires_at <= now => ApprovalState::Expired,
        ApprovalStatus::Approved => {
            let event = state.audit.prepare(use_event(&found));
            if state.agents.consume_approval(id, subject.token_id.as_str(), operation, now, &[event]).await? {
                state.audit.committed();
                ApprovalState::Granted
            } else {
                ApprovalState::Unusable
            }
        }
    })
}

/// Opens an approval for `op`, or finds the one this token already waits
/// on for it. Without a webhook the answer is `approval_required` with its
/// id; with one, the webhook decides a new request now (a failure or
/// timeout is a deny). A token waiting on [`MAX_PENDING_PER_TOKEN`]
/// requests is denied another (no id).
pub async fn request(
    state: &AppState,
    subject: &Caller,
    op: &Operation,
    reason: &str,
) -> ApiResult<(Option<String>, Decision)> {
    let now = state.now();
    let record = ApprovalRecord {
        id: ApprovalId::generate(now, &mut OsEntropy).to_string(),
        token_id: subject.token_id.to_string(),
        subject: subject.principal.name.clone(),
        requested_by: Some(requester(subject)),
        operation: op.name.clone(),
        risk: op.risk,
        status: ApprovalStatus::Pending,
        created_at: now,
        expires_at: now + state.settings.approval.ttl.as_duration(),
        decided_by: None,
        decided_at: None,
        reason: None,
    };
    let event = state.audit.prepare(
        AuditEvent::new("approval.request")
            .subject(&record.subject)
            .token(&record.token_id)
            .operation(&op.name)
            .risk(op.risk)
            .decision("pending"),
    );
    let (record, opened) = match state.agents.open_approval(&record, MAX_PENDING_PER_TOKEN, &[event]).await? {
        Opened::New => {
            state.audit.committed();
            (record, true)
        }
        // A retry (a proxy asking again, a client polling): the same
        // request, not another one for an admin to wade through.
        Opened::Waiting(pending) => (*pending, false),
        Opened::Full(pending) => {
            return Ok((
                None,
                Decision::Deny(format!(
                    "this token already waits on {pending} approval requests for other operations; \
                     ask an admin to decide them (`ward approvals list`) or wait until they expire"
                )),
            ));
        }
    };
    // The webhook is asked once, by the request that opened the approval.
    let Some(url) = state.settings.approval.webhook_url.clone().filter(|_| opened) else {
        return Ok((
            Some(record.id.clone()),
            Decision::ApprovalRequired(format!(
                "{reason}: ask an admin to run `ward approvals approve {}`",
                record.id
            )),
        ));
    };
    let (approve, why) = ask_webhook(state, &url, &record, subject).await;
    let event = state.audit.prepare(decision_event(&record, approve, "webhook", Some(&why)));
    state.agents.decide_approval(&record.id, approve, "webhook", Some(&why), state.now(), &[event]).await?;
    state.audit.committed();
    let event = state.audit.prepare(use_event(&record));
    if approve
        && state
            .agents
            .consume_approval(&record.id, &record.token_id, &op.name, state.now(), &[event])
            .await?
    {
        state.audit.committed();
        return Ok((
            Some(record.id),
            Decision::Allow(format!("{} was approved by the webhook: {why}", op.name)),
        ));
    }
    Ok((Some(record.id), Decision::Deny(format!("the approval webhook denied {}: {why}", op.name))))
}

#[derive(Deserialize)]
struct WebhookAnswer {
    decision: Option<String>,
    approved: Option<bool>,
    reason: Option<String>,
}

/// POSTs the request to the webhook. `(approved, reason)`; anything but a
/// clear 2xx approval is a deny.
async fn ask_webhook(
    state: &AppState,
    url: &str,
    record: &ApprovalRecord,
    subject: &Caller,
) -> (bool, String) {
    let body = serde_json::json!({
        "approval_id": record.id,
        "operation": record.operation,
        "risk": record.risk.as_str(),
        "subject": record.subject,
        "token_id": record.token_id,
        "scopes": subject.scopes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "requested_at": record.created_at,
        "expires_at": record.expires_at,
    });
    // No redirect (its target was never checked by the plain-http rule) and
    // no proxy for plain http (it would read or forge the decision).
    let mut builder = reqwest::Client::builder()
        .timeout(state.settings.approval.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none());
    if url.starts_with("http://") {
        builder = builder.no_proxy();
    }
    let client = builder.build();
    let sent = match client {
        Ok(c) => c.post(url).json(&body).send().await,
        Err(e) => return (false, format!("webhook client: {e}")),
    };
    let response = match sent {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => return (false, format!("webhook answered HTTP {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => return (false, "webhook timed out".into()),
        Err(_) => return (false, "webhook unreachable".into()),
    };
    match response.json::<WebhookAnswer>().await {
        Ok(answer) => {
            let yes = answer.approved == Some(true) || answer.decision.as_deref() == Some("approve");
            (yes, answer.reason.unwrap_or_else(|| if yes { "approved".into() } else { "denied".into() }))
        }
        Err(_) => (false, "webhook answer was not {\"decision\":\"approve\"|\"deny\"}".into()),
    }
}

/// The event of spending approval `a` (committed with it).
fn use_event(a: &ApprovalRecord) -> AuditEvent {
    AuditEvent::new("approval.use")
        .subject(&a.subject)
        .token(&a.token_id)
        .operation(&a.operation)
        .risk(a.risk)
        .decision(format!("used {}", a.id))
}

/// The event of deciding `a`, built before the decision is stored (and
/// committed with it).
fn decision_event(a: &ApprovalRecord, approve: bool, by: &str, reason: Option<&str>) -> AuditEvent {
    let status = if approve { ApprovalStatus::Approved } else { ApprovalStatus::Denied };
    let action = if approve { "approval.approve" } else { "approval.deny" };
    let event = AuditEvent::new(action)
        .subject(&a.subject)
        .token(&a.token_id)
        .operation(&a.operation)
        .risk(a.risk)
        .decision(status.as_str());
    match reason {
        Some(r) => event.error(format!("decided by {by}: {r}")),
        None => event.error(format!("decided by {by}")),
    }
}

/// `GET /v1/approvals` (admins).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    query: ApprovalQuery,
) -> ApiResult<AsOf<Vec<ApprovalRecord>>> {
    caller.require_admin("list approvals")?;
    if let Some(s) = query.status.filter(|s| !ApprovalStatus::LISTABLE.contains(s)) {
        return Err(ApiError::invalid(format!(
            "approvals cannot be listed by status {s}: use pending, approved, denied or used"
        )));
    }
    let found = state.agents.list_approvals(query.status, 500).await?;
    Ok(AsOf { now: state.now(), value: found })
}

/// A pending request as the queue shows it to one admin: who stands
/// behind it, and whether this admin may decide it (the four-eyes rule,
/// [`may_decide`], the same check [`decide`] makes) or why not.
#[derive(Debug)]
pub struct Pending {
    pub record: ApprovalRecord,
    /// The name of the user behind the request (its owner, or the minter
    /// of the agent that asked), if that user still exists.
    pub behind: Option<String>,
    pub may_decide: Result<(), Denied>,
}

/// The approvals page (admins): the pending requests not yet expired,
/// each with the caller's four-eyes answer.
pub async fn pending(state: &AppState, caller: &Caller) -> ApiResult<AsOf<Vec<Pending>>> {
    let found = list(state, caller, ApprovalQuery { status: Some(ApprovalStatus::Pending) }).await?;
    let now = found.now;
    let mut rows = Vec::with_capacity(found.value.len());
    for record in found.value.into_iter().filter(|a| a.expires_at > now) {
        let may = may_decide(caller, &requester_of(state, &record).await?);
        let behind = match &record.requested_by {
            Some(id) => state.store.user_by_id(id).await?.map(|u| u.name.to_string()),
            None => None,
        };
        rows.push(Pending { record, behind, may_decide: may });
    }
    Ok(AsOf { now, value: rows })
}

/// Who stands behind `found`: the requesting user, whether an agent asked,
/// and, for a service user, the chain of users that created it.
async fn requester_of(state: &AppState, found: &ApprovalRecord) -> ApiResult<Requester> {
    let via_agent = match TokenId::parse(&found.token_id) {
        Ok(jti) => state.agents.minted_by_jti(&jti).await?.is_some(),
        Err(_) => false,
    };
    let mut creators: Vec<UserId> = Vec::new();
    let mut next = found.requested_by.clone();
    while let Some(user_id) = next.take() {
        if creators.len() >= MAX_CREATOR_CHAIN {
            break;
        }
        let Some(user) = state.store.user_by_id(&user_id).await? else { break };
        if !matches!(user.kind, UserKind::Service { .. }) {
            break;
        }
        if let Some(creator) = user.created_by {
            creators.push(creator.clone());
            next = Some(creator);
        }
    }
    let issuers = issuers_of(state, &found.token_id).await?;
    Ok(Requester { user: found.requested_by.clone(), via_agent, creators, issuers })
}

/// Who issued the credential `id` names, and each credential it came
/// from: up its parent line, and back through the tokens it succeeded by
/// rotation (a successor takes its predecessor's place, so whoever issued
/// the predecessor stands behind it too). At most [`MAX_CREATOR_CHAIN`]
/// credentials each way are read.
async fn issuers_of(state: &AppState, id: &str) -> ApiResult<Vec<UserId>> {
    let mut issuers = Vec::new();
    let mut queue: std::collections::VecDeque<TokenId> = TokenId::parse(id).ok().into_iter().collect();
    let mut read = 0;
    while let Some(id) = queue.pop_front() {
        read += 1;
        if read > 2 * MAX_CREATOR_CHAIN {
            break;
        }
        if let Some(found) = state.store.token_by_id(&id).await? {
            issuers.extend(found.token.issued_by);
            queue.extend(found.token.parent_token_id);
            queue.extend(found.token.rotated_from);
        } else if let Some(minted) = state.agents.minted_by_jti(&id).await? {
            issuers.push(minted.minted_by);
            queue.extend(minted.parent_token_id);
        }
    }
    Ok(issuers)
}

/// `POST /v1/approvals/{id}/approve|deny`: another admin, in a login
/// session, who neither asked, nor minted the asking agent, nor created the
/// asking service user.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    decide: Decide,
) -> ApiResult<AsOf<ApprovalRecord>> {
    let Decide { approve, reason } = decide;
    let reason = reason.as_deref();
    caller.require_admin("decide approvals")?;
    let found = state.agents.approval_by_id(id).await?.ok_or(ApiError::NotFound("approval"))?;
    may_decide(caller, &requester_of(state, &found).await?)?;
    let event = state.audit.prepare(decision_event(&found, approve, &caller.principal.name, reason));
    let decided = state
        .agents
        .decide_approval(id, approve, &caller.principal.name, reason, state.now(), &[event])
        .await?;
    state.audit.committed();
    Ok(AsOf { now: state.now(), value: decided })
}
