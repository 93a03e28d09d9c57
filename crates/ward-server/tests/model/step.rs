//! One case against one server: resolve an op, send it, hold the answer to
//! the model's ([`crate::rules::expect`]), apply a success to the model with
//! the values the server chose (ids, tokens, its clock), then check the
//! invariants. A mismatch panics with the whole trace of the case.

use crate::driver::{self, Reply, Server};
use crate::model::{Approval, ApprovalState, Cred, End, Kind, Model, Role, User, Window, mask, names};
use crate::ops::{Op, Step};
use crate::rules::expect;
use crate::template::{Routes, Template};
use crate::verdict::{Effect, NewCred, Verdict};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// The system under test of one case, with its model.
pub struct Case {
    pub server: Server,
    pub model: Model,
    pub observer: String,
    password_routes: Routes,
    /// What happened so far, in words.
    pub trace: Vec<String>,
    last: DateTime<Utc>,
}

/// The status of a success for each step (`None`: any 2xx).
fn ok_status(step: &Step) -> Option<u16> {
    Some(match step {
        Step::Login { .. }
        | Step::Revoke { .. }
        | Step::MintRevokeJti { .. }
        | Step::MintRevokeAgent { .. }
        | Step::SvcDelete { .. }
        | Step::UserRevokeTokens { .. }
        | Step::UserDelete { .. }
        | Step::Authorize { .. }
        | Step::Decide { .. }
        | Step::UseApproval { .. }
        | Step::Verify { .. }
        | Step::ListUserTokens { .. }
        | Step::ListTokens { .. }
        | Step::ListMinted { .. }
        | Step::IdleList { .. }
        | Step::IdleRevoke { .. }
        | Step::Whoami { .. }
        | Step::Logout { .. }
        | Step::KeyRetire { .. }
        | Step::ForwardAuth { .. }
        | Step::Introspect { .. }
        | Step::OAuthRevoke { .. }
        | Step::ReportLeak { .. }
        | Step::Identify { .. }
        | Step::Subscribe { .. } => 200,
        Step::Ui { .. } => 200,
        Step::KeyRotate { .. } => 201,
        Step::Create { .. } | Step::Rotate { .. } | Step::Mint { .. } | Step::SvcCreate { .. } => 201,
        Step::SvcRotate { .. } => 201,
        Step::Delete { .. } => 204,
        Step::PasswordChange { .. } | Step::PasswordReset { .. } => return None,
    })
}

/// `MODEL_SKIP=NoStore` looks past missing `Cache-Control: no-store`.
pub fn skip_no_store() -> bool {
    std::env::var("MODEL_SKIP").is_ok_and(|s| s.split(',').any(|p| p.trim() == "NoStore"))
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    serde_json::from_value(v.clone()).ok()
}

impl Case {
    pub async fn start(template: &Template) -> Self {
        let (server, model) = template.instance().await;
        let server_now = server.now();
        let mut case = Self {
            server,
            model,
            observer: template.observer.clone(),
            password_routes: template.password_routes,
            trace: Vec::new(),
            last: server_now,
        };
        case.check_invariants().await;
        case
    }

    /// Fails the case with its trace.
    pub fn fail(&self, what: &str) -> ! {
        let mut text = String::from("model test failed after these steps:\n");
        for (i, t) in self.trace.iter().enumerate() {
            text.push_str(&format!("  {}. {t}\n", i + 1));
        }
        text.push_str(&format!("then: {what}"));
        panic!("{text}");
    }

    pub async fn apply(&mut self, op: &Op) {
        let Some(step) = self.model.resolve(op, self.password_routes) else {
            return;
        };
        let n = self.trace.len() + 1;
        // Each step reads a later millisecond than the last, so that a
        // token created earlier is strictly older: the clock is moved, not
        // waited for.
        let now = self.server.now();
        if now <= self.last {
            self.server.advance((self.last - now + Duration::milliseconds(1)).to_std().unwrap_or_default());
        }
        let lo = self.server.now();
        let reply = driver::run(&self.server, &self.model, &step, n).await;
        let hi = self.server.now();
        self.last = hi;
        let verdict = expect(&self.model, &step, Window { lo, hi });
        let desc = self.model.describe(&step);
        let status = reply.status.as_u16();
        let success = reply.status.is_success();
        let right = match (&verdict.ok, success) {
            (Some(_), true) => ok_status(&step).is_none_or(|s| s == status),
            _ => verdict.refuse.contains(&status),
        };
        if !right {
            self.fail(&format!(
                "{desc}\n  expected {}\n  got {status} {}",
                want(&verdict, &step),
                redacted(&reply.body)
            ));
        }
        if !reply.no_store && !skip_no_store() {
            self.fail(&format!("{desc}: answered {status} without Cache-Control: no-store"));
        }
        self.trace.push(format!("{desc} -> {status}"));
        if success && let Some(effect) = verdict.ok {
            self.commit(effect, &reply, Window { lo, hi }, n, &desc);
        }
        self.check_invariants().await;
    }

    fn commit(&mut self, effect: Effect, reply: &Reply, w: Window, n: usize, desc: &str) {
        let body = &reply.body;
        match effect {
            Effect::New(nc) => {
                let new = if nc.kind == Kind::Login {
                    let expires = time(&body["expires_at"]);
                    let now = expires.map(|e| e - Duration::hours(crate::model::SESSION_HOURS));
                    self.issued(
                        &nc,
                        now,
                        expires,
                        body["token"].clone(),
                        body["token_id"].clone(),
                        None,
                        w,
                        desc,
                    )
                } else if nc.kind == Kind::Agent {
                    let now = time(&body["issued_at"]);
                    let scopes = body["scopes"].clone();
                    let (t, id) = (body["token"].clone(), body["jti"].clone());
                    let mut agent =
                        self.issued(&nc, now, time(&body["expires_at"]), t, id, Some(scopes), w, desc);
                    agent.kid = body["kid"].as_str().map(str::to_owned);
                    if self.model.retired(agent.kid.as_deref()) {
                        self.fail(&format!("{desc}: signed with retired key {:?}", agent.kid));
                    }
                    if let Some(kid) = &agent.kid {
                        self.model.saw_key(kid);
                    }
                    agent
                } else {
                    let key = if nc.new_user.is_some() { &body["key"] } else { body };
                    let now = time(&key["created_at"]);
                    let (t, id, sc) = (key["token"].clone(), key["id"].clone(), key["scopes"].clone());
                    self.issued(&nc, now, time(&key["expires_at"]), t, id, Some(sc), w, desc)
                };
                if let Some(role) = nc.new_user {
                    let id = body["user"]["id"].as_str().unwrap_or_default().to_owned();
                    self.model.users.push(User {
                        name: format!("svc-{n}"),
                        id,
                        role,
                        deleted: false,
                        password: String::new(),
                    });
                }
                self.model.creds.push(new);
            }
            Effect::Rotate { old, new: nc, grace } => {
                let now = time(&body["created_at"]);
                let (t, id, sc) = (body["token"].clone(), body["id"].clone(), body["scopes"].clone());
                let new = self.issued(&nc, now, time(&body["expires_at"]), t, id, Some(sc), w, desc);
                let idx = self.model.creds.len();
                self.model.creds.push(new);
                let now = now.unwrap_or(w.lo);
                let o = &mut self.model.creds[old];
                o.successor = Some(idx);
                if grace {
                    let ends =
                        o.expires.map_or(now + Duration::hours(1), |e| e.min(now + Duration::hours(1)));
                    o.expires = Some(ends);
                    self.model.cascade_cut(old, ends);
                    if time(&body["previous"]["expires_at"]) != Some(ends) {
                        self.fail(&format!(
                            "{desc}: the old token should end {ends} (grace 1h), got {}",
                            body["previous"]
                        ));
                    }
                } else {
                    o.end = End::Revoked;
                    self.model.cascade_end(old);
                }
            }
            Effect::End(list) => {
                if let Some(count) = body.get("revoked").and_then(Value::as_u64)
                    && count != list.len() as u64
                {
                    let which: Vec<String> = list.iter().map(|&c| self.model.label(c)).collect();
                    self.fail(&format!(
                        "{desc}: expected {} revoked {which:?}, server says {count}",
                        list.len()
                    ));
                }
                for c in list {
                    self.model.creds[c].end = End::Revoked;
                    self.model.cascade_end(c);
                }
            }
            Effect::Delete(c) => {
                self.model.creds[c].end = End::Deleted;
                self.model.cascade_end(c);
            }
            Effect::EndUser { user, delete } => self.model.end_user(user, delete),
            Effect::Request { cred } => {
                if body["decision"] != "approval_required" || !body["approval_id"].is_string() {
                    self.fail(&format!("{desc}: expected approval_required with an id, got {body}"));
                }
                let requester = self.model.creds[cred].owner;
                let svc_creator = match self.model.users[requester].role {
                    Role::Service { created_by, .. } => created_by,
                    _ => None,
                };
                self.model.approvals.push(Approval {
                    id: body["approval_id"].as_str().unwrap_or_default().to_owned(),
                    cred,
                    requester,
                    svc_creator,
                    state: ApprovalState::Pending,
                });
            }
            Effect::Decide { approval, approve } => {
                self.model.approvals[approval].state =
                    if approve { ApprovalState::Approved } else { ApprovalState::Denied };
            }
            Effect::Use { approval, decision } => {
                if body["decision"] != decision {
                    self.fail(&format!("{desc}: expected decision {decision}, got {body}"));
                }
                if decision == "allow" {
                    self.model.approvals[approval].state = ApprovalState::Used;
                }
            }
            Effect::Nothing => {}
            Effect::NewKey => match body["kid"].as_str() {
                Some(kid) => self.model.saw_key(kid),
                None => self.fail(&format!("{desc}: no kid in {body}")),
            },
            Effect::RetireKey(key) => {
                self.model.keys[key].1 = true;
                let kid = self.model.keys[key].0.clone();
                let signed: Vec<usize> = (0..self.model.creds.len())
                    .filter(|&c| self.model.creds[c].kid.as_deref() == Some(kid.as_str()))
                    .collect();
                for c in signed {
                    self.model.cascade_end(c);
                }
            }
            Effect::Listed(want) => self.listed(&want, body, desc),
            Effect::Described(c) => self.described(c, body, desc),
            Effect::Introspected { target, active } => {
                let right = if active {
                    body["active"] == Value::Bool(true) && body["jti"] == self.model.creds[target].id.as_str()
                } else {
                    *body == serde_json::json!({"active": false})
                };
                if !right {
                    let label = self.model.label(target);
                    self.fail(&format!("{desc}: expected active={active} for {label}, got {body}"));
                }
            }
            Effect::Verified { target, valid } => {
                if body["valid"] != Value::Bool(valid) {
                    let label = self.model.label(target);
                    self.fail(&format!("{desc}: expected valid={valid} for {label}, got {body}"));
                }
            }
            Effect::Password { user, keep } => {
                for c in 0..self.model.creds.len() {
                    let cred = &mut self.model.creds[c];
                    if cred.owner == user
                        && cred.kind == Kind::Login
                        && Some(c) != keep
                        && cred.end == End::Live
                    {
                        cred.end = End::Revoked;
                    }
                }
                self.model.users[user].password = driver::new_password(n);
            }
        }
    }

    /// A listing (`{"tokens":[{"id"|"jti"}]}`) must name exactly `want`.
    fn listed(&self, want: &[usize], body: &Value, desc: &str) {
        let mut got: Vec<String> = body["tokens"]
            .as_array()
            .map(|a| {
                a.iter().filter_map(|t| t["id"].as_str().or(t["jti"].as_str()).map(str::to_owned)).collect()
            })
            .unwrap_or_default();
        let mut expected: Vec<String> = want.iter().map(|&c| self.model.creds[c].id.clone()).collect();
        got.sort();
        expected.sort();
        if got != expected {
            let labels: Vec<String> = want.iter().map(|&c| self.model.label(c)).collect();
            self.fail(&format!("{desc}: expected exactly {labels:?} {expected:?}, listed {got:?}"));
        }
    }

    /// `whoami` must show the calling credential's effective scopes and end.
    fn described(&self, c: usize, body: &Value, desc: &str) {
        let cred = &self.model.creds[c];
        let scopes: Vec<String> = serde_json::from_value(body["scopes"].clone()).unwrap_or_default();
        let same_end = time(&body["expires_at"]) == cred.expires;
        if mask(&scopes) != Some(self.model.eff(c)) || body["token_id"] != cred.id.as_str() || !same_end {
            let want = names(self.model.eff(c));
            self.fail(&format!(
                "{desc}: expected {} with {want:?} ending {:?}, got {body}",
                cred.id, cred.expires
            ));
        }
    }

    /// Checks a new credential against `nc` and returns it for the model.
    #[expect(clippy::too_many_arguments, reason = "the step's parts, each checked against the answer")]
    fn issued(
        &self,
        nc: &NewCred,
        now: Option<DateTime<Utc>>,
        expires: Option<DateTime<Utc>>,
        token: Value,
        id: Value,
        scopes: Option<Value>,
        w: Window,
        desc: &str,
    ) -> Cred {
        let Some(now) = now.filter(|t| *t >= w.lo && *t <= w.hi) else {
            self.fail(&format!("{desc}: the server's time {now:?} is outside [{}, {}]", w.lo, w.hi));
        };
        let want = nc.expiry.at(now);
        if expires != want {
            self.fail(&format!(
                "{desc}: expected expiry {want:?} ({:?} at {now}), got {expires:?}",
                nc.expiry
            ));
        }
        if let Some(sc) = scopes {
            let got: Vec<String> = serde_json::from_value(sc).unwrap_or_default();
            let m = mask(&got);
            if m != Some(nc.scopes) && (nc.alt_scopes.is_none() || m != nc.alt_scopes) {
                self.fail(&format!("{desc}: expected scopes {:?}, got {got:?}", names(nc.scopes)));
            }
        }
        Cred {
            kind: nc.kind,
            owner: nc.owner,
            agent: nc.agent.clone(),
            scopes: nc.scopes,
            created: now,
            expires,
            parent: nc.parent,
            end: End::Live,
            successor: None,
            seen_invalid: false,
            kid: None,
            id: id.as_str().unwrap_or_default().to_owned(),
            token: token.as_str().unwrap_or_default().to_owned(),
        }
    }
}

/// A body with every token replaced, for failure messages.
fn redacted(body: &Value) -> Value {
    let mut b = body.clone();
    if b["token"].is_string() {
        b["token"] = Value::from("***");
    }
    if b["key"]["token"].is_string() {
        b["key"]["token"] = Value::from("***");
    }
    b
}

fn want(v: &Verdict, step: &Step) -> String {
    let mut parts = Vec::new();
    if v.ok.is_some() {
        parts.push(ok_status(step).map_or("2xx".to_owned(), |s| s.to_string()));
    }
    parts.extend(v.refuse.iter().map(u16::to_string));
    parts.join(" or ")
}
