//! The `Auth` extractor: who is calling, from `Authorization: Bearer …`.
//!
//! Every route except `/healthz`, `/openapi.json` and `/v1/login` takes an
//! `Auth`, so a handler cannot forget to authenticate. What the caller may do
//! is then decided by `ward_core::policy` at the top of the handler's
//! authority function.

use crate::audit::AuditEvent;
use crate::authority::check::{Check, check};
use crate::authority::principal;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use ward_core::Caller;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = bearer(parts)?;
        match check(state, presented).await? {
            Check::Valid { found, scopes } => {
                state.audit.emit(
                    AuditEvent::new("token.use")
                        .subject(&found.owner.name)
                        .token(&found.token.id)
                        .operation(format!("{} {}", parts.method, parts.uri.path())),
                );
                Ok(Auth(Caller {
                    principal: principal(&found.owner),
                    token_id: found.token.id,
                    token_kind: found.token.kind,
                    scopes,
                }))
            }
            refused => {
                let event = AuditEvent::new("token.use").decision(refused.code()).error(refused.refusal());
                state.audit.emit(match refused.token_id() {
                    Some(id) => event.token(id),
                    None => event,
                });
                Err(ApiError::InvalidToken(refused.refusal()))
            }
        }
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
