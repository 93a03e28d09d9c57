//! OAuth interoperability: RFC 7662 introspection (the caller first, then
//! the token; `{"active":false}` for anything not valid), RFC 7009
//! revocation by possession (rate-limited per address), RFC 8414 metadata,
//! and the issuer and audience of minted tokens.

use crate::agents::{OPS, mint};
use crate::helpers::{Reply, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use ward_core::TokenHash;

const ISSUER: &str = "http://127.0.0.1:8420";

fn config() -> String {
    format!("{OPS}\n[server]\nissuer = \"{ISSUER}/\"\n\n[oauth]\nrevoke_per_minute = 5\n")
}

enum Caller<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str, &'a str),
}

async fn form(app: &TestApp, path: &str, caller: Caller<'_>, token: &str) -> Reply {
    let mut req = app.http.post(format!("{}{path}", app.base)).form(&[("token", token)]);
    req = match caller {
        Caller::None => req,
        Caller::Bearer(t) => req.bearer_auth(t),
        Caller::Basic(name, key) => req.basic_auth(name, Some(key)),
    };
    let resp = req.send().await.expect("request reaches the server");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
    Reply { status, headers, body }
}

async fn introspect(app: &TestApp, caller: Caller<'_>, token: &str) -> Reply {
    form(app, "/oauth/introspect", caller, token).await
}

async fn service_user(app: &TestApp, admin: &str, name: &str, scopes: &[&str]) -> String {
    let r = app.post("/v1/service-users", admin, json!({"name": name, "scopes": scopes})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["key"]["token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_active_opaque_token_is_described_as_rfc_7662_says() {
    let app = TestApp::with_config(&config()).await;
    let admin = app.admin().await;
    let t = app
        .create_token(&admin, json!({"name": "ci", "type": "pipeline", "scopes": ["readonly"], "ttl": "1h"}))
        .await;
    let r = introspect(&app, Caller::Bearer(&admin), &t.str("token")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.header("cache-control"), "no-store");
    let b = &r.body;
    assert_eq!(b["active"], true);
    assert_eq!(b["scope"], "container:read file:read network:read system:read");
    assert_eq!((b["sub"].as_str(), b["username"].as_str()), (Some("admin"), Some("admin")));
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["jti"], t.body["id"]);
    assert_eq!(b["iss"], ISSUER);
    assert_eq!(b["ward_token_type"], "pipeline");
    let iat = b["iat"].as_i64().unwrap_or_default();
    assert_eq!(b["exp"].as_i64(), Some(iat + 3600), "{b}");
    assert!(b.get("client_id").is_none());
}

#[tokio::test]
async fn a_minted_token_shows_its_agent_audience_and_issuer() {
    let app = TestApp::with_config(&config()).await;
    let admin = app.admin().await;
    let body = json!({"agent": "grafana", "scopes": ["readonly"], "ttl": "1h", "audience": "https://api.example.com"});
    let m = app.post("/v1/mint", &admin, body).await;
    assert_eq!(m.status, StatusCode::CREATED, "{:?}", m.body);
    let r = introspect(&app, Caller::Bearer(&admin), &m.str("token")).await;
    let b = &r.body;
    assert_eq!((b["active"].as_bool(), b["sub"].as_str()), (Some(true), Some("grafana")), "{b}");
    assert_eq!(b["aud"], "https://api.example.com");
    assert_eq!(b["iss"], ISSUER);
    assert_eq!(b["ward_token_type"], "agent");
    assert_eq!(b["jti"], m.body["jti"]);
    assert!(b.get("username").is_none() && b.get("client_id").is_none(), "{b}");
}

#[tokio::test]
async fn anything_not_valid_is_exactly_active_false() {
    let app = TestApp::with_config(&config()).await;
    let admin = app.admin().await;
    let revoked =
        app.create_token(&admin, json!({"name": "r", "type": "pipeline", "scopes": ["readonly"]})).await;
    app.post(&format!("/v1/tokens/{}/revoke", revoked.str("id")), &admin, json!({})).await;
    let expiring = app
        .create_token(&admin, json!({"name": "e", "type": "pipeline", "scopes": ["readonly"], "ttl": "1h"}))
        .await;
    let agent = mint(&app, &admin, "gone", &["readonly"], "1h").await;
    app.post("/v1/mint/revoke", &admin, json!({"jti": agent.str("jti")})).await;
    app.advance(std::time::Duration::from_secs(7200));
    let admin = app.admin().await;
    let unknown = "ward_p_0123456789abcdefghijABCDEFGHIJ";
    for token in [revoked.str("token"), expiring.str("token"), agent.str("token"), unknown.into(), "x".into()]
    {
        let r = introspect(&app, Caller::Bearer(&admin), &token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, json!({"active": false}));
    }
}

#[tokio::test]
async fn the_caller_is_authenticated_and_authorized_before_the_token_is_looked_up() {
    let app = TestApp::with_config(&config()).await;
    let admin = app.admin().await;
    let probe =
        app.create_token(&admin, json!({"name": "p", "type": "pipeline", "scopes": ["readonly"]})).await;
    let probe = probe.str("token");
    let weak =
        app.create_token(&admin, json!({"name": "w", "type": "pipeline", "scopes": ["readonly"]})).await;
    let weak = weak.str("token");
    let svc = service_user(&app, &admin, "no-introspect", &["system:read"]).await;
    app.store.looked_up.lock().expect("lock").clear();

    let r = introspect(&app, Caller::None, &probe).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = introspect(&app, Caller::Bearer(&weak), &probe).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], "insufficient_scope");
    let r = introspect(&app, Caller::Basic("no-introspect", &svc), &probe).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = introspect(&app, Caller::Basic("someone-else", &svc), &probe).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"]["code"], "invalid_client");
    assert_eq!(r.header("www-authenticate"), r#"Basic realm="ward""#);
    let r = introspect(&app, Caller::Basic("admin", &admin), &probe).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "Basic is for service users only");

    let looked_up = app.store.looked_up.lock().expect("lock").clone();
    assert!(
        !looked_up.contains(&TokenHash::of(&probe)),
        "the presented token was looked up for a refused caller"
    );
}

#[tokio::test]
async fn a_service_user_introspects_with_its_name_and_key() {
    let app = TestApp::with_config(&config()).await;
    let admin = app.admin().await;
    let key = service_user(&app, &admin, "resource-server", &["ward:introspect"]).await;
    let agent = mint(&app, &admin, "grafana", &["readonly"], "1h").await.str("token");
    let r = introspect(&app, Caller::Basic("resource-server", &key), &agent).await;
    assert_eq!((r.status, r.body["active"].as_bool()), (StatusCode::OK, Some(true)), "{:?}", r.body);
    // The key itself is a service user's: its client_id is the service user.
    let r = introspect(&app, Caller::Basic("resource-server", &key), &key).await;
    assert_eq!(r.body["client_id"], "resource-server", "{:?}", r.body);
    assert_eq!(r.body["scope"], "ward:introspect");
}

#[tokio::test]
async fn revocation_needs_only_the_token_and_answers_200_whatever_it_was() {
    let app = TestApp::with_config(&config()).await;
    let admin = app.admin().await;
    let t =
        app.create_token(&admin, json!({"name": "leak", "type": "pipeline", "scopes": ["readonly"]})).await;
    let m = mint(&app, &admin, "bot", &["readonly"], "1h").await;
    for token in [t.str("token"), m.str("token")] {
        let r = form(&app, "/oauth/revoke", Caller::None, &token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.header("cache-control"), "no-store");
        assert_eq!(app.verify(&admin, &token).await.str("code"), "REVOKED");
        // Again: still 200.
        assert_eq!(form(&app, "/oauth/revoke", Caller::None, &token).await.status, StatusCode::OK);
    }
    let r = form(&app, "/oauth/revoke", Caller::None, "ward_p_0123456789abcdefghijABCDEFGHIJ").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .http
        .post(format!("{}/oauth/revoke", app.base))
        .json(&json!({"token": t.str("token")}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a JSON body is not the form RFC 7009 names");
}

#[tokio::test]
async fn revocation_is_rate_limited_per_client_address() {
    let app = TestApp::with_config(&config()).await;
    for _ in 0..5 {
        assert_eq!(form(&app, "/oauth/revoke", Caller::None, "guess").await.status, StatusCode::OK);
    }
    let r = form(&app, "/oauth/revoke", Caller::None, "guess").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("retry-after").parse::<u64>().is_ok_and(|s| (1..=60).contains(&s)), "{:?}", r.headers);
    app.advance(std::time::Duration::from_secs(60));
    assert_eq!(form(&app, "/oauth/revoke", Caller::None, "guess").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_metadata_names_the_issuer_and_where_everything_is() {
    let app = TestApp::with_config(&config()).await;
    let r = app.call(reqwest::Method::GET, "/.well-known/oauth-authorization-server", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let b = &r.body;
    assert_eq!(b["issuer"], ISSUER);
    assert_eq!(b["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
    assert_eq!(b["introspection_endpoint"], format!("{ISSUER}/oauth/introspect"));
    assert_eq!(b["revocation_endpoint"], format!("{ISSUER}/oauth/revoke"));
    assert_eq!(b["revocation_endpoint_auth_methods_supported"], json!(["none"]));
    let methods = b["introspection_endpoint_auth_methods_supported"].as_array().cloned().unwrap_or_default();
    assert!(methods.contains(&json!("client_secret_basic")), "{b}");
    assert!(b["scopes_supported"].as_array().is_some_and(|s| s.contains(&json!("system:read"))), "{b}");

    let bare = TestApp::spawn().await;
    let r = bare.call(reqwest::Method::GET, "/.well-known/oauth-authorization-server", None, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["code"], "not_configured");
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("[server] issuer"));
}

#[tokio::test]
async fn minted_tokens_carry_the_configured_issuer_and_the_asked_audience() {
    let app = TestApp::with_config(&config()).await;
    let admin = app.admin().await;
    let body = json!({"agent": "bot", "scopes": ["readonly"], "ttl": "1h", "audience": "ops-api"});
    let token = app.post("/v1/mint", &admin, body).await.str("token");
    let claims = claims_of(&token);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], "ops-api");
    let plain = mint(&app, &admin, "bot", &["readonly"], "1h").await.str("token");
    assert!(claims_of(&plain).get("aud").is_none());
    let bad = json!({"agent": "bot", "scopes": ["readonly"], "ttl": "1h", "audience": "two words"});
    assert_eq!(app.post("/v1/mint", &admin, bad).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}
