//! `/v1/users…` and `/v1/service-users…`.

use super::views;
use crate::auth::Auth;
use crate::authority::input::{NewServiceUser, NewUser, Rotation};
use crate::authority::{service_users, users};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ward_api::{
    CreateServiceUserRequest, CreateUserRequest, CreatedServiceUser, ErrorBody, RevokedCount, RotateRequest,
    Rotated, ServiceUserList, TokenList, User, UserList,
};
use ward_store::UserKindFilter;

/// Create a user (admins).
#[utoipa::path(post, path = "/v1/users", operation_id = "create_user", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = User), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let created = users::create(&state, &caller, NewUser::try_from(req)?).await?;
    Ok((StatusCode::CREATED, Json(views::user(&state, &created))))
}

/// List users (admins).
#[utoipa::path(get, path = "/v1/users", operation_id = "list_users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<UserList>> {
    Ok(Json(views::users(&state, &users::list(&state, &caller).await?)))
}

/// A user's tokens (the user themselves, or admins).
#[utoipa::path(get, path = "/v1/users/{id}/tokens", operation_id = "list_user_tokens", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id (usr_…) or name")),
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn tokens(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TokenList>> {
    Ok(Json(views::token_list(&state, &users::tokens(&state, &caller, &id).await?)))
}

/// Revoke every token of a user.
#[utoipa::path(post, path = "/v1/users/{id}/revoke-tokens", operation_id = "revoke_user_tokens", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id (usr_…) or name")),
    responses((status = 200, body = RevokedCount), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn revoke_tokens(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RevokedCount>> {
    let revoked = users::revoke_tokens(&state, &caller, &id).await?;
    Ok(Json(RevokedCount { revoked }))
}

/// Delete a user and revoke all their tokens, in one transaction (admins).
#[utoipa::path(delete, path = "/v1/users/{id}", operation_id = "delete_user", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id (usr_…) or name")),
    responses((status = 200, body = RevokedCount), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RevokedCount>> {
    let revoked = users::delete(&state, &caller, &id, UserKindFilter::Human).await?;
    Ok(Json(RevokedCount { revoked }))
}

/// Create a service user and its first API key, shown once (admins).
#[utoipa::path(post, path = "/v1/service-users", operation_id = "create_service_user", tag = "service-users", security(("bearer" = [])),
    request_body = CreateServiceUserRequest,
    responses((status = 201, body = CreatedServiceUser), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_service_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<CreateServiceUserRequest>,
) -> ApiResult<(StatusCode, Json<CreatedServiceUser>)> {
    let new = NewServiceUser::parse(req, &state.settings.catalog)?;
    let created = service_users::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(views::service_user_created(&state, &created))))
}

/// List service users and their active keys (admins).
#[utoipa::path(get, path = "/v1/service-users", operation_id = "list_service_users", tag = "service-users", security(("bearer" = [])),
    responses((status = 200, body = ServiceUserList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_service_users(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<ServiceUserList>> {
    Ok(Json(views::service_users(&state, &service_users::list(&state, &caller).await?)))
}

/// Rotate a service user's key; the old key lives on for `grace` (admins).
#[utoipa::path(post, path = "/v1/service-users/{id}/rotate-key", operation_id = "rotate_service_user_key", tag = "service-users", security(("bearer" = [])),
    params(("id" = String, Path, description = "service user id (usr_…) or name")), request_body = Option<RotateRequest>,
    responses((status = 201, body = Rotated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rotate_key(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
    OptionalJson(body): OptionalJson<RotateRequest>,
) -> ApiResult<(StatusCode, Json<Rotated>)> {
    let rotation = Rotation::try_from(body)?;
    let rotated = service_users::rotate_key(&state, &caller, &id, rotation).await?;
    Ok((StatusCode::CREATED, Json(views::rotated(&state, &rotated))))
}

/// Delete a service user and revoke its keys (admins).
#[utoipa::path(delete, path = "/v1/service-users/{id}", operation_id = "delete_service_user", tag = "service-users", security(("bearer" = [])),
    params(("id" = String, Path, description = "service user id (usr_…) or name")),
    responses((status = 200, body = RevokedCount), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_service_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RevokedCount>> {
    let revoked = users::delete(&state, &caller, &id, UserKindFilter::Service).await?;
    Ok(Json(RevokedCount { revoked }))
}
