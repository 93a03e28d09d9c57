//! Domain records rendered as the API's JSON bodies, in one place.
//!
//! Authority functions return records (`TokenWithOwner`, `UserRecord`,
//! `MintedRecord`, …), with the moment they were read at where a status
//! depends on it ([`AsOf`]); handlers render them here. A token string
//! appears in exactly three bodies, each built from the one value that
//! holds it: [`created`] (and so [`rotated`] and [`service_user_created`]),
//! [`login`] and [`minted`].

use crate::authority::authorize::Authorized;
use crate::authority::check::Check;
use crate::authority::forensics::Detailed;
use crate::authority::leaks::Reported;
use crate::authority::lifecycle::IdleReport;
use crate::authority::mint::{KeyState, MintedToken};
use crate::authority::oauth::Introspected;
use crate::authority::tokens::{RotatedToken, TokenPage};
use crate::authority::{AsOf, Issued, permissions};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use ward_api::{
    Approval, ApprovalList, AuthorizeResponse, ClientInfo, CreatedServiceUser, CreatedToken, IdleTokens,
    Introspection, LeakResult, LeakResults, LoginResponse, LogoutResponse, Minted, MintedInfo, MintedList,
    Rotated, ServiceUser, ServiceUserList, SigningKeyInfo, SigningKeyList, TokenInfo, TokenList, User,
    UserList, UserRole, VerifyResponse, WhoAmI,
};
use ward_core::{ApprovalStatus, Caller, PrincipalKind, ScopeSet, TokenStatus};
use ward_store::{ApprovalRecord, MintedRecord, TokenWithOwner, UserKind, UserRecord};

fn scope_names(scopes: &ScopeSet) -> Vec<String> {
    scopes.iter().map(ToString::to_string).collect()
}

// Tokens ---------------------------------------------------------------------

/// The one response that shows an opaque token.
pub fn created(issued: &Issued) -> CreatedToken {
    let record = &issued.record;
    CreatedToken {
        id: record.id.to_string(),
        token: issued.plain.expose().to_owned(),
        name: record.name.to_string(),
        token_type: record.kind,
        prefix: record.display.clone(),
        scopes: scope_names(&record.scopes),
        user_id: record.user_id.to_string(),
        created_at: record.created_at,
        expires_at: record.expires_at,
    }
}

/// A token's metadata at `now`, with pending usage folded in.
pub fn token(state: &AppState, now: DateTime<Utc>, t: &TokenWithOwner) -> TokenInfo {
    let token = &t.token;
    TokenInfo {
        id: token.id.to_string(),
        name: token.name.to_string(),
        token_type: token.kind,
        prefix: token.display.clone(),
        scopes: scope_names(&token.scopes),
        user_id: token.user_id.to_string(),
        username: t.owner.name.to_string(),
        created_at: token.created_at,
        last_used_at: state.usage.last_used(&token.id, token.last_used_at),
        status: token.status(now),
        expires_at: token.expires_at,
        revoked_at: token.revoked_at,
        rotated_from: token.rotated_from.as_ref().map(ToString::to_string),
        expires_in_seconds: match (token.status(now), token.expires_at) {
            (TokenStatus::Active, Some(end)) => Some((end - now).num_seconds().max(0)),
            _ => None,
        },
        max_uses: token.limits.max_uses,
        uses_left: token.limits.uses_left,
        rate: token.limits.rate.map(|r| r.to_string()),
        recent_clients: None,
    }
}

/// One token's page: its metadata and the clients it was used from.
pub fn token_detailed(state: &AppState, found: &AsOf<Detailed>) -> TokenInfo {
    let clients = found.value.clients.iter().map(|c| ClientInfo {
        address: c.address.clone(),
        user_agent: c.user_agent.clone(),
        last_seen: c.last_seen,
    });
    TokenInfo { recent_clients: Some(clients.collect()), ..token(state, found.now, &found.value.token) }
}

/// What became of each reported leaked token.
pub fn leak_results(reported: &[Reported]) -> LeakResults {
    LeakResults {
        results: reported
            .iter()
            .map(|r| LeakResult { display: r.display.clone(), outcome: r.outcome })
            .collect(),
    }
}

/// One token as it stood when it was read.
pub fn token_as_of(state: &AppState, found: &AsOf<TokenWithOwner>) -> TokenInfo {
    token(state, found.now, &found.value)
}

/// A page of tokens and where the next one starts.
pub fn token_page(state: &AppState, page: &AsOf<TokenPage>) -> TokenList {
    TokenList {
        tokens: page.value.tokens.iter().map(|t| token(state, page.now, t)).collect(),
        next_cursor: page.value.next_cursor.as_ref().map(ToString::to_string),
    }
}

/// Every token of a listing, on one page.
pub fn token_list(state: &AppState, found: &AsOf<Vec<TokenWithOwner>>) -> TokenList {
    TokenList { tokens: found.value.iter().map(|t| token(state, found.now, t)).collect(), next_cursor: None }
}

/// Idle tokens, found (a dry run) or revoked.
pub fn idle_tokens(state: &AppState, report: &AsOf<IdleReport>) -> IdleTokens {
    let r = &report.value;
    IdleTokens {
        unused_for: r.unused_for.to_string(),
        unused_since: r.unused_since,
        applied: r.applied,
        tokens: r.tokens.iter().map(|t| token(state, report.now, t)).collect(),
    }
}

/// A rotation: the successor, shown once, and the old token as it now stands.
pub fn rotated(state: &AppState, rotated: &AsOf<RotatedToken>) -> Rotated {
    Rotated {
        token: created(&rotated.value.successor),
        previous: token(state, rotated.now, &rotated.value.previous),
    }
}

// Users and sessions ---------------------------------------------------------

/// A user as the API shows it, with what it may grant now.
pub fn user(state: &AppState, user: &UserRecord) -> User {
    let role = match &user.kind {
        UserKind::Human { role, .. } => UserRole::Human(*role),
        UserKind::Service { .. } => UserRole::Service,
    };
    User {
        id: user.id.to_string(),
        name: user.name.to_string(),
        role,
        scopes: scope_names(&permissions(state, user)),
        created_at: user.created_at,
    }
}

pub fn users(state: &AppState, found: &[UserRecord]) -> UserList {
    UserList { users: found.iter().map(|u| user(state, u)).collect() }
}

/// A new service user and its first key, shown once.
pub fn service_user_created(state: &AppState, new: &(UserRecord, Issued)) -> CreatedServiceUser {
    CreatedServiceUser { user: user(state, &new.0), key: created(&new.1) }
}

/// Service users, each with its active keys.
pub fn service_users(
    state: &AppState,
    found: &AsOf<Vec<(UserRecord, Vec<TokenWithOwner>)>>,
) -> ServiceUserList {
    let service_users = found
        .value
        .iter()
        .map(|(u, keys)| ServiceUser {
            user: user(state, u),
            keys: keys.iter().map(|k| token(state, found.now, k)).collect(),
        })
        .collect();
    ServiceUserList { service_users }
}

/// A new login session, shown once.
pub fn login(user: &UserRecord, session: &Issued) -> LoginResponse {
    LoginResponse {
        token: session.plain.expose().to_owned(),
        token_id: session.record.id.to_string(),
        user_id: user.id.to_string(),
        username: user.name.to_string(),
        expires_at: session.record.expires_at.unwrap_or(session.record.created_at),
    }
}

pub fn logout(caller: &Caller, revoked: bool) -> LogoutResponse {
    LogoutResponse { revoked, token_id: caller.token_id.to_string() }
}

/// The caller, and when its credential ends.
pub fn whoami(caller: &Caller, expires_at: Option<DateTime<Utc>>) -> WhoAmI {
    let role = match &caller.principal.kind {
        PrincipalKind::Human(role) => UserRole::Human(*role),
        PrincipalKind::Service(_) => UserRole::Service,
        PrincipalKind::Agent { .. } => UserRole::Agent,
    };
    WhoAmI {
        user_id: caller.principal.id.to_string(),
        username: caller.principal.name.clone(),
        role,
        token_id: caller.token_id.to_string(),
        token_type: caller.token_kind,
        scopes: scope_names(&caller.scopes),
        expires_at,
    }
}

/// The verdict on a presented token (always HTTP 200).
pub fn verify(verdict: &Check) -> VerifyResponse {
    let found = verdict.found();
    VerifyResponse {
        valid: matches!(verdict, Check::Valid { .. }),
        code: verdict.code().to_owned(),
        token_id: found.map(|f| f.token_id.to_string()),
        token_type: found.map(|f| f.kind),
        user: found.map(|f| f.subject.clone()),
        scopes: scope_names(&verdict.scopes()),
        expires_at: found.and_then(|f| f.expires_at),
    }
}

// Agents ---------------------------------------------------------------------

/// The one response that shows a signed agent token.
pub fn minted(m: &MintedToken) -> Minted {
    let r = &m.record;
    Minted {
        token: m.jwt.clone(),
        jti: r.jti.to_string(),
        agent: r.agent.clone(),
        kid: r.kid.clone(),
        scopes: scope_names(&r.scopes),
        issued_at: r.issued_at,
        expires_at: r.expires_at,
    }
}

/// A minted token's metadata at `now`; revoked beats expired.
pub fn minted_info(now: DateTime<Utc>, m: &MintedRecord) -> MintedInfo {
    let status = if m.revoked_at.is_some() {
        TokenStatus::Revoked
    } else if m.expires_at <= now {
        TokenStatus::Expired
    } else {
        TokenStatus::Active
    };
    MintedInfo {
        jti: m.jti.to_string(),
        agent: m.agent.clone(),
        kid: m.kid.clone(),
        scopes: scope_names(&m.scopes),
        minted_by: m.minted_by.to_string(),
        issued_at: m.issued_at,
        expires_at: m.expires_at,
        revoked_at: m.revoked_at,
        status,
    }
}

pub fn minted_list(found: &AsOf<Vec<MintedRecord>>) -> MintedList {
    MintedList { tokens: found.value.iter().map(|m| minted_info(found.now, m)).collect() }
}

pub fn key(k: KeyState) -> SigningKeyInfo {
    SigningKeyInfo { kid: k.kid, created_at: k.created_at, retired_at: k.retired_at, status: k.status }
}

pub fn keys(found: Vec<KeyState>) -> SigningKeyList {
    SigningKeyList { keys: found.into_iter().map(key).collect() }
}

/// An approval at `now`: a pending or approved one past its end shows as
/// `expired` (the store does not keep that status).
pub fn approval(now: DateTime<Utc>, a: &ApprovalRecord) -> Approval {
    let expired =
        matches!(a.status, ApprovalStatus::Pending | ApprovalStatus::Approved) && a.expires_at <= now;
    Approval {
        id: a.id.clone(),
        token_id: a.token_id.clone(),
        subject: a.subject.clone(),
        operation: a.operation.clone(),
        risk: a.risk,
        status: if expired { ApprovalStatus::Expired } else { a.status },
        created_at: a.created_at,
        expires_at: a.expires_at,
        decided_by: a.decided_by.clone(),
        decided_at: a.decided_at,
        reason: a.reason.clone(),
    }
}

pub fn approval_as_of(found: &AsOf<ApprovalRecord>) -> Approval {
    approval(found.now, &found.value)
}

pub fn approvals(found: &AsOf<Vec<ApprovalRecord>>) -> ApprovalList {
    ApprovalList { approvals: found.value.iter().map(|a| approval(found.now, a)).collect() }
}

pub fn authorized(a: Authorized) -> AuthorizeResponse {
    AuthorizeResponse {
        decision: a.decision.as_str().to_owned(),
        reason: a.decision.reason().to_owned(),
        risk: a.operation.risk,
        operation: a.operation.name,
        subject: a.subject.principal.name,
        token_id: a.subject.token_id.to_string(),
        approval_id: a.approval_id,
    }
}

// OAuth ----------------------------------------------------------------------

/// RFC 7662's answer for what introspection found.
pub fn introspection(state: &AppState, found: Introspected) -> Introspection {
    let Some((found, caller)) = found.active else {
        return Introspection::default();
    };
    let scope = scope_names(&caller.scopes).join(" ");
    let (client_id, username) = match caller.principal.kind {
        PrincipalKind::Service(_) => (Some(found.subject.clone()), None),
        PrincipalKind::Human(_) => (None, Some(found.subject.clone())),
        PrincipalKind::Agent { .. } => (None, None),
    };
    Introspection {
        active: true,
        scope: Some(scope),
        client_id,
        username,
        token_type: Some("Bearer".to_owned()),
        exp: found.expires_at.map(|t| t.timestamp()),
        iat: Some(found.issued_at.timestamp()),
        sub: Some(found.subject),
        aud: found.audience,
        iss: state.settings.issuer.as_ref().map(|i| i.as_str().to_owned()),
        jti: Some(found.token_id.to_string()),
        ward_token_type: Some(found.kind.as_str().to_owned()),
    }
}
