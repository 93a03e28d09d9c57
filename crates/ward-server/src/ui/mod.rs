//! The web dashboard at `/ui`: server-rendered HTML (maud, compiled into
//! the binary) over the same authority functions as the API, so there is
//! one set of rules. A page handler is as thin as an API handler: extract
//! the `Session` (`session.rs`) or a CSRF-checked `Posted` form
//! (`form.rs`), call one authority function, render.
//!
//! Security, in one place each: the session is a login session (`l`
//! token) in an `HttpOnly; SameSite=Strict; Path=/ui` cookie
//! (`cookie.rs`), checked on every request exactly as a bearer token is
//! (`authority::check`, in `session.rs`), so every revocation that ends
//! it ends the dashboard session too; signing in and out are the API's
//! login and logout (`sign_in.rs`); every state-changing form carries a
//! CSRF token, checked before anything else (`csrf.rs`, `form.rs`); every
//! `/ui` response carries the security headers of [`headers`]; a token
//! string appears only on the shown-once page, carried to it in a sealed
//! cookie (`shown.rs`); a destructive admin action asks first on a page
//! that names its object (`confirm.rs`).

mod agents;
mod approvals;
mod assets;
mod audit;
mod confirm;
mod cookie;
mod csrf;
mod error;
mod expiring;
mod form;
mod layout;
mod service_users;
mod session;
mod shown;
mod sign_in;
mod sort;
mod token_forms;
mod tokens;
mod users;

use crate::state::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_FRAME_OPTIONS};
use axum::middleware::Next;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};

/// No inline script or style, nothing from elsewhere, no framing; the
/// script may fetch this origin's pages only (`connect-src`, for the
/// partial updates of `ward.js`).
pub const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
                       img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Whether the server speaks TLS, so the session cookie is `Secure`: set
/// as a request extension by `serve_with_tls`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Transport {
    pub tls: bool,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Transport {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Transport>().copied().unwrap_or_default())
    }
}

/// The dashboard's routes (merged into the API router; not in the OpenAPI
/// document, which describes the JSON API).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui", get(home))
        .route("/ui/", get(home))
        .route("/ui/assets/{name}", get(assets::serve))
        .route("/ui/login", get(sign_in::login_page).post(sign_in::login))
        .route("/ui/logout", post(sign_in::logout))
        .route("/ui/tokens", get(tokens::list).post(token_forms::create))
        .route("/ui/tokens/new", get(token_forms::new_form))
        .route("/ui/tokens/{id}/revoke", get(token_forms::confirm_revoke).post(token_forms::revoke))
        .route("/ui/tokens/{id}/rotate", get(token_forms::confirm_rotate).post(token_forms::rotate))
        .route("/ui/shown/{id}", get(token_forms::shown_once))
        .route("/ui/expiring", get(expiring::expiring))
        .route("/ui/users", get(users::list).post(users::create))
        .route("/ui/users/{who}/tokens", get(users::tokens))
        .route("/ui/users/{who}/revoke-tokens", get(confirm::user_revoke_tokens).post(users::revoke_tokens))
        .route("/ui/users/{who}/delete", get(confirm::user_delete).post(users::delete))
        .route("/ui/service-users", get(service_users::service_list).post(service_users::service_create))
        .route("/ui/service-users/{who}/rotate-key", post(service_users::service_rotate))
        .route(
            "/ui/service-users/{who}/delete",
            get(confirm::service_user_delete).post(service_users::service_delete),
        )
        .route("/ui/approvals", get(approvals::list))
        .route("/ui/approvals/{id}/decide", post(approvals::decide))
        .route("/ui/agents", get(agents::list))
        .route("/ui/agents/revoke", get(confirm::agent_revoke).post(agents::revoke))
        .route("/ui/keys/rotate", post(agents::rotate_key))
        .route("/ui/keys/{kid}/retire", get(confirm::key_retire).post(agents::retire_key))
        .route("/ui/audit", get(audit::search))
        .route("/ui/audit/export", get(audit::export))
}

/// `/ui`: the caller's tokens (or the sign-in page, through the session
/// extractor's redirect).
async fn home() -> Redirect {
    Redirect::to("/ui/tokens")
}

/// Whether `path` is the dashboard's.
fn is_ui(path: &str) -> bool {
    path.strip_prefix("/ui").is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The security headers of every `/ui` response, errors and 404s
/// included: the [`CSP`], no framing, no referrer, and `no-store` on
/// everything but the static assets.
pub async fn headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !is_ui(path) {
        return next.run(req).await;
    }
    let asset = path.starts_with("/ui/assets/");
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if !asset {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::is_ui;

    #[test]
    fn ui_paths_are_the_dashboards_and_nothing_else_is() {
        for p in ["/ui", "/ui/", "/ui/tokens", "/ui/assets/ward.css"] {
            assert!(is_ui(p), "{p}");
        }
        for p in ["/uix", "/v1/ui", "/", "/healthz"] {
            assert!(!is_ui(p), "{p}");
        }
    }
}
