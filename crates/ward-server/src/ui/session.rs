//! The [`Session`] every signed-in page extracts, and the frame of a
//! signed-in page ([`Session::page`]: the navigation the caller may use
//! and the sign-out form).
//!
//! The dashboard's session is a ward login session (an `l` token) issued
//! by `authority::session::login` (`sign_in.rs`) and carried in the
//! session cookie (`cookie.rs`). Every request checks it with
//! `authority::check`, as the API checks a bearer token, so a logout, a
//! revocation, a password change or the end of the user ends the
//! dashboard session at the next click. Only a login session is
//! accepted: a pasted API token is no dashboard session.

use super::cookie;
use super::csrf;
use super::error::UiError;
use super::layout;
use crate::audit::AuditEvent;
use crate::authority::check::{Check, check};
use crate::state::AppState;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::response::Html;
use maud::{Markup, html};
use ward_core::policy::{SCOPE_AUDIT, SCOPE_MINT};
use ward_core::{Caller, TokenKind};

/// A signed-in caller and the CSRF token of its forms.
#[derive(Debug)]
pub struct Session {
    pub caller: Caller,
    pub csrf: String,
}

impl Session {
    /// The hidden CSRF field of a form of this session.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name=(csrf::FIELD) value=(self.csrf); }
    }

    /// A full page for this caller: navigation by what it may open.
    pub fn page(&self, title: &str, body: Markup) -> Html<String> {
        let caller = &self.caller;
        let admin = caller.is_admin();
        let nav = html! {
            nav aria-label="Main" {
                ul {
                    li { a href="/ui/tokens" { "My tokens" } }
                    li { a href="/ui/expiring" { "Expiring soon" } }
                    @if admin {
                        li { a href="/ui/users" { "Users" } }
                        li { a href="/ui/service-users" { "Service users" } }
                        li { a href="/ui/approvals" { "Approvals" } }
                    }
                    @if caller.has(SCOPE_MINT) {
                        li { a href="/ui/agents" { "Agents and keys" } }
                    }
                    @if caller.has(SCOPE_AUDIT) {
                        li { a href="/ui/audit" { "Audit" } }
                    }
                }
                form.signout method="post" action="/ui/logout" {
                    (self.csrf_field())
                    span.who { "Signed in as " strong { (caller.principal.name) } }
                    " "
                    button type="submit" { "Sign out" }
                }
            }
        };
        layout::document(title, Some(nav), body)
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(presented) = cookie::get(&parts.headers, cookie::SESSION) else {
            return Err(UiError::SignIn);
        };
        let verdict = check(state, presented).await?;
        let route = parts.extensions.get::<MatchedPath>().map_or("(unmatched route)", MatchedPath::as_str);
        let event = AuditEvent::new("token.use").operation(format!("{} {route}", parts.method));
        let event = match verdict.found() {
            Some(found) => event.subject(&found.subject).token(&found.token_id),
            None => event,
        };
        match verdict {
            Check::Valid { caller, .. } if caller.token_kind == TokenKind::Login => {
                state.audit.emit_use(event.decision("VALID"));
                let csrf = csrf::for_session(state, &caller.token_id);
                Ok(Session { caller, csrf })
            }
            Check::Valid { .. } => {
                state.audit.emit_use(event.decision("REFUSED").error("not a login session"));
                Err(UiError::SignIn)
            }
            refused => {
                state.audit.emit_use(event.decision(refused.code()).error(refused.refusal()));
                Err(UiError::SignIn)
            }
        }
    }
}
