//! The rules of authority as the model states them (COMMON.md's API
//! contract): for a resolved step and the window of the server's clock,
//! which answers are right and what a success must do. Pure.
//!
//! Checks the contract orders (authentication, then the scopes or admin
//! rights a route needs, then lookups) are applied in order; checks it does
//! not order are collected, and any of their statuses is accepted.

use crate::model::{
    ADMIN, APP_READ, APP_WRITE, ApprovalState, End, Expiry, INTROSPECT, Kind, MINT, Model, Role,
    SESSION_HOURS, TOKENS, Window,
};
use crate::ops::Step;
use crate::verdict::{Effect, Group, NewCred, Verdict, no};
use chrono::Duration;

/// The expiry of a credential derived by `by` that asked for `asked`, or
/// `None` when it would outlive a non-session caller.
fn derived_expiry(m: &Model, by: usize, asked: Option<Duration>, w: Window, g: &mut Group) -> Expiry {
    let caller = &m.creds[by];
    if caller.kind == Kind::Login {
        return asked.map_or(Expiry::Never, Expiry::FromNow);
    }
    match (asked, caller.expires) {
        (None, None) => Expiry::Never,
        (None, Some(e)) => Expiry::Exact(e),
        (Some(d), e) => {
            g.tri(m.outlives(d, e, w), 403);
            Expiry::FromNow(d)
        }
    }
}

/// The expiry of a successor: `min(now + old lifetime, caller's end)`.
fn rotated_expiry(m: &Model, by: usize, old: usize) -> Expiry {
    let o = &m.creds[old];
    let lifetime = o.expires.map(|e| e - o.created);
    let caller = &m.creds[by];
    match (lifetime, caller.kind == Kind::Login, caller.expires) {
        (None, true, _) | (None, false, None) => Expiry::Never,
        (None, false, Some(e)) => Expiry::Exact(e),
        (Some(l), true, _) | (Some(l), false, None) => Expiry::FromNow(l),
        (Some(l), false, Some(e)) => Expiry::MinOf(l, e),
    }
}

/// Rotating `target` on behalf of `by`, after the route's own checks.
fn rotation(m: &Model, by: usize, target: usize, grace: bool) -> Verdict {
    let t = &m.creds[target];
    let mut g = Group::default();
    g.check(t.kind == Kind::Login, 422);
    g.check(t.end != End::Live, 409);
    // A successor whose record was deleted no longer supersedes it.
    g.check(t.successor.is_some_and(|s| m.creds[s].end != End::Deleted), 409);
    g.check(m.eff(target) & !m.eff(by) != 0, 403);
    let new = NewCred {
        kind: t.kind,
        owner: t.owner,
        agent: None,
        scopes: t.scopes,
        alt_scopes: Some(m.eff(target)),
        expiry: rotated_expiry(m, by, target),
        // A token that rotates itself hands its place to the successor.
        parent: if by == target { t.parent } else { Some(by) },
        new_user: None,
    };
    g.then(Effect::Rotate { old: target, new, grace })
}

/// May `by` manage the token `target`? `ward:tokens` first (403); then a
/// deleted token, or another user's for a non-admin, is 404 alike, so the
/// answer never tells a non-admin that someone else's id exists.
fn manage(m: &Model, by: usize, target: usize) -> Option<Verdict> {
    if !m.has(by, TOKENS) {
        return Some(no(403));
    }
    if m.creds[target].end == End::Deleted || (m.creds[target].owner != m.creds[by].owner && !m.is_admin(by))
    {
        return Some(no(404));
    }
    None
}

/// `/v1/users/{id}/tokens` and `…/revoke-tokens`: a non-admin naming
/// someone else gets 403 before any lookup; an admin may learn that a user
/// is gone before its scopes count.
pub fn users_tokens(m: &Model, by: usize, user: usize) -> Group {
    let mut g = Group::default();
    if user != m.creds[by].owner && !m.is_admin(by) {
        g.check(true, 403);
        return g;
    }
    g.check(!m.has(by, TOKENS), 403);
    g.check(m.users[user].deleted, 404);
    g
}

/// The model's answer to `step`, with the server's clock in `w`.
pub fn expect(m: &Model, step: &Step, w: Window) -> Verdict {
    let by = match *step {
        // The dashboard's session cookie has its own answer (a redirect).
        Step::Login { .. }
        | Step::UseApproval { .. }
        | Step::Ui { .. }
        | Step::OAuthRevoke { .. }
        | Step::ReportLeak { .. } => None,
        Step::Create { by, .. }
        | Step::Rotate { by, .. }
        | Step::Revoke { by, .. }
        | Step::Delete { by, .. }
        | Step::Mint { by, .. }
        | Step::MintRevokeJti { by, .. }
        | Step::MintRevokeAgent { by, .. }
        | Step::SvcCreate { by, .. }
        | Step::SvcRotate { by, .. }
        | Step::SvcDelete { by, .. }
        | Step::UserRevokeTokens { by, .. }
        | Step::UserDelete { by, .. }
        | Step::Authorize { by }
        | Step::Decide { by, .. }
        | Step::PasswordChange { by }
        | Step::PasswordReset { by, .. }
        | Step::Verify { by, .. }
        | Step::ListUserTokens { by, .. }
        | Step::ListTokens { by }
        | Step::ListMinted { by }
        | Step::IdleList { by }
        | Step::IdleRevoke { by }
        | Step::Whoami { by }
        | Step::Logout { by }
        | Step::KeyRotate { by }
        | Step::KeyRetire { by, .. }
        | Step::ForwardAuth { by }
        | Step::Introspect { by, .. }
        | Step::Identify { by, .. }
        | Step::Subscribe { by } => Some(by),
    };
    if let Some(by) = by
        && !m.valid(by)
    {
        return no(401);
    }
    let me = |by: usize| m.creds[by].owner;
    match *step {
        Step::Login { user } => Verdict {
            ok: Some(Effect::New(NewCred {
                kind: Kind::Login,
                owner: user,
                agent: None,
                scopes: m.perms(user),
                alt_scopes: None,
                expiry: Expiry::FromNow(Duration::hours(SESSION_HOURS)),
                parent: None,
                new_user: None,
            })),
            refuse: vec![],
        },
        Step::Create { by, kind, scopes, ttl, for_user } => {
            if !m.has(by, TOKENS) {
                return no(403);
            }
            let owner = for_user.unwrap_or(me(by));
            if owner != me(by) && !m.is_admin(by) {
                return no(403);
            }
            if m.users[owner].deleted {
                return no(404);
            }
            let wanted = match scopes {
                Some(s) => s,
                None if kind == Kind::Personal => m.perms(owner) & m.eff(by),
                None => 0,
            };
            let mut g = Group::default();
            g.check(wanted & !m.perms(owner) != 0, 403);
            g.check(wanted & !m.eff(by) != 0, 403);
            let expiry = derived_expiry(m, by, ttl.map(|t| t.duration()), w, &mut g);
            g.then(Effect::New(NewCred {
                kind,
                owner,
                agent: None,
                scopes: wanted,
                alt_scopes: None,
                expiry,
                parent: Some(by),
                new_user: None,
            }))
        }
        Step::Rotate { by, target, grace } => {
            if let Some(v) = manage(m, by, target) {
                return v;
            }
            rotation(m, by, target, grace)
        }
        Step::Revoke { by, target } => {
            if let Some(v) = manage(m, by, target) {
                return v;
            }
            if m.creds[target].end == End::Revoked {
                return no(409);
            }
            Verdict { ok: Some(Effect::End(vec![target])), refuse: vec![] }
        }
        Step::Delete { by, target } => {
            if !m.is_admin(by) {
                return no(403);
            }
            if m.creds[target].end == End::Deleted {
                return no(404);
            }
            Verdict { ok: Some(Effect::Delete(target)), refuse: vec![] }
        }
        Step::Mint { by, agent, scopes, ttl } => {
            if !m.has(by, MINT) {
                return no(403);
            }
            let mut g = Group::default();
            let caller = &m.creds[by];
            g.check(caller.kind == Kind::Agent && caller.agent.as_deref() != Some(agent), 403);
            g.check(scopes & !m.eff(by) != 0, 403);
            let expiry = derived_expiry(m, by, Some(ttl.duration()), w, &mut g);
            g.then(Effect::New(NewCred {
                kind: Kind::Agent,
                owner: me(by),
                agent: Some(agent.to_owned()),
                scopes,
                alt_scopes: None,
                expiry,
                parent: Some(by),
                new_user: None,
            }))
        }
        Step::MintRevokeJti { by, target } => {
            if !m.has(by, MINT) {
                return no(403);
            }
            let t = &m.creds[target];
            let caller = &m.creds[by];
            let visible = m.is_admin(by)
                || (t.owner == caller.owner && (caller.kind != Kind::Agent || t.agent == caller.agent));
            if !visible {
                return no(404);
            }
            if t.end != End::Live {
                return no(409);
            }
            Verdict { ok: Some(Effect::End(vec![target])), refuse: vec![] }
        }
        Step::MintRevokeAgent { by, agent } => {
            if !m.has(by, MINT) {
                return no(403);
            }
            let caller = &m.creds[by];
            let admin = m.is_admin(by);
            let other_agent = caller.kind == Kind::Agent && caller.agent.as_deref() != Some(agent);
            let ended: Vec<usize> = (0..m.creds.len())
                .filter(|&c| {
                    let t = &m.creds[c];
                    t.agent.as_deref() == Some(agent)
                        && t.end == End::Live
                        && (admin || (t.owner == caller.owner && !other_agent))
                })
                .collect();
            let refuse = if other_agent && !admin { vec![403] } else { vec![] };
            Verdict { ok: Some(Effect::End(ended)), refuse }
        }
        Step::SvcCreate { by, scopes, days } => {
            if !m.is_admin(by) {
                return no(403);
            }
            let mut g = Group::default();
            g.check(scopes & !m.eff(by) != 0, 403);
            let asked = days.map(|d| Duration::days(i64::from(d)));
            let expiry = derived_expiry(m, by, asked, w, &mut g);
            g.then(Effect::New(NewCred {
                kind: Kind::Service,
                owner: m.users.len(),
                agent: None,
                scopes,
                alt_scopes: None,
                expiry,
                parent: Some(by),
                new_user: Some(Role::Service { scopes, created_by: Some(me(by)) }),
            }))
        }
        Step::SvcRotate { by, svc, grace } => {
            if !m.is_admin(by) {
                return no(403);
            }
            if m.users[svc].deleted {
                return no(404);
            }
            match m.newest_key(svc) {
                None => no(409),
                Some(key) => rotation(m, by, key, grace),
            }
        }
        Step::SvcDelete { by, svc } | Step::UserDelete { by, user: svc } => {
            if !m.is_admin(by) {
                return no(403);
            }
            if m.users[svc].deleted {
                return no(404);
            }
            if svc == me(by) {
                return no(409);
            }
            Verdict { ok: Some(Effect::EndUser { user: svc, delete: true }), refuse: vec![] }
        }
        Step::UserRevokeTokens { by, user } => {
            users_tokens(m, by, user).then(Effect::EndUser { user, delete: false })
        }
        Step::ListUserTokens { by, user } => users_tokens(m, by, user).then(Effect::Nothing),
        Step::ListTokens { by } => {
            if !m.has(by, TOKENS) {
                return no(403);
            }
            let own = (0..m.creds.len())
                .filter(|&c| {
                    let t = &m.creds[c];
                    t.owner == me(by) && t.kind != Kind::Agent && t.end != End::Deleted
                })
                .collect();
            Verdict { ok: Some(Effect::Listed(own)), refuse: vec![] }
        }
        Step::ListMinted { by } => {
            if !m.has(by, MINT) {
                return no(403);
            }
            let caller = &m.creds[by];
            let seen = (0..m.creds.len())
                .filter(|&c| {
                    let t = &m.creds[c];
                    t.kind == Kind::Agent
                        && (m.is_admin(by)
                            || (t.owner == caller.owner
                                && (caller.kind != Kind::Agent || t.agent == caller.agent)))
                })
                .collect();
            Verdict { ok: Some(Effect::Listed(seen)), refuse: vec![] }
        }
        Step::Whoami { by } => Verdict { ok: Some(Effect::Described(by)), refuse: vec![] },
        Step::Logout { by } => Verdict { ok: Some(Effect::End(vec![by])), refuse: vec![] },
        // Admins only; nothing in a case has been unused for ten years.
        Step::IdleList { by } | Step::IdleRevoke { by } => {
            if !m.is_admin(by) {
                return no(403);
            }
            Verdict { ok: Some(Effect::Listed(vec![])), refuse: vec![] }
        }
        Step::KeyRotate { by } => {
            if !m.is_admin(by) {
                return no(403);
            }
            Verdict { ok: Some(Effect::NewKey), refuse: vec![] }
        }
        Step::Ui { by, page, user } => crate::ui::expect(m, by, page, user),
        Step::KeyRetire { by, key } => {
            if !m.is_admin(by) {
                return no(403);
            }
            if m.keys[key].1 {
                return no(409);
            }
            Verdict { ok: Some(Effect::RetireKey(key)), refuse: vec![] }
        }
        Step::Authorize { by } => {
            if !m.has(by, APP_WRITE) {
                return no(403);
            }
            Verdict { ok: Some(Effect::Request { cred: by }), refuse: vec![] }
        }
        Step::Decide { by, approval, approve } => {
            if !m.has(by, ADMIN) {
                return no(403);
            }
            let a = &m.approvals[approval];
            let mut g = Group::default();
            g.check(m.creds[by].kind != Kind::Login, 403);
            g.check(a.requester == me(by), 403);
            g.check(a.svc_creator == Some(me(by)), 403);
            g.check(issuers(m, a.cred).contains(&me(by)), 403);
            g.check(a.state != ApprovalState::Pending, 409);
            g.then(Effect::Decide { approval, approve })
        }
        Step::UseApproval { approval } => {
            let cred = m.approvals[approval].cred;
            if !m.valid(cred) {
                return no(401);
            }
            if !m.has(cred, APP_WRITE) {
                return no(403);
            }
            let decision = match m.approvals[approval].state {
                ApprovalState::Pending => "approval_required",
                ApprovalState::Approved => "allow",
                ApprovalState::Denied | ApprovalState::Used => "deny",
            };
            Verdict { ok: Some(Effect::Use { approval, decision }), refuse: vec![] }
        }
        Step::PasswordChange { by } => {
            if m.creds[by].kind != Kind::Login {
                return no(403);
            }
            Verdict { ok: Some(Effect::Password { user: me(by), keep: Some(by) }), refuse: vec![] }
        }
        Step::PasswordReset { by, user } => {
            // A password opens unbounded sessions: only an admin's login
            // session may set someone's.
            if !m.is_admin(by) || m.creds[by].kind != Kind::Login {
                return no(403);
            }
            if m.users[user].deleted {
                return no(404);
            }
            Verdict { ok: Some(Effect::Password { user, keep: None }), refuse: vec![] }
        }
        Step::Verify { by, target } => {
            if !m.has(by, INTROSPECT) {
                return no(403);
            }
            Verdict { ok: Some(Effect::Verified { target, valid: m.valid(target) }), refuse: vec![] }
        }
        // Forward auth: the decision of authorize, 2xx only on allow.
        Step::ForwardAuth { by } => {
            if !m.has(by, APP_READ) {
                return no(403);
            }
            Verdict { ok: Some(Effect::Nothing), refuse: vec![] }
        }
        // The stream tells what verify would: introspect holders only.
        Step::Subscribe { by } => {
            if !m.has(by, INTROSPECT) {
                return no(403);
            }
            Verdict { ok: Some(Effect::Nothing), refuse: vec![] }
        }
        Step::Introspect { by, target } => {
            if !m.has(by, INTROSPECT) {
                return no(403);
            }
            Verdict { ok: Some(Effect::Introspected { target, active: m.valid(target) }), refuse: vec![] }
        }
        // Possession is enough; a token that is not valid is left as it is.
        Step::OAuthRevoke { target } | Step::ReportLeak { target } => {
            let ends = if m.valid(target) { vec![target] } else { vec![] };
            Verdict { ok: Some(Effect::End(ends)), refuse: vec![] }
        }
        // `ward:tokens` first; an agent token (a JWT) is no opaque token
        // (422); then the owner's or an admin's, like a token's page.
        Step::Identify { by, target } => {
            if !m.has(by, TOKENS) {
                return no(403);
            }
            if m.creds[target].kind == Kind::Agent {
                return no(422);
            }
            if let Some(v) = manage(m, by, target) {
                return v;
            }
            Verdict { ok: Some(Effect::Nothing), refuse: vec![] }
        }
    }
}

/// Who issued `cred` and every credential it came from — up its parent line
/// (a login session issues, but came from nothing) and back through the
/// tokens it succeeded by rotation: the users four eyes refuses as deciders.
fn issuers(m: &Model, cred: usize) -> Vec<usize> {
    let (mut out, mut seen, mut queue) = (Vec::new(), vec![cred], vec![cred]);
    while let Some(c) = queue.pop() {
        let came_from = m.creds[c]
            .parent
            .into_iter()
            .chain((0..m.creds.len()).filter(|&x| m.creds[x].successor == Some(c)));
        if let Some(p) = m.creds[c].parent {
            out.push(m.creds[p].owner);
        }
        for x in came_from {
            if !seen.contains(&x) {
                seen.push(x);
                queue.push(x);
            }
        }
    }
    out
}
