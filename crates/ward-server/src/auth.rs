//! The `Auth` extractor: who is calling, from `Authorization: Bearer …`.
//!
//! Every route except `/healthz`, `/openapi.json` and `/v1/login` takes an
//! `Auth`, so a handler cannot forget to authenticate. What the caller may do
//! is then decided by `ward_core::policy` at the top of the handler's
//! authority function.

use crate::audit::AuditEvent;
use crate::authority::check::{Check, check};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use ward_core::Caller;
use zeroize::Zeroizing;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = bearer(parts)?;
        let verdict = check(state, presented).await?;
        let event = AuditEvent::new("token.use").operation(operation(parts));
        let event = match verdict.found() {
            Some(found) => event.subject(&found.subject).token(&found.token_id),
            None => event,
        };
        match verdict {
            Check::Valid { caller, .. } => {
                state.audit.emit_use(event.decision("VALID"));
                Ok(Auth(caller))
            }
            refused => {
                state.audit.emit_use(event.decision(refused.code()).error(refused.refusal()));
                Err(ApiError::InvalidToken(refused.refusal()))
            }
        }
    }
}

/// What a use is counted under: the method and the matched route
/// *template* (`GET /v1/tokens/{id}`), never the raw path, so requests to
/// any number of distinct paths share one counter per route and verdict;
/// a request that matched no route counts as one bucket.
fn operation(parts: &Parts) -> String {
    let route = parts.extensions.get::<MatchedPath>().map_or("(unmatched route)", MatchedPath::as_str);
    format!("{} {route}", parts.method)
}

/// The bearer token as presented, for a handler that checks it again while
/// it runs (the revocation stream ends when it ends). Extract it after
/// [`Auth`], which has checked it; held zeroized.
pub struct Presented(pub Zeroizing<String>);

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Presented(…)")
    }
}

impl FromRequestParts<AppState> for Presented {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        bearer(parts).map(|token| Presented(Zeroizing::new(token.to_owned())))
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Err(ApiError::MissingToken);
    };
    let value =
        value.to_str().map_err(|_| ApiError::InvalidToken("the Authorization header is not valid text"))?;
    let (scheme, token) =
        value.split_once(' ').ok_or(ApiError::InvalidToken("use Authorization: Bearer <token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::InvalidToken("use the Bearer scheme: Authorization: Bearer <token>"));
    }
    Ok(token.trim())
}
