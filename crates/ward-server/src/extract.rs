//! Extractors whose rejections render as ward's JSON errors.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts};

/// A JSON body; a bad one is a 400/422 in ward's error shape.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A query string; a bad one is a 422 in ward's error shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A path parameter; a bad one is a 400 in ward's error shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// A JSON body that may be left out entirely, or sent as `null` (then
/// `T::default()`).
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = is_json(req.headers());
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(ApiError::from)?;
        if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
            return Ok(Self(T::default()));
        }
        if !json {
            return Err(ApiError::UnsupportedMediaType(
                "Expected request with `Content-Type: application/json`".into(),
            ));
        }
        serde_json::from_slice(&bytes).map(Self).map_err(|e| {
            ApiError::invalid(format!(
                "invalid request body: {}",
                crate::error::redact_values(&e.to_string())
            ))
        })
    }
}

/// Whether the request says its body is JSON: `application/json` or
/// `application/…+json`, parameters (`; charset=utf-8`) allowed — what
/// axum's `Json` accepts.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::is_json;
    use axum::http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};

    fn with(ct: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        h
    }

    #[test]
    fn json_content_types_are_recognised_with_or_without_parameters() {
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(is_json(&with(ct)), "{ct}");
        }
        for ct in ["text/plain", "application/x-www-form-urlencoded", "json", "text/json"] {
            assert!(!is_json(&with(ct)), "{ct}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
