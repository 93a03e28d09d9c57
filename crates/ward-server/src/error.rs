//! The one place where failures become HTTP responses.
//!
//! Policy: every error body is `{"error":{"code","message"}}` with a stable
//! `code` and a message that says what to do next — extractor rejections
//! (415 for a body that is not JSON, 413 for one over [`MAX_BODY`]) and the
//! router's own answers (404 for no such route, 405 for a method the route
//! does not take, through [`no_route`] and [`wrong_method`]) included. 401
//! and 403 carry an RFC 6750 `WWW-Authenticate` header. A 5xx is logged once, here, with its
//! detail; the client sees only that it happened. No message ever contains a
//! token or a password: the types that hold them cannot be formatted.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ward_api::{ErrorBody, ErrorDetail};
use ward_core::Denied;
use ward_store::StoreError;

/// The largest request body read; every request ward takes is far smaller.
pub const MAX_BODY: usize = 64 * 1024;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token was sent.
    #[error("authentication required: send Authorization: Bearer <token> (run `ward login`)")]
    MissingToken,
    /// A token was sent but is malformed, unknown, expired or revoked.
    #[error("{0}")]
    InvalidToken(&'static str),
    #[error("invalid username or password")]
    BadCredentials,
    #[error(transparent)]
    Forbidden(#[from] Denied),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A route this server's config leaves off; the message names the key.
    #[error("{0}")]
    NotConfigured(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// The request body or query could not be read as JSON of the right shape.
    #[error("{0}")]
    BadRequest(String),
    /// A body sent with no content type, or one other than JSON.
    #[error("{0}; send the body as JSON with Content-Type: application/json")]
    UnsupportedMediaType(String),
    /// A body over [`MAX_BODY`].
    #[error("the request body is larger than {} KiB; no ward request needs that much", MAX_BODY / 1024)]
    PayloadTooLarge,
    /// A path the router does not serve.
    #[error("no such route; GET /openapi.json lists every route this server answers")]
    NoRoute,
    /// A route asked with a method it does not take.
    #[error("this route does not take that method; the Allow header lists those it does")]
    WrongMethod,
    /// Well-formed input that breaks a rule (unknown scope, bad duration …).
    #[error("{0}")]
    Unprocessable(String),
    #[error("too many failed logins; try again in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    /// Too many password checks at once; the bound of `crate::password`.
    #[error("the server is busy checking passwords; try again in {retry_after} seconds")]
    Busy { retry_after: u64 },
    /// HTTP Basic client credentials (a service user's name and key) that
    /// do not match (`POST /oauth/introspect`).
    #[error("invalid client credentials: use a service user's name and key, or a bearer token")]
    InvalidClient,
    /// Too many calls from one client address (`crate::rate`).
    #[error("too many requests from this address; try again in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// A token used beyond its own `--rate` (`crate::token_rate`).
    #[error("this token is over its rate limit of {rate}; try again in {retry_after} seconds")]
    TokenRateLimited { rate: String, retry_after: u64 },
    #[error("the database is unavailable; try again shortly")]
    Unavailable(String),
    /// `GET /v1/events` beyond `[events] max_subscribers`.
    #[error(
        "this node already serves {max} event-stream subscribers ([events] max_subscribers); subscribe to another node, retry later, or raise the limit"
    )]
    TooManySubscribers { max: usize },
    #[error("internal error")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingToken
            | ApiError::InvalidToken(_)
            | ApiError::BadCredentials
            | ApiError::InvalidClient => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NotConfigured(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::WrongMethod => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. }
            | ApiError::RateLimited { .. }
            | ApiError::TokenRateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Busy { .. } | ApiError::TooManySubscribers { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MissingToken | ApiError::InvalidToken(_) => "invalid_token",
            ApiError::BadCredentials => "invalid_credentials",
            ApiError::Forbidden(_) => "insufficient_scope",
            ApiError::NotFound(_) | ApiError::NoRoute => "not_found",
            ApiError::NotConfigured(_) => "not_configured",
            ApiError::Conflict(_) => "conflict",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::WrongMethod => "method_not_allowed",
            ApiError::Unprocessable(_) => "invalid_request",
            ApiError::TooManyRequests { .. } | ApiError::RateLimited { .. } => "too_many_requests",
            ApiError::TokenRateLimited { .. } => "rate_limited",
            ApiError::InvalidClient => "invalid_client",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Busy { .. } => "busy",
            ApiError::TooManySubscribers { .. } => "too_many_subscribers",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Shorthand for a 422 from any displayable validation error.
    pub fn invalid(e: impl std::fmt::Display) -> Self {
        ApiError::Unprocessable(e.to_string())
    }

    fn www_authenticate(&self) -> Option<String> {
        match self {
            ApiError::MissingToken => Some(r#"Bearer realm="ward""#.to_owned()),
            ApiError::InvalidClient => Some(r#"Basic realm="ward""#.to_owned()),
            ApiError::InvalidToken(why) => {
                Some(format!(r#"Bearer realm="ward", error="invalid_token", error_description="{why}""#))
            }
            ApiError::Forbidden(denied) => Some(match denied.missing_scope() {
                Some(scope) => format!(r#"Bearer realm="ward", error="insufficient_scope", scope="{scope}""#),
                None => r#"Bearer realm="ward", error="insufficient_scope""#.to_owned(),
            }),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(error.detail = %detail, "request failed");
                "internal error; the server log has the details".to_owned()
            }
            ApiError::Unavailable(detail) => {
                tracing::error!(error.detail = %detail, "database unavailable");
                self.to_string()
            }
            other => other.to_string(),
        };
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message } };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(value) = self.www_authenticate().and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        if let ApiError::TooManyRequests { retry_after }
        | ApiError::Busy { retry_after }
        | ApiError::RateLimited { retry_after }
        | ApiError::TokenRateLimited { retry_after, .. } = self
        {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("record"),
            StoreError::Conflict(msg) => ApiError::Conflict(msg),
            StoreError::Backend(detail) => ApiError::Unavailable(detail),
            StoreError::Corrupt(detail) => ApiError::Internal(detail),
            StoreError::IssuerEnded => ApiError::InvalidToken(
                "the token making this request was revoked while it ran; nothing was issued",
            ),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                ApiError::Unprocessable(format!("invalid request body: {}", redact_values(&e.body_text())))
            }
            JsonRejection::MissingJsonContentType(e) => ApiError::UnsupportedMediaType(e.body_text()),
            JsonRejection::BytesRejection(e) => ApiError::from(e),
            other => ApiError::BadRequest(format!(
                "{}; send a JSON body with Content-Type: application/json",
                other.body_text()
            )),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(r.body_text())
        }
    }
}

/// The router's fallback: a path no route serves (404, ward's error body).
pub async fn no_route() -> ApiError {
    ApiError::NoRoute
}

/// The router's fallback for a route asked with a method it does not take
/// (405, ward's error body; axum adds the `Allow` header).
pub async fn wrong_method() -> ApiError {
    ApiError::WrongMethod
}

/// Replaces quoted input values in a deserializer message with `…`, so that a
/// value sent in the wrong field (a password where a number belongs) is not
/// echoed back.
pub(crate) fn redact_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None if c == '`' || c == '"' => {
                out.push(c);
                open = Some(c);
            }
            None => out.push(c),
        }
    }
    out
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::Unprocessable(redact_values(&r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializer_messages_lose_the_values_they_quote() {
        let msg = "password: invalid type: integer `12345678`, expected a string at line 1";
        assert_eq!(redact_values(msg), "password: invalid type: integer `…`, expected a string at line 1");
        assert_eq!(redact_values(r#"unknown variant "sekret""#), r#"unknown variant "…""#);
    }
}
