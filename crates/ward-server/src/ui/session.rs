//! Signing in and out, and the [`Session`] every other page extracts.
//!
//! The dashboard's session is a ward login session (an `l` token) issued
//! by `authority::session::login`, the API's login with its throttle and
//! audit trail, and carried in the cookie [`SESSION_COOKIE`] (`HttpOnly;
//! SameSite=Strict; Path=/ui`, `Secure` under TLS). Every request checks
//! it with `authority::check`, as the API checks a bearer token, so a
//! logout, a revocation, a password change or the end of the user ends
//! the dashboard session at the next click. Only a login session is
//! accepted: a pasted API token is no dashboard session.

use super::csrf;
use super::error::{UiError, UiResult};
use super::layout;
use super::{Transport, form::Fields};
use crate::audit::AuditEvent;
use crate::audit::context::ClientAddr;
use crate::authority::check::{Check, check};
use crate::authority::session as authority;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, MatchedPath, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use ward_api::LoginRequest;
use ward_core::{Caller, TokenKind};

/// The session cookie.
pub const SESSION_COOKIE: &str = "ward_session";
/// The sign-in form's nonce cookie ([`csrf::for_login`]).
const LOGIN_COOKIE: &str = "ward_login";

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
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(presented) = cookie(&parts.headers, SESSION_COOKIE) else {
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

fn cookie_header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("ward_session=; Max-Age=0"))
}

/// The `Set-Cookie` that ends the session cookie in the browser.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("ward_session=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict")
}

fn secure(transport: Transport) -> &'static str {
    if transport.tls { "; Secure" } else { "" }
}

/// `GET /ui/login`: the form, with a fresh nonce cookie for its CSRF token.
pub async fn login_page(State(state): State<AppState>, transport: Transport) -> Response {
    login_form(&state, transport, StatusCode::OK, None)
}

fn login_form(state: &AppState, transport: Transport, status: StatusCode, error: Option<&str>) -> Response {
    let nonce = csrf::nonce();
    let token = csrf::for_login(state, &nonce);
    let body = html! {
        h1 { "Sign in to ward" }
        @if let Some(error) = error { (layout::alert(error)) }
        form.stack method="post" action="/ui/login" {
            input type="hidden" name=(csrf::FIELD) value=(token);
            label for="username" { "Username" }
            input id="username" name="username" type="text" autocomplete="username" required autofocus;
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
    };
    let set =
        format!("{LOGIN_COOKIE}={nonce}; Path=/ui/login; HttpOnly; SameSite=Strict{}", secure(transport));
    let mut response = (status, layout::bare("Sign in", body)).into_response();
    response.headers_mut().append(SET_COOKIE, cookie_header(&set));
    response
}

/// `POST /ui/login`: the API's login (same throttle, same audit trail);
/// on success the session cookie and a redirect to the caller's tokens.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    transport: Transport,
    headers: HeaderMap,
    fields: Fields,
) -> UiResult<Response> {
    let nonce = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if nonce.is_empty() || !csrf::matches(&csrf::for_login(&state, nonce), fields.get(csrf::FIELD)) {
        return Err(UiError::Csrf);
    }
    let req = LoginRequest {
        username: fields.get("username").unwrap_or_default().to_owned(),
        password: fields.get("password").unwrap_or_default().to_owned(),
    };
    let (_, session) = match authority::login(&state, req, client).await {
        Ok(done) => done,
        Err(e @ (ApiError::BadCredentials | ApiError::TooManyRequests { .. } | ApiError::Busy { .. })) => {
            return Ok(login_form(&state, transport, e.status(), Some(&e.to_string())));
        }
        Err(ApiError::Unprocessable(why)) => {
            return Ok(login_form(&state, transport, StatusCode::UNPROCESSABLE_ENTITY, Some(&why)));
        }
        Err(e) => return Err(e.into()),
    };
    let max_age = state.settings.login.session_ttl.as_duration().num_seconds().max(1);
    let set = format!(
        "{SESSION_COOKIE}={}; Path=/ui; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        session.plain.expose(),
        secure(transport)
    );
    let mut response = Redirect::to("/ui/tokens").into_response();
    response.headers_mut().append(SET_COOKIE, cookie_header(&set));
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static("ward_login=; Path=/ui/login; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    Ok(response)
}

/// `POST /ui/logout`: revokes the session (the API's logout) and drops
/// the cookie.
pub async fn logout(State(state): State<AppState>, posted: super::form::Posted) -> UiResult<Response> {
    authority::logout(&state, &posted.session.caller).await?;
    let mut response = Redirect::to("/ui/login").into_response();
    response.headers_mut().insert(SET_COOKIE, clear_cookie());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_and_in_any_header() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; ward_sessionx=2"));
        h.append(COOKIE, HeaderValue::from_static("b=3;ward_session=tok"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
