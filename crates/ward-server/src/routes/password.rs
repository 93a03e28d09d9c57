//! `POST /v1/password`, `POST /v1/users/{id}/password`.

use crate::audit::context::ClientAddr;
use crate::auth::Auth;
use crate::authority::password;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use ward_api::{ChangePasswordRequest, ErrorBody, PasswordChanged, ResetPasswordRequest};

/// Change your own password (login sessions only); your other login
/// sessions end.
#[utoipa::path(post, path = "/v1/password", operation_id = "change_password", tag = "session", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, body = PasswordChanged), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a login session, or the current password is wrong"),
        (status = 422, body = ErrorBody, description = "the new password is too short or too long"),
        (status = 429, body = ErrorBody, description = "too many wrong passwords; see Retry-After"),
        (status = 503, body = ErrorBody, description = "too many password checks at once; see Retry-After")))]
pub async fn change(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ClientAddr(client): ClientAddr,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Json<PasswordChanged>> {
    password::change_own(&state, &caller, req, client).await.map(Json)
}

/// Set another user's password (admins); all their login sessions end.
#[utoipa::path(post, path = "/v1/users/{id}/password", operation_id = "reset_password", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id (usr_…) or name")),
    request_body = ResetPasswordRequest,
    responses((status = 200, body = PasswordChanged), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "a service user, or yourself"),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn reset(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> ApiResult<Json<PasswordChanged>> {
    password::reset(&state, &caller, &id, req).await.map(Json)
}
