//! `GET /v1/forward-auth`: the endpoint a reverse proxy asks before it
//! passes a request on (nginx `auth_request`, Traefik `forwardAuth`, Caddy
//! `forward_auth`; `docs/proxies.md`). 2xx only on allow.
//!
//! The original request comes from `X-Original-Method` / `X-Original-URI`
//! (nginx) or `X-Forwarded-Method` / `X-Forwarded-Uri` (Traefik, Caddy).
//! A proxy passes its client's headers on too, so a client could send the
//! other proxy's pair: every value present must agree, or the request is
//! refused (400) rather than judged by the one the client chose.

use crate::auth::Auth;
use crate::authority::forward::{self, Forwarded, Original, OriginalError};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ward_api::{ErrorBody, ErrorDetail, ForwardRefusal};
use ward_core::operation::Decision;

/// On allow: who the token belongs to (owner or agent).
pub const SUBJECT: HeaderName = HeaderName::from_static("x-ward-subject");
/// On allow: the token's id.
pub const TOKEN_ID: HeaderName = HeaderName::from_static("x-ward-token-id");
/// On allow: the token's effective scopes, space-separated.
pub const SCOPES: HeaderName = HeaderName::from_static("x-ward-scopes");
/// On allow: the operation the request mapped to.
pub const OPERATION: HeaderName = HeaderName::from_static("x-ward-operation");
/// In: an approval to spend. Out, on a 403: the approval opened or pending.
pub const APPROVAL: HeaderName = HeaderName::from_static("x-ward-approval");
/// In: `true` confirms an `auto_approve` operation.
pub const AUTO_APPROVE: HeaderName = HeaderName::from_static("x-ward-auto-approve");

/// The original request, from the proxy's headers.
pub struct OriginalRequest(pub Original);

/// The one value every header of `names` agrees on; `Ok(None)` when none
/// is present.
fn agreed<'a>(headers: &'a HeaderMap, names: &[&str]) -> Result<Option<&'a str>, OriginalError> {
    let mut seen: Option<&str> = None;
    for name in names {
        for value in headers.get_all(*name) {
            let value = value.to_str().map_err(|_| OriginalError::Ambiguous)?;
            match seen {
                Some(s) if s != value => return Err(OriginalError::Ambiguous),
                _ => seen = Some(value),
            }
        }
    }
    Ok(seen)
}

fn original(headers: &HeaderMap) -> Result<Original, OriginalError> {
    let method = agreed(headers, &["x-original-method", "x-forwarded-method"])?;
    let uri = agreed(headers, &["x-original-uri", "x-forwarded-uri"])?;
    let (Some(method), Some(uri)) = (method, uri) else {
        return Err(OriginalError::Missing);
    };
    let approval = agreed(headers, &[APPROVAL.as_str()])?.map(str::to_owned);
    if approval.as_ref().is_some_and(|a| a.len() > ward_api::bounds::NAME) {
        return Err(OriginalError::BadApproval);
    }
    let auto = agreed(headers, &[AUTO_APPROVE.as_str()])?.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Original::parse(method, uri, approval, auto)
}

impl FromRequestParts<AppState> for OriginalRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        original(&parts.headers).map(Self).map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}

/// Allowed (2xx) only when the decision for the original request is allow.
#[utoipa::path(get, path = "/v1/forward-auth", tag = "proxy", operation_id = "forward_auth", security(("bearer" = [])),
    params(
        ("X-Original-Method" = Option<String>, Header, pattern = "^[A-Za-z]{1,16}$", description = "the original method (nginx); or X-Forwarded-Method"),
        ("X-Original-URI" = Option<String>, Header, pattern = "^/", description = "the original path and query (nginx); or X-Forwarded-Uri. A path that is not canonical (a `.` or `..` or empty segment, an encoded `/`, `\\` or `.`) is denied (403)"),
        ("X-Forwarded-Method" = Option<String>, Header, pattern = "^[A-Za-z]{1,16}$", description = "the original method (Traefik, Caddy)"),
        ("X-Forwarded-Uri" = Option<String>, Header, pattern = "^/", description = "the original path and query (Traefik, Caddy); canonical, as X-Original-URI"),
        ("X-Ward-Approval" = Option<String>, Header, description = "an approved approval (apr_…) to spend"),
        ("X-Ward-Auto-Approve" = Option<String>, Header, description = "`true` confirms an auto_approve operation"),
    ),
    responses(
        (status = 200, description = "allow: pass the request on", headers(
            ("X-Ward-Subject" = String, description = "the token's owner, or its agent"),
            ("X-Ward-Token-Id" = String, description = "the token's id, tok_…"),
            ("X-Ward-Scopes" = String, description = "the token's effective scopes, space-separated"),
            ("X-Ward-Operation" = String, description = "the operation the request mapped to (absent for an unmapped path let through)"))),
        (status = 400, body = ErrorBody, description = "the proxy sent no original method and URI, or values that disagree"),
        (status = 401, body = ErrorBody, description = "missing, malformed, unknown, expired or revoked token"),
        (status = 403, body = ForwardRefusal, description = "deny, approval_required (X-Ward-Approval names the approval), or a missing scope")))]
pub async fn forward_auth(
    State(state): State<AppState>,
    Auth(caller): Auth,
    OriginalRequest(original): OriginalRequest,
) -> ApiResult<Response> {
    Ok(render(forward::forward(&state, caller, original).await?))
}

fn header(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

fn render(answer: Forwarded) -> Response {
    match answer {
        Forwarded::Allow { subject, operation } => {
            let mut scopes = String::new();
            for scope in &subject.scopes {
                if !scopes.is_empty() {
                    scopes.push(' ');
                }
                scopes.push_str(scope.as_str());
            }
            let mut headers = HeaderMap::new();
            let values = [
                (SUBJECT, header(&subject.principal.name)),
                (TOKEN_ID, header(subject.token_id.as_str())),
                (SCOPES, header(&scopes)),
                (OPERATION, operation.as_deref().and_then(header)),
            ];
            for (name, value) in values {
                if let Some(value) = value {
                    headers.insert(name, value);
                }
            }
            (StatusCode::OK, headers).into_response()
        }
        Forwarded::Refuse { decision, operation, approval_id } => {
            let code = match decision {
                Decision::NeedsApproval(_) | Decision::ApprovalRequired(_) => "approval_required",
                Decision::Allow(_) | Decision::Deny(_) => "access_denied",
            };
            let body = ForwardRefusal {
                error: ErrorDetail { code: code.to_owned(), message: decision.reason().to_owned() },
                decision: Some(decision.as_str().to_owned()),
                operation,
                approval_id: approval_id.clone(),
            };
            let mut response = (StatusCode::FORBIDDEN, Json(body)).into_response();
            if let Some(value) = approval_id.as_deref().and_then(header) {
                response.headers_mut().insert(APPROVAL, value);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for &(k, v) in pairs {
            h.append(k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn nginx_and_traefik_headers_are_both_read() {
        let nginx = original(&headers(&[("x-original-method", "POST"), ("x-original-uri", "/a?b")]));
        assert_eq!(nginx.map(|o| (o.method, o.path)), Ok(("POST".into(), "/a".into())));
        let traefik = original(&headers(&[("x-forwarded-method", "get"), ("x-forwarded-uri", "/a")]));
        assert_eq!(traefik.map(|o| o.method), Ok("GET".into()));
    }

    #[test]
    fn headers_that_disagree_or_are_missing_are_refused() {
        let smuggled = headers(&[
            ("x-forwarded-method", "POST"),
            ("x-forwarded-uri", "/reboot"),
            ("x-original-method", "GET"),
            ("x-original-uri", "/containers"),
        ]);
        assert_eq!(original(&smuggled), Err(OriginalError::Ambiguous));
        let twice =
            headers(&[("x-original-method", "GET"), ("x-original-uri", "/a"), ("x-original-uri", "/b")]);
        assert_eq!(original(&twice), Err(OriginalError::Ambiguous));
        assert_eq!(original(&headers(&[("x-original-method", "GET")])), Err(OriginalError::Missing));
        let same = headers(&[
            ("x-original-method", "GET"),
            ("x-forwarded-method", "GET"),
            ("x-original-uri", "/a"),
            ("x-forwarded-uri", "/a"),
        ]);
        assert!(original(&same).is_ok());
    }
}
