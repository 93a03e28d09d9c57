//! `/v1/idle-tokens…`: the idle-token policy (`authority::lifecycle`).

use super::views;
use crate::auth::Auth;
use crate::authority::input::IdleQuery;
use crate::authority::lifecycle;
use crate::error::ApiResult;
use crate::extract::{ApiQuery, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use ward_api::{ErrorBody, IdleRequest, IdleTokens};

/// The tokens the idle policy would revoke now (admins): a dry run.
#[utoipa::path(get, path = "/v1/idle-tokens", operation_id = "list_idle_tokens", tag = "tokens", security(("bearer" = [])), params(IdleRequest),
    responses((status = 200, body = IdleTokens), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "no threshold given or configured, or a bad duration")))]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<IdleRequest>,
) -> ApiResult<Json<IdleTokens>> {
    let found = lifecycle::idle(&state, &caller, IdleQuery::try_from(query)?).await?;
    Ok(Json(views::idle_tokens(&state, &found)))
}

/// Revoke the idle tokens (admins), one `token.revoke` audit event each.
#[utoipa::path(post, path = "/v1/idle-tokens/revoke", operation_id = "revoke_idle_tokens", tag = "tokens", security(("bearer" = [])),
    request_body = Option<IdleRequest>,
    responses((status = 200, body = IdleTokens), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "no threshold given or configured, or a bad duration")))]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(caller): Auth,
    OptionalJson(body): OptionalJson<IdleRequest>,
) -> ApiResult<Json<IdleTokens>> {
    let revoked = lifecycle::revoke_idle(&state, &caller, IdleQuery::try_from(body)?).await?;
    Ok(Json(views::idle_tokens(&state, &revoked)))
}
