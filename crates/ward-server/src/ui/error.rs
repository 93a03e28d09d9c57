//! How a failed page answers: the API's [`ApiError`] rendered as an HTML
//! page with the same status and message (which never holds a token or a
//! password), a missing or ended session as a redirect to the sign-in
//! page, and a bad CSRF token as a 403 before anything was done.

use super::layout;
use crate::error::ApiError;
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use maud::html;

/// Every way a page can fail.
#[derive(Debug)]
pub enum UiError {
    /// No session cookie, or one whose session has ended: sign in again.
    SignIn,
    /// A state-changing form without the right CSRF token.
    Csrf,
    /// What the authority function refused, as the API would.
    Api(ApiError),
}

pub type UiResult<T> = Result<T, UiError>;

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::MissingToken | ApiError::InvalidToken(_) => UiError::SignIn,
            other => UiError::Api(other),
        }
    }
}

impl From<ward_core::Denied> for UiError {
    fn from(d: ward_core::Denied) -> Self {
        UiError::Api(ApiError::Forbidden(d))
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn => {
                let mut r = StatusCode::SEE_OTHER.into_response();
                r.headers_mut().insert(LOCATION, axum::http::HeaderValue::from_static("/ui/login"));
                r.headers_mut().insert(SET_COOKIE, super::cookie::clear_session());
                r
            }
            UiError::Csrf => page(
                StatusCode::FORBIDDEN,
                "Refused",
                "This form is missing its security token or has an old one, so nothing was changed. \
                 Open the page again and resubmit.",
            ),
            UiError::Api(e) => {
                let status = e.status();
                let message = match &e {
                    ApiError::Internal(detail) => {
                        tracing::error!(error.detail = %detail, "dashboard request failed");
                        "Internal error; the server log has the details.".to_owned()
                    }
                    ApiError::Unavailable(detail) => {
                        tracing::error!(error.detail = %detail, "database unavailable");
                        e.to_string()
                    }
                    other => other.to_string(),
                };
                let title = match status {
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::CONFLICT => "Conflict",
                    StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "Check the form",
                    StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
                    _ => "Error",
                };
                page(status, title, &message)
            }
        }
    }
}

/// A bare error page (no navigation: the session may be gone).
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        div.error role="alert" {
            h1 { (title) }
            p { (message) }
            p { a href="/ui/tokens" { "Back to the dashboard" } }
        }
    };
    (status, layout::document(title, None, body)).into_response()
}
