//! `/v1/tokens…` and `POST /v1/verify`.

use crate::audit::AuditEvent;
use crate::auth::Auth;
use crate::authority::check::{Check, check};
use crate::authority::tokens;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ward_api::{
    CreateTokenRequest, CreatedToken, ErrorBody, RotateRequest, Rotated, TokenInfo, TokenList, TokenQuery,
    VerifyRequest, VerifyResponse,
};
use ward_core::policy::SCOPE_INTROSPECT;

/// Create a token; the response is the only time it is shown.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", security(("bearer" = [])), request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let created = tokens::create(&state, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// List tokens, newest first: your own, or a user's (admins).
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens", security(("bearer" = [])), params(TokenQuery),
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> ApiResult<Json<TokenList>> {
    tokens::list(&state, &caller, query).await.map(Json)
}

/// One token's metadata.
#[utoipa::path(get, path = "/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id, tok_…")),
    responses((status = 200, body = TokenInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TokenInfo>> {
    tokens::show(&state, &caller, &id).await.map(Json)
}

/// Revoke a token, permanently.
#[utoipa::path(post, path = "/v1/tokens/{id}/revoke", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id, tok_…")),
    responses((status = 200, body = TokenInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "already revoked")))]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TokenInfo>> {
    tokens::revoke(&state, &caller, &id).await.map(Json)
}

/// Delete a token record (admins).
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
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
#[utoipa::path(post, path = "/v1/tokens/{id}/rotate", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id, tok_…")), request_body = RotateRequest,
    responses((status = 201, body = Rotated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
    OptionalJson(body): OptionalJson<RotateRequest>,
) -> ApiResult<(StatusCode, Json<Rotated>)> {
    let grace = body.grace;
    let rotated = tokens::rotate(&state, &caller, &id, grace.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(rotated)))
}

/// Check a token: always 200, with `valid` and a `code`. Needs `ward:introspect`.
#[utoipa::path(post, path = "/v1/verify", tag = "tokens", security(("bearer" = [])), request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> ApiResult<Json<VerifyResponse>> {
    caller.require(SCOPE_INTROSPECT)?;
    let verdict = check(&state, &req.token).await?;
    let event = AuditEvent::new("token.verify").decision(verdict.code());
    state.audit.emit_use(match verdict.found() {
        Some(found) => event.subject(&found.subject).token(&found.token_id),
        None => event.subject(&caller.principal.name),
    });
    Ok(Json(verify_view(&verdict)))
}

fn verify_view(verdict: &Check) -> VerifyResponse {
    let found = verdict.found();
    VerifyResponse {
        valid: matches!(verdict, Check::Valid { .. }),
        code: verdict.code().to_owned(),
        token_id: found.map(|f| f.token_id.to_string()),
        token_type: found.map(|f| f.kind),
        user: found.map(|f| f.subject.clone()),
        scopes: verdict.scopes().iter().map(ToString::to_string).collect(),
        expires_at: found.and_then(|f| f.expires_at),
    }
}
