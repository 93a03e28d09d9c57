//! The dashboard (`/ui`) in the model: a credential in the session cookie
//! opens a page. Only a live login session is a dashboard session (else a
//! redirect to sign in, 303), and each page answers as its API endpoint
//! would: a normal user's session cannot reach the admin pages, the audit
//! trail, or another user's tokens.

use crate::driver::{Reply, Server};
use crate::model::{Kind, Model, TOKENS};
use crate::verdict::{Effect, Verdict, no};
use proptest::prelude::*;
use reqwest::header::{CACHE_CONTROL, COOKIE};
use std::sync::OnceLock;

/// `ward:audit` in the test catalogue.
const AUDIT: crate::model::Scopes = 1 << 2;

/// A page of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    MyTokens,
    Expiring,
    UserTokens,
    /// The page that asks before revoking all of a user's tokens.
    UserRevokeTokens,
    Users,
    ServiceUsers,
    Approvals,
    Audit,
}

impl Page {
    /// Its path; `user` is the id a user's tokens page names.
    pub fn path(self, user: &str) -> String {
        match self {
            Page::MyTokens => "/ui/tokens".into(),
            Page::Expiring => "/ui/expiring".into(),
            Page::UserTokens => format!("/ui/users/{user}/tokens"),
            Page::UserRevokeTokens => format!("/ui/users/{user}/revoke-tokens"),
            Page::Users => "/ui/users".into(),
            Page::ServiceUsers => "/ui/service-users".into(),
            Page::Approvals => "/ui/approvals".into(),
            Page::Audit => "/ui/audit".into(),
        }
    }
}

pub fn page() -> impl Strategy<Value = Page> {
    prop_oneof![
        Just(Page::MyTokens),
        Just(Page::Expiring),
        Just(Page::UserTokens),
        Just(Page::UserRevokeTokens),
        Just(Page::Users),
        Just(Page::ServiceUsers),
        Just(Page::Approvals),
        Just(Page::Audit),
    ]
}

/// The model's answer to credential `by` opening `page`.
pub fn expect(m: &Model, by: usize, page: Page, user: usize) -> Verdict {
    if !m.valid(by) || m.creds[by].kind != Kind::Login {
        return no(303);
    }
    let allowed = match page {
        Page::MyTokens | Page::Expiring => m.has(by, TOKENS),
        Page::Users | Page::ServiceUsers | Page::Approvals => m.is_admin(by),
        Page::Audit => m.has(by, AUDIT),
        // Asking first answers exactly as listing the user's tokens does.
        Page::UserTokens | Page::UserRevokeTokens => {
            return crate::rules::users_tokens(m, by, user).then(Effect::Nothing);
        }
    };
    if allowed { Verdict { ok: Some(Effect::Nothing), refuse: vec![] } } else { no(403) }
}

/// `GET path` with `token` as the session cookie, redirects not followed.
pub async fn open(s: &Server, token: &str, path: &str) -> Reply {
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    let http = HTTP.get_or_init(|| {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
    });
    let resp = http
        .get(format!("{}{path}", s.base))
        .header(COOKIE, format!("ward_session={token}"))
        .send()
        .await
        .expect("request reaches the server");
    let no_store = resp.headers().get(CACHE_CONTROL).is_some_and(|v| v == "no-store");
    Reply { status: resp.status(), body: serde_json::Value::Null, no_store }
}
