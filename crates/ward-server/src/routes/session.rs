//! `POST /v1/login`, `POST /v1/logout`, `GET /v1/whoami`.

use super::views;
use crate::audit::context::ClientAddr;
use crate::auth::Auth;
use crate::authority::session;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use ward_api::{ErrorBody, LoginRequest, LoginResponse, LogoutResponse, WhoAmI};

/// Log in with a username and password; returns a session token (shown once).
#[utoipa::path(post, path = "/v1/login", operation_id = "login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "a field over its length bound"),
        (status = 429, body = ErrorBody, description = "too many failures; see Retry-After"),
        (status = 503, body = ErrorBody, description = "too many password checks at once; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let (user, session) = session::login(&state, req, client).await?;
    Ok(Json(views::login(&user, &session)))
}

/// Revoke the calling token.
#[utoipa::path(post, path = "/v1/logout", operation_id = "logout", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = LogoutResponse), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<LogoutResponse>> {
    let revoked = session::logout(&state, &caller).await?;
    Ok(Json(views::logout(&caller, revoked)))
}

/// Who the calling token belongs to, and what it may do.
#[utoipa::path(get, path = "/v1/whoami", operation_id = "whoami", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
pub async fn whoami(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<WhoAmI>> {
    let expires_at = session::whoami(&state, &caller).await?;
    Ok(Json(views::whoami(&caller, expires_at)))
}
