//! `POST /oauth/introspect` (RFC 7662), `POST /oauth/revoke` (RFC 7009)
//! and `GET /.well-known/oauth-authorization-server` (RFC 8414); see
//! `docs/oauth.md`.
//!
//! Introspection authenticates its caller in an extractor that runs before
//! the body is read ([`Introspector`]): nothing of the presented token is
//! looked at for a caller that is not allowed to ask.

use super::views;
use crate::audit::context::ClientAddr;
use crate::auth::Auth;
use crate::authority::oauth::{self, Client};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ward_api::{ErrorBody, Introspection, ServerMetadata, TokenForm};
use ward_core::Caller;
use zeroize::Zeroizing;

/// The introspection caller: a bearer token, or HTTP Basic with a service
/// user's name and key; either must hold `ward:introspect`.
pub struct Introspector(pub Caller);

impl FromRequestParts<AppState> for Introspector {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let basic = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, value)| value.trim().to_owned());
        let caller = match basic {
            None => {
                let Auth(caller) = Auth::from_request_parts(parts, state).await?;
                oauth::authenticate(state, Client::Bearer(caller)).await?
            }
            Some(encoded) => {
                let decoded = Zeroizing::new(B64.decode(encoded).map_err(|_| ApiError::InvalidClient)?);
                let text = std::str::from_utf8(&decoded).map_err(|_| ApiError::InvalidClient)?;
                let (name, key) = text.split_once(':').ok_or(ApiError::InvalidClient)?;
                oauth::authenticate(state, Client::Basic { name, key }).await?
            }
        };
        Ok(Self(caller))
    }
}

/// The form body of both endpoints; a bad one is a 400 in ward's shape.
pub struct Form(pub TokenForm);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<TokenForm>::from_request(req, state).await {
            Ok(axum::Form(form)) => Ok(Self(form)),
            Err(FormRejection::InvalidFormContentType(_)) => Err(ApiError::BadRequest(
                "send the token as a form: Content-Type: application/x-www-form-urlencoded, body token=…"
                    .into(),
            )),
            Err(_) => Err(ApiError::BadRequest("the form body needs a token=… field".into())),
        }
    }
}

/// Is this token active, and what is it? Exactly `{"active":false}` for
/// anything that is not a valid token.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth", operation_id = "oauth_introspect",
    security(("bearer" = []), ("basic" = [])),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Introspection),
        (status = 400, body = ErrorBody, description = "no form body with a token"),
        (status = 401, body = ErrorBody, description = "the caller's bearer token or Basic credentials are not valid"),
        (status = 403, body = ErrorBody, description = "the caller lacks ward:introspect")))]
pub async fn introspect(
    State(state): State<AppState>,
    Introspector(caller): Introspector,
    Form(form): Form,
) -> ApiResult<Json<Introspection>> {
    let found = oauth::introspect(&state, &caller, &form.token).await?;
    Ok(Json(views::introspection(&state, found)))
}

/// Revoke a token you hold (possession is enough). 200 whatever the token
/// was, unknown ones included.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth", operation_id = "oauth_revoke",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "revoked, or nothing to revoke"),
        (status = 400, body = ErrorBody, description = "no form body with a token"),
        (status = 429, body = ErrorBody, description = "too many revocations from this address; see Retry-After")))]
pub async fn revoke(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Form(form): Form,
) -> ApiResult<()> {
    oauth::revoke(&state, client, &form.token).await
}

/// Where the OAuth endpoints and keys are, for clients that discover them.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth", operation_id = "oauth_metadata",
    responses((status = 200, body = ServerMetadata),
        (status = 404, body = ErrorBody, description = "no [server] issuer is configured")))]
pub async fn metadata(State(state): State<AppState>) -> ApiResult<Json<ServerMetadata>> {
    let issuer = state.settings.issuer.as_ref().ok_or(ApiError::NotConfigured(
        "OAuth metadata needs an issuer: set [server] issuer = \"https://…\" in the server config",
    ))?;
    let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Ok(Json(ServerMetadata {
        issuer: issuer.as_str().to_owned(),
        jwks_uri: issuer.join("/.well-known/jwks.json"),
        introspection_endpoint: issuer.join("/oauth/introspect"),
        introspection_endpoint_auth_methods_supported: strings(&["client_secret_basic", "bearer"]),
        revocation_endpoint: issuer.join("/oauth/revoke"),
        revocation_endpoint_auth_methods_supported: strings(&["none"]),
        response_types_supported: Vec::new(),
        grant_types_supported: Vec::new(),
        scopes_supported: state.settings.catalog.all().iter().map(ToString::to_string).collect(),
    }))
}
