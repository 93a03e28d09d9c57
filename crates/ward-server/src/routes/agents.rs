//! `/v1/authorize`, `/v1/approvals…`, `/v1/mint…`, `/v1/keys…` and the JWKS.

use super::views;
use crate::auth::Auth;
use crate::authority::input::{Authorize, Decide, MintRevoke, NewMint};
use crate::authority::{approvals, authorize, mint};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ward_api::{
    Approval, ApprovalList, ApprovalQuery, AuthorizeRequest, AuthorizeResponse, DecideRequest, ErrorBody,
    MintRequest, MintRevokeRequest, Minted, MintedList, MintedQuery, RevokedCount, SigningKeyInfo,
    SigningKeyList,
};

/// May a token run an operation now? `allow`, `deny` or `approval_required`.
#[utoipa::path(post, path = "/v1/authorize", operation_id = "authorize", tag = "policy", security(("bearer" = [])), request_body = AuthorizeRequest,
    responses((status = 200, body = AuthorizeResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "insufficient_scope, naming the scope"), (status = 422, body = ErrorBody)))]
pub async fn authorize_op(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<AuthorizeRequest>,
) -> ApiResult<Json<AuthorizeResponse>> {
    let req = Authorize::parse(req, &state.settings.policy)?;
    Ok(Json(views::authorized(authorize::authorize(&state, caller, req).await?)))
}

/// Approvals, newest first (admins).
#[utoipa::path(get, path = "/v1/approvals", operation_id = "list_approvals", tag = "policy", security(("bearer" = [])), params(ApprovalQuery),
    responses((status = 200, body = ApprovalList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_approvals(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<ApprovalQuery>,
) -> ApiResult<Json<ApprovalList>> {
    Ok(Json(views::approvals(&approvals::list(&state, &caller, query).await?)))
}

/// Approve a pending request (admins; not your own).
#[utoipa::path(post, path = "/v1/approvals/{id}/approve", operation_id = "approve_approval", tag = "policy", security(("bearer" = [])),
    params(("id" = String, Path, description = "approval id, apr_…")),
    responses((status = 200, body = Approval), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(views::approval_as_of(&approvals::decide(&state, &caller, &id, Decide::approve()).await?)))
}

/// Deny a pending request (admins; not your own).
#[utoipa::path(post, path = "/v1/approvals/{id}/deny", operation_id = "deny_approval", tag = "policy", security(("bearer" = [])),
    params(("id" = String, Path, description = "approval id, apr_…")), request_body = Option<DecideRequest>,
    responses((status = 200, body = Approval), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deny(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<String>,
    OptionalJson(body): OptionalJson<DecideRequest>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(views::approval_as_of(&approvals::decide(&state, &caller, &id, Decide::deny(body)).await?)))
}

/// Mint a signed agent token (needs `ward:mint`); shown once.
#[utoipa::path(post, path = "/v1/mint", operation_id = "mint_token", tag = "agents", security(("bearer" = [])), request_body = MintRequest,
    responses((status = 201, body = Minted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn mint_token(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<MintRequest>,
) -> ApiResult<(StatusCode, Json<Minted>)> {
    let new = NewMint::parse(req, &state.settings.catalog, state.settings.mint.max_ttl)?;
    let minted = mint::mint(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(views::minted(&minted))))
}

/// Minted tokens, newest first (needs `ward:mint`).
#[utoipa::path(get, path = "/v1/mint", operation_id = "list_minted_tokens", tag = "agents", security(("bearer" = [])), params(MintedQuery),
    responses((status = 200, body = MintedList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_minted(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<MintedQuery>,
) -> ApiResult<Json<MintedList>> {
    Ok(Json(views::minted_list(&mint::list(&state, &caller, query).await?)))
}

/// Revoke one minted token by `jti`, or all of an agent's issued so far.
#[utoipa::path(post, path = "/v1/mint/revoke", operation_id = "revoke_minted_tokens", tag = "agents", security(("bearer" = [])), request_body = MintRevokeRequest,
    responses((status = 200, body = RevokedCount), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revoke_minted(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<MintRevokeRequest>,
) -> ApiResult<Json<RevokedCount>> {
    let revoked = mint::revoke(&state, &caller, MintRevoke::try_from(req)?).await?;
    Ok(Json(RevokedCount { revoked }))
}

/// Signing keys (needs `ward:mint`).
#[utoipa::path(get, path = "/v1/keys", operation_id = "list_signing_keys", tag = "agents", security(("bearer" = [])),
    responses((status = 200, body = SigningKeyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_keys(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<SigningKeyList>> {
    Ok(Json(views::keys(mint::keys(&state, &caller).await?)))
}

/// Add a signing key; older keys keep verifying (admins).
#[utoipa::path(post, path = "/v1/keys/rotate", operation_id = "rotate_signing_key", tag = "agents", security(("bearer" = [])),
    responses((status = 201, body = SigningKeyInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn rotate_key(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<(StatusCode, Json<SigningKeyInfo>)> {
    Ok((StatusCode::CREATED, Json(views::key(mint::rotate(&state, &caller).await?))))
}

/// Retire a signing key: every token it signed stops verifying (admins).
#[utoipa::path(post, path = "/v1/keys/{kid}/retire", operation_id = "retire_signing_key", tag = "agents", security(("bearer" = [])),
    params(("kid" = String, Path, description = "key id, key_…")),
    responses((status = 200, body = SigningKeyInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retire_key(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiPath(kid): ApiPath<String>,
) -> ApiResult<Json<SigningKeyInfo>> {
    Ok(Json(views::key(mint::retire(&state, &caller, &kid).await?)))
}

/// The public keys that verify agent tokens (RFC 7517), no credentials needed.
#[utoipa::path(get, path = "/.well-known/jwks.json", operation_id = "jwks", tag = "agents",
    responses((status = 200, description = "a JWK set of Ed25519 (OKP) keys")))]
pub async fn jwks(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    mint::jwks(&state).await.map(Json)
}
