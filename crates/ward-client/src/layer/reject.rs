//! Every refusal the layer answers, in ward's own shape: RFC 6750
//! `WWW-Authenticate` on 401 and 403, `{"error":{"code","message"}}` as
//! the body, and 503 with `Retry-After` when the Verifier cannot judge.

use crate::VerifyError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ward_api::{ErrorBody, ErrorDetail};

/// The realm in every challenge.
const REALM: &str = "ward";

fn answer(status: StatusCode, code: &str, message: String, challenge: Option<String>) -> Response {
    let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message } };
    let mut response = (status, Json(body)).into_response();
    if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// A refusal decided before anything was asked, kept small until it is
/// answered (a `Response` is too large to pass around in a `Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Early {
    /// No bearer token.
    Missing,
    /// An `Authorization` header that is not one bearer token.
    BadRequest(&'static str),
    /// The route is not behind the VerifyLayer.
    NotLayered,
}

impl Early {
    pub(crate) fn response(self) -> Response {
        match self {
            Early::Missing => missing(),
            Early::BadRequest(why) => bad_request(why),
            Early::NotLayered => not_layered(),
        }
    }
}

/// 401, no token presented: a bare challenge (RFC 6750 §3.1).
pub(crate) fn missing() -> Response {
    answer(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "this service needs a ward token: send Authorization: Bearer <token>".into(),
        Some(format!(r#"Bearer realm="{REALM}""#)),
    )
}

/// 400, an Authorization header that is not one bearer token.
pub(crate) fn bad_request(why: &str) -> Response {
    answer(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        why.to_owned(),
        Some(format!(r#"Bearer realm="{REALM}", error="invalid_request""#)),
    )
}

/// 401 for a bad token, 503 when the Verifier cannot judge it now.
pub(crate) fn refused(err: &VerifyError) -> Response {
    if err.is_invalid_token() {
        return invalid(&err.to_string());
    }
    unavailable(&err.to_string())
}

/// 401, the token is no good: `why` becomes the challenge's description.
pub(crate) fn invalid(why: &str) -> Response {
    let description: String = why.chars().filter(|c| *c != '"' && *c != '\\').collect();
    answer(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        why.to_owned(),
        Some(format!(r#"Bearer realm="{REALM}", error="invalid_token", error_description="{description}""#)),
    )
}

/// 503: try again shortly.
pub(crate) fn unavailable(why: &str) -> Response {
    let mut response = answer(StatusCode::SERVICE_UNAVAILABLE, "unavailable", why.to_owned(), None);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// 403, a scope is missing: the challenge names what is needed.
pub(crate) fn insufficient_scope(needed: &[&str]) -> Response {
    let scope = needed.join(" ");
    answer(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        format!("this route needs the scope(s) {scope}: use a token that holds them"),
        Some(format!(r#"Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}""#)),
    )
}

/// 403, ward said `deny` or `approval_required` for an operation.
pub(crate) fn denied(code: &str, reason: String, approval_id: Option<&str>) -> Response {
    let mut response = answer(
        StatusCode::FORBIDDEN,
        code,
        reason,
        Some(format!(r#"Bearer realm="{REALM}", error="insufficient_scope""#)),
    );
    if let Some(value) = approval_id.and_then(|id| HeaderValue::from_str(id).ok()) {
        response.headers_mut().insert(super::APPROVAL_HEADER, value);
    }
    response
}

/// 500: a route asks for the principal but the [`super::VerifyLayer`] does
/// not run in front of it. Refuses rather than serve unauthenticated.
pub(crate) fn not_layered() -> Response {
    answer(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "this route is not behind ward_client::layer::VerifyLayer".into(),
        None,
    )
}
