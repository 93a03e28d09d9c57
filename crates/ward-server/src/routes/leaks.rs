//! `POST /v1/leaks`: report leaked tokens to end them (`ward scan --revoke`).

use super::views;
use crate::audit::context::ClientAddr;
use crate::authority::leaks;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use ward_api::{ErrorBody, LeakReport, LeakResults};

/// Report leaked tokens: each one of this server's is revoked (with what it
/// obtained) and its owner told. No credential: holding the token is the
/// authority to end it (as RFC 7009); each token counts against the
/// client address's `[leaks] per_minute`.
#[utoipa::path(post, path = "/v1/leaks", operation_id = "report_leaks", tag = "tokens", request_body = LeakReport,
    responses((status = 200, body = LeakResults),
        (status = 422, body = ErrorBody, description = "no tokens, or more than 100"),
        (status = 429, body = ErrorBody, description = "too many reports from this address; see Retry-After")))]
pub async fn report(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(report): ApiJson<LeakReport>,
) -> ApiResult<Json<LeakResults>> {
    let reported = leaks::report(&state, client, &report.leaks).await?;
    Ok(Json(views::leak_results(&reported)))
}
