//! After every step, every credential the model knows is verified through
//! the server (`POST /v1/verify`, as the observer) and must answer what the
//! model says; independently of the model's bookkeeping, the invariants of
//! authority must hold on what the server answers:
//!
//! - a valid credential's effective scopes ⊆ its owner's permissions and
//!   ⊆ the effective scopes of every ancestor (the credentials that
//!   obtained it, up to a login);
//! - a valid credential's non-session ancestors are all valid now (ending
//!   one ends what it obtained), and it does not expire after any of their
//!   current expiries (a rotation's grace cuts its descendants short);
//! - a credential the server once answered "not valid" is never valid again.

use crate::driver;
use crate::model::{End, Kind, Scopes, mask, names};
use crate::step::Case;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// An agent token's expiry is a JWT `exp`: whole seconds.
fn seconds(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

impl Case {
    pub async fn check_invariants(&mut self) {
        let mut asked = tokio::task::JoinSet::new();
        for (c, cred) in self.model.creds.iter().enumerate() {
            let (http, base) = (self.server.http.clone(), self.server.base.clone());
            let (observer, token) = (self.observer.clone(), cred.token.clone());
            asked.spawn(async move { (c, driver::verify(&http, &base, &observer, &token).await) });
        }
        let mut replies = asked.join_all().await;
        replies.sort_by_key(|(c, _)| *c);
        // What the server says of each credential now, for its descendants.
        let now: Vec<(bool, Option<DateTime<Utc>>)> = (replies.iter())
            .map(|(_, r)| {
                let valid = r.body["valid"] == Value::Bool(true);
                (valid, serde_json::from_value(r.body["expires_at"].clone()).ok())
            })
            .collect();
        for (c, r) in replies {
            if r.status != reqwest::StatusCode::OK {
                self.fail(&format!("verify of {} answered {} {}", self.model.label(c), r.status, r.body));
            }
            if !r.no_store && !crate::step::skip_no_store() {
                self.fail(&format!(
                    "verify of {} answered without Cache-Control: no-store",
                    self.model.label(c)
                ));
            }
            let valid = r.body["valid"] == Value::Bool(true);
            let code = r.str("code");
            let scopes: Vec<String> = serde_json::from_value(r.body["scopes"].clone()).unwrap_or_default();
            let expires: Option<DateTime<Utc>> = serde_json::from_value(r.body["expires_at"].clone()).ok();
            self.check_one(c, valid, &code, &scopes, expires, &now);
        }
    }

    fn check_one(
        &mut self,
        c: usize,
        valid: bool,
        code: &str,
        scopes: &[String],
        expires: Option<DateTime<Utc>>,
        now: &[(bool, Option<DateTime<Utc>>)],
    ) {
        let m = &self.model;
        let label = m.label(c);
        let cred = &m.creds[c];
        if valid && cred.seen_invalid {
            self.fail(&format!("{label} was answered not valid before and is valid again"));
        }
        if valid != m.valid(c) {
            self.fail(&format!("{label}: the model says valid={}, the server says {code}", m.valid(c)));
        }
        if !valid {
            if cred.end == End::Deleted && code != "NOT_FOUND" {
                self.fail(&format!("{label} was deleted: expected NOT_FOUND, got {code}"));
            }
            self.model.creds[c].seen_invalid = true;
            return;
        }
        let Some(got) = mask(scopes) else {
            self.fail(&format!("{label} holds scopes outside the catalogue: {scopes:?}"));
        };
        if got != m.eff(c) {
            self.fail(&format!("{label}: expected effective scopes {:?}, got {scopes:?}", names(m.eff(c))));
        }
        let same = if cred.kind == Kind::Agent {
            seconds(expires) == seconds(cred.expires)
        } else {
            expires == cred.expires
        };
        if !same {
            self.fail(&format!("{label}: expected expiry {:?}, got {expires:?}", cred.expires));
        }
        if got & !m.perms(cred.owner) != 0 {
            self.fail(&format!("{label} holds {scopes:?}, beyond its owner's permissions"));
        }
        let mut parent = cred.parent;
        while let Some(p) = parent {
            let a = &m.creds[p];
            let ancestor: Scopes = m.eff_by_role(p);
            if got & !ancestor != 0 {
                self.fail(&format!(
                    "{label} holds {scopes:?}, beyond its ancestor {} ({:?})",
                    m.label(p),
                    names(ancestor)
                ));
            }
            if a.kind != Kind::Login {
                let (live, ends) = now[p];
                if !live {
                    self.fail(&format!("{label} is valid, but its ancestor {} has ended", m.label(p)));
                }
                // An agent token's end is a JWT `exp`: whole seconds.
                let later = match (expires, ends) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(e), Some(ae)) if cred.kind == Kind::Agent || a.kind == Kind::Agent => {
                        e.timestamp() > ae.timestamp()
                    }
                    (Some(e), Some(ae)) => e > ae,
                };
                if later {
                    self.fail(&format!(
                        "{label} ends {expires:?}, after its ancestor {} ({ends:?})",
                        m.label(p)
                    ));
                }
            }
            parent = a.parent;
        }
    }
}
