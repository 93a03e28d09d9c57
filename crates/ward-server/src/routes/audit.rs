//! `GET /v1/audit` and `GET /v1/audit/verify`.

use crate::audit::read;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use ward_api::{AuditList, AuditQuery, AuditVerifyResponse, ErrorBody};

/// Search the audit trail, newest first (needs `ward:audit`).
#[utoipa::path(get, path = "/v1/audit", operation_id = "search_audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditList>> {
    read::search(&state, &caller, query).await.map(Json)
}

/// Check the hash chain; names the first event changed, removed or
/// reordered (needs `ward:audit`). Always 200: read `ok`.
#[utoipa::path(get, path = "/v1/audit/verify", operation_id = "verify_audit", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerifyResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<AuditVerifyResponse>> {
    read::verify(&state, &caller).await.map(Json)
}
