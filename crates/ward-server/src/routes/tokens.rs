//! `/v1/tokens…` and `POST /v1/verify`.

use super::views;
use crate::auth::Auth;
use crate::authority::check;
use crate::authority::forensics;
use crate::authority::input::{NewToken, Rotation, TokenListing};
use crate::authority::tokens;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ward_api::{
    CreateTokenRequest, CreatedToken, ErrorBody, IdentifyRequest, RotateRequest, Rotated, TokenInfo,
    TokenList, TokenQuery, VerifyRequest, VerifyResponse,
};

/// Create a token; the response is the only time it is shown.
#[utoipa::path(post, path = "/v1/tokens", operation_id = "create_token", tag = "tokens", security(("bearer" = [])), request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let new = NewToken::parse(req, &state.settings.catalog)?;
    let created = tokens::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(views::created(&created))))
}

/// List tokens, newest first: your own, or a user's (admins).
#[utoipa::path(get, path = "/v1/tokens", operation_id = "list_tokens", tag = "tokens", security(("bearer" = [])), params(TokenQuery),
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such user"), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> ApiResult<Json<TokenList>> {
    let page = tokens::list(&state, &caller, TokenListing::try_from(query)?).await?;
    Ok(Json(views::token_page(&state, &page)))
}

/// One token's metadata, with the newest five clients it was used from.
#[utoipa::path(get, path = "/v1/tokens/{id}", operation_id = "show_token", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id, tok_…")),
    responses((status = 200, body = TokenInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TokenInfo>> {
    let found = forensics::show(&state, &caller, &id).await?;
    Ok(Json(views::token_detailed(&state, &found)))
}

/// Revoke a token, permanently.
#[utoipa::path(post, path = "/v1/tokens/{id}/revoke", operation_id = "revoke_token", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id, tok_…")),
    responses((status = 200, body = TokenInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "already revoked")))]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TokenInfo>> {
    let revoked = tokens::revoke(&state, &caller, &id).await?;
    Ok(Json(views::token_as_of(&state, &revoked)))
}

/// Delete a token record (admins).
#[utoipa::path(delete, path = "/v1/tokens/{id}", operation_id = "delete_token", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id, tok_…")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    tokens::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issue a successor; the old token lives on for `grace`.
#[utoipa::path(post, path = "/v1/tokens/{id}/rotate", operation_id = "rotate_token", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id, tok_…")), request_body = Option<RotateRequest>,
    responses((status = 201, body = Rotated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
    OptionalJson(body): OptionalJson<RotateRequest>,
) -> ApiResult<(StatusCode, Json<Rotated>)> {
    let rotation = Rotation::try_from(body)?;
    let rotated = tokens::rotate(&state, &caller, &id, rotation).await?;
    Ok((StatusCode::CREATED, Json(views::rotated(&state, &rotated))))
}

/// Check a token: always 200, with `valid` and a `code`. Needs `ward:introspect`.
#[utoipa::path(post, path = "/v1/verify", operation_id = "verify_token", tag = "tokens", security(("bearer" = [])), request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> ApiResult<Json<VerifyResponse>> {
    Ok(Json(views::verify(&check::verify(&state, &caller, &req.token).await?)))
}

/// What a raw token is (id, type, owner, status, created), for its owner
/// or an admin; not a use of it (nothing counted or noted). Needs `ward:tokens`.
#[utoipa::path(post, path = "/v1/tokens/identify", operation_id = "identify_token", tag = "tokens", security(("bearer" = [])), request_body = IdentifyRequest,
    responses((status = 200, body = TokenInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such token, or not yours"),
        (status = 422, body = ErrorBody, description = "not a ward token (bad shape or checksum)")))]
pub async fn identify(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<IdentifyRequest>,
) -> ApiResult<Json<TokenInfo>> {
    let found = forensics::identify(&state, &caller, &req.token).await?;
    Ok(Json(views::token_as_of(&state, &found)))
}
