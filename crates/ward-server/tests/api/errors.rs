//! Every refusal answers the same JSON error body, with the status that
//! names what was wrong: 415 for a body that is not JSON, 413 for one that
//! is too large, 404 for a route that does not exist, 405 for a method a
//! route does not take.

use crate::helpers::TestApp;
use reqwest::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// What came back: status, headers and the body read as JSON.
struct Raw {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

/// Sends `body` as it is, with `content_type` if given.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Raw {
    let mut req = app.http.request(method, format!("{}{}", app.base, path)).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header(CONTENT_TYPE, ct);
    }
    let resp = req.send().await.expect("request reaches the server");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not a JSON body: {text:?}"));
    Raw { status, headers, body }
}

/// Asserts ward's error shape with `code`, and a message that says something.
fn assert_error(r: &Raw, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{:?}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.len() > 10, "a message that says what to do: {:?}", r.body);
}

const TOKEN_BODY: &[u8] = br#"{"name":"ci","type":"pipeline"}"#;

#[tokio::test]
async fn a_json_body_sent_as_text_is_refused_with_415() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let r =
        send(&app, Method::POST, "/v1/tokens", Some(&admin), Some("text/plain"), TOKEN_BODY.to_vec()).await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert!(
        r.body["error"]["message"].as_str().is_some_and(|m| m.contains("application/json")),
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn a_body_without_a_content_type_is_refused_with_415() {
    let app = TestApp::spawn().await;
    let r = send(&app, Method::POST, "/v1/login", None, None, br#"{"username":"a","password":"b"}"#.to_vec())
        .await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn an_optional_body_in_another_content_type_is_refused_with_415() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = app.create_token(&admin, serde_json::json!({"name": "ci", "type": "pipeline"})).await;
    let path = format!("/v1/tokens/{}/rotate", created.str("id"));
    let r = send(&app, Method::POST, &path, Some(&admin), Some("text/plain"), br#"{"grace":"1h"}"#.to_vec())
        .await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let huge = format!(r#"{{"name":"{}","type":"pipeline"}}"#, "a".repeat(200 * 1024));
    let r = send(&app, Method::POST, "/v1/tokens", Some(&admin), Some("application/json"), huge.into_bytes())
        .await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.contains("KiB")), "{:?}", r.body);
}

#[tokio::test]
async fn an_oversized_optional_body_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let huge = format!(r#"{{"reason":"{}"}}"#, "a".repeat(200 * 1024));
    let r = send(
        &app,
        Method::POST,
        "/v1/approvals/apr_x/deny",
        Some(&admin),
        Some("application/json"),
        huge.into_bytes(),
    )
    .await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = TestApp::spawn().await;
    for path in ["/v1/nothing-here", "/v2/tokens", "/", "/v1/tokens/tok_x/explode"] {
        let r = send(&app, Method::GET, path, None, None, Vec::new()).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn an_unknown_route_under_v1_is_not_cacheable_either() {
    let app = TestApp::spawn().await;
    let r = send(&app, Method::GET, "/v1/nothing-here", None, None, Vec::new()).await;
    assert_eq!(r.headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405_that_names_the_allowed_ones() {
    let app = TestApp::spawn().await;
    for (method, path, allowed) in [
        (Method::DELETE, "/healthz", "GET"),
        (Method::PUT, "/v1/tokens", "POST"),
        (Method::GET, "/v1/login", "POST"),
        (Method::PATCH, "/v1/tokens/tok_x", "DELETE"),
    ] {
        let r = send(&app, method.clone(), path, None, None, Vec::new()).await;
        assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        let allow = r.headers.get(ALLOW).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(allow.contains(allowed), "{method} {path}: Allow {allow:?}");
    }
}

#[tokio::test]
async fn a_wrong_method_is_refused_before_the_token_is_looked_at() {
    let app = TestApp::spawn().await;
    let r = send(&app, Method::PUT, "/v1/tokens", Some("ward_p_notatoken"), None, Vec::new()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{:?}", r.body);
    assert!(app.store.looked_up.lock().expect("lock").is_empty());
}
