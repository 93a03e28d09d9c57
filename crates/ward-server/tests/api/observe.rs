//! Issue 12, observability: `/metrics` counts by closed labels only (route
//! templates, never the path asked for), verify outcomes by code, cache
//! and throttle counts; `traceparent` is answered with its trace id but
//! never becomes the request id.

use crate::helpers::{ADMIN_PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// `GET /metrics` as text.
async fn scrape(app: &TestApp) -> String {
    let r = app.http.get(format!("{}/metrics", app.base)).send().await.expect("scrape");
    assert_eq!(r.status(), StatusCode::OK);
    let kind = r.headers()["content-type"].to_str().unwrap_or_default().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    r.text().await.expect("text")
}

/// The value of the sample written exactly `series` (`name{labels}`), 0
/// when the series is absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().expect("a number"))
}

fn verified(text: &str, code: &str) -> f64 {
    value(text, &format!("ward_verify_total{{code=\"{code}\"}}"))
}

#[tokio::test]
async fn each_verify_is_counted_once_under_its_code() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = app.create_token(&admin, json!({"name": "ci", "type": "pipeline"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let token = created.str("token");
    let before = scrape(&app).await;
    for _ in 0..7 {
        assert_eq!(app.verify(&admin, &token).await.str("code"), "VALID");
    }
    for _ in 0..3 {
        assert_eq!(app.verify(&admin, "ward_p_nonsense").await.str("code"), "MALFORMED");
    }
    let after = scrape(&app).await;
    assert_eq!(verified(&after, "VALID") - verified(&before, "VALID"), 7.0, "{after}");
    assert_eq!(verified(&after, "MALFORMED") - verified(&before, "MALFORMED"), 3.0);
    assert_eq!(verified(&after, "REVOKED"), 0.0);
    let route = r#"ward_http_requests_total{method="POST",route="/v1/verify",status="200"}"#;
    assert_eq!(value(&after, route) - value(&before, route), 10.0, "{after}");
    assert!(
        after.contains(
            r#"ward_http_request_duration_seconds_bucket{method="POST",route="/v1/verify",le="0.001"}"#
        ),
        "latency is a histogram by route: {after}"
    );
    let hits = value(&after, r#"ward_verify_cache_total{result="hit"}"#);
    assert!(hits >= 6.0, "the second verify of a token on is answered from memory: {hits}");
    assert!(value(&after, r#"ward_verify_cache_total{result="miss"}"#) >= 1.0);
    assert!(value(&after, "ward_db_pool_connections") >= 1.0, "{after}");
    assert!(after.contains("ward_audit_queue_depth"), "{after}");
}

#[tokio::test]
async fn labels_carry_route_templates_never_the_path_or_a_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = app.create_token(&admin, json!({"name": "ci", "type": "pipeline"})).await;
    let id = created.str("id");
    assert_eq!(app.get(&format!("/v1/tokens/{id}"), &admin).await.status, StatusCode::OK);
    let secret_path = "/v1/ward_p_Zq8TokenLikeSecretInAPath0000/x";
    let r = app.http.get(format!("{}{secret_path}", app.base)).bearer_auth(&admin).send().await;
    assert_eq!(r.expect("sent").status(), StatusCode::NOT_FOUND);
    let r = app
        .http
        .request(reqwest::Method::from_bytes(b"BREW").expect("method"), format!("{}/healthz", app.base));
    let _ = r.send().await.expect("sent");

    let text = scrape(&app).await;
    assert!(text.contains(r#"route="/v1/tokens/{id}""#), "{text}");
    assert!(text.contains(r#"method="GET",route="unmatched",status="404""#), "{text}");
    assert!(text.contains(r#"method="OTHER""#), "{text}");
    for secret in ["ward_p_Zq8TokenLikeSecretInAPath0000", &id, &admin[7..], "admin", "BREW"] {
        assert!(!text.contains(secret), "{secret} appears in /metrics:\n{text}");
    }
}

#[tokio::test]
async fn refused_and_slowed_logins_are_counted() {
    let app = TestApp::with_config("[login]\nmax_failures = 2").await;
    for _ in 0..3 {
        app.login("admin", "wrong-password").await;
    }
    let text = scrape(&app).await;
    assert_eq!(value(&text, r#"ward_login_throttled_total{outcome="refused"}"#), 1.0, "{text}");
    assert_eq!(value(&text, r#"ward_login_throttled_total{outcome="slowed"}"#), 1.0, "{text}");
    assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let app = TestApp::with_config("[metrics]\nenabled = false").await;
    let r = app.http.get(format!("{}/metrics", app.base)).send().await.expect("scrape");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test]
async fn two_requests_with_one_traceparent_get_their_own_request_ids_and_share_the_trace() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = app
            .http
            .post(format!("{}/v1/login", app.base))
            .header("traceparent", TRACEPARENT)
            .json(&json!({"username": "admin", "password": "wrong-password"}))
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let id = r.headers()["x-request-id"].to_str().unwrap_or_default().to_owned();
        assert!(id.starts_with("req_") && id.len() == 20, "the server's own id, not {id}");
        let answer = r.headers()["traceresponse"].to_str().unwrap_or_default().to_owned();
        assert!(answer.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{answer}");
        assert!(answer.ends_with("-01") && !answer.contains("00f067aa0ba902b7"), "ward's own span: {answer}");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1], "one trace, two requests, two request ids");
    let admin = app.admin().await;
    let events = app.get("/v1/audit?action=login.failure", &admin).await;
    let logged = events.body["events"].as_array().cloned().unwrap_or_default();
    for id in &ids {
        assert_eq!(logged.iter().filter(|e| e["request_id"] == id.as_str()).count(), 1, "{:?}", events.body);
    }
}

#[tokio::test]
async fn an_invalid_traceparent_is_ignored() {
    let app = TestApp::spawn().await;
    for bad in [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "not a traceparent",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ] {
        let r = app.http.get(format!("{}/healthz", app.base)).header("traceparent", bad).send().await;
        let r = r.expect("sent");
        let id = r.headers()["x-request-id"].to_str().unwrap_or_default().to_owned();
        assert!(id.starts_with("req_") && id.len() == 20, "{bad}: a fresh id, not {id}");
    }
}
