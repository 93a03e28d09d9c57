//! Signing in and out. Sign-in is the API's login
//! (`authority::session::login`: the same throttle, bounds and audit
//! trail), its form protected by a signed double submit (`csrf.rs`); on
//! success the login session's token goes into the session cookie.
//! Signing out is the API's logout: the session is revoked, not only the
//! cookie dropped.

use super::Transport;
use super::cookie;
use super::csrf;
use super::error::{UiError, UiResult};
use super::form::{Fields, Posted};
use super::layout;
use crate::audit::context::ClientAddr;
use crate::authority::session as authority;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use ward_api::LoginRequest;

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
    let mut response = (status, layout::document("Sign in", None, body)).into_response();
    response.headers_mut().append(SET_COOKIE, cookie::login_nonce(&nonce, transport));
    response
}

/// `POST /ui/login`: on success the session cookie and a redirect to the
/// caller's tokens; a refusal shows the form again with the API's reason.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    transport: Transport,
    headers: HeaderMap,
    fields: Fields,
) -> UiResult<Response> {
    let nonce = cookie::get(&headers, cookie::LOGIN).unwrap_or_default();
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
    let mut response = Redirect::to("/ui/tokens").into_response();
    let h = response.headers_mut();
    h.append(SET_COOKIE, cookie::session(session.plain.expose(), max_age, transport));
    h.append(SET_COOKIE, cookie::clear_login_nonce());
    Ok(response)
}

/// `POST /ui/logout`: revokes the session (the API's logout) and drops
/// the cookie.
pub async fn logout(State(state): State<AppState>, posted: Posted) -> UiResult<Response> {
    authority::logout(&state, &posted.session.caller).await?;
    let mut response = Redirect::to("/ui/login").into_response();
    response.headers_mut().insert(SET_COOKIE, cookie::clear_session());
    Ok(response)
}
