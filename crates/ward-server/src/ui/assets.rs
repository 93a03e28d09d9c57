//! The dashboard's stylesheet and script, compiled into the binary
//! (`crates/ward-server/assets/`): no build step, nothing fetched at run
//! time, and the CSP allows scripts and styles from `'self'` only.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../assets/ward.css");
const JS: &str = include_str!("../../assets/ward.js");

/// `GET /ui/assets/{name}`: `ward.css` or `ward.js`; 404 for anything else.
pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "ward.css" => (CSS, "text/css; charset=utf-8"),
        "ward.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
