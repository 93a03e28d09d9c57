//! Signed agent tokens: mint, verify (by ward and by an independent JWT
//! library using only the JWKS), key rotation and retirement, revocation.

use crate::helpers::TestApp;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const OPS: &str = include_str!("../../../../examples/ops.toml");

pub async fn mint(
    app: &TestApp,
    caller: &str,
    agent: &str,
    scopes: &[&str],
    ttl: &str,
) -> crate::helpers::Reply {
    app.post("/v1/mint", caller, json!({"agent": agent, "scopes": scopes, "ttl": ttl})).await
}

/// Verifies `token` with the `jsonwebtoken` crate and the JWKS alone.
async fn verify_independently(app: &TestApp, token: &str) -> Result<Value, String> {
    let jwks: JwkSet = app
        .http
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("JWK set");
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks.find(&kid).ok_or_else(|| format!("kid {kid} is not in the JWKS"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["ward"]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).map(|d| d.claims).map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_minted_token_verifies_in_ward_and_in_an_independent_jwt_library() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let r = mint(&app, &admin, "grafana-datasource", &["readonly"], "1d").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let token = r.str("token");
    assert_eq!(r.body["scopes"], json!(["container:read", "file:read", "network:read", "system:read"]));

    let v = app.verify(&admin, &token).await;
    assert_eq!(v.str("code"), "VALID");
    assert_eq!(v.str("type"), "agent");
    assert_eq!(v.str("user"), "grafana-datasource");
    assert_eq!(v.str("token_id"), r.str("jti"));

    let claims = verify_independently(&app, &token).await.expect("verifies offline");
    assert_eq!(claims["sub"], "grafana-datasource");
    assert_eq!(claims["jti"], r.body["jti"]);
    assert_eq!(claims["scope"], "container:read file:read network:read system:read");
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    assert_eq!(lifetime, 86_400);

    // The agent can authenticate with it.
    let me = app.get("/v1/whoami", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.str("role"), "agent");
    assert_eq!(me.str("username"), "grafana-datasource");
}

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_and_retirement_kills_them_everywhere() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let old = mint(&app, &admin, "ci", &["container:read"], "1h").await;
    let rotated = app.call(Method::POST, "/v1/keys/rotate", Some(&admin), None).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{:?}", rotated.body);
    let new = mint(&app, &admin, "ci", &["container:read"], "1h").await;
    assert_ne!(old.str("kid"), new.str("kid"));
    assert_eq!(new.str("kid"), rotated.str("kid"));
    for t in [&old, &new] {
        assert_eq!(app.verify(&admin, &t.str("token")).await.str("code"), "VALID");
        verify_independently(&app, &t.str("token")).await.expect("both verify offline");
    }
    let keys = app.get("/v1/keys", &admin).await;
    let statuses: Vec<&str> =
        keys.body["keys"].as_array().expect("keys").iter().filter_map(|k| k["status"].as_str()).collect();
    assert_eq!(statuses, ["verifying", "active"]);

    let retire =
        app.call(Method::POST, &format!("/v1/keys/{}/retire", old.str("kid")), Some(&admin), None).await;
    assert_eq!(retire.status, StatusCode::OK, "{:?}", retire.body);
    assert_eq!(app.verify(&admin, &old.str("token")).await.str("code"), "REVOKED");
    assert!(
        verify_independently(&app, &old.str("token")).await.is_err(),
        "the JWKS no longer holds the retired key"
    );
    assert_eq!(app.get("/v1/whoami", &old.str("token")).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.verify(&admin, &new.str("token")).await.str("code"), "VALID");
    verify_independently(&app, &new.str("token")).await.expect("the new key still verifies");
}

#[tokio::test]
async fn revoke_by_jti_kills_one_and_by_agent_kills_only_those_issued_before() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let a1 = mint(&app, &admin, "patcher", &["system:read"], "1h").await;
    let a2 = mint(&app, &admin, "patcher", &["system:read"], "1h").await;
    let other = mint(&app, &admin, "grafana", &["system:read"], "1h").await;

    let r = app.post("/v1/mint/revoke", &admin, json!({"jti": a1.str("jti")})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(app.verify(&admin, &a1.str("token")).await.str("code"), "REVOKED");
    assert_eq!(app.verify(&admin, &a2.str("token")).await.str("code"), "VALID");

    let r = app.post("/v1/mint/revoke", &admin, json!({"agent": "patcher"})).await;
    assert_eq!(r.body["revoked"], 1, "a1 was already revoked");
    let after = mint(&app, &admin, "patcher", &["system:read"], "1h").await;
    assert_eq!(app.verify(&admin, &a2.str("token")).await.str("code"), "REVOKED");
    assert_eq!(app.verify(&admin, &after.str("token")).await.str("code"), "VALID", "issued after the revoke");
    assert_eq!(app.verify(&admin, &other.str("token")).await.str("code"), "VALID", "another agent");

    let listed = app.get("/v1/mint?agent=patcher", &admin).await;
    let statuses: Vec<&str> = listed.body["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|t| t["status"].as_str())
        .collect();
    assert_eq!(statuses, ["active", "revoked", "revoked"]);
}

#[tokio::test]
async fn minting_checks_ttl_scopes_and_rights() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let long = mint(&app, &admin, "x", &["system:read"], "31d").await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(long.body["error"]["message"].as_str().unwrap_or_default().contains("30d"));
    let unknown = mint(&app, &admin, "x", &["system:destroy"], "1h").await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let alice = app.user("alice").await;
    assert_eq!(mint(&app, &alice, "x", &["system:read"], "1h").await.status, StatusCode::FORBIDDEN);
    // A minting token cannot grant more than it holds.
    let minter = app
        .create_token(&admin, json!({"name": "m", "type": "service", "scopes": ["ward:mint", "system:read"]}))
        .await;
    let r = mint(&app, &minter.str("token"), "x", &["system:admin"], "1h").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);

    // Its `exp` claim and its record are both judged on the server's clock.
    let short = mint(&app, &admin, "x", &["system:read"], "1h").await;
    app.advance(std::time::Duration::from_secs(59 * 60));
    assert_eq!(app.verify(&admin, &short.str("token")).await.str("code"), "VALID", "a minute before its end");
    app.advance(std::time::Duration::from_secs(60));
    assert_eq!(
        app.verify(&admin, &short.str("token")).await.str("code"),
        "EXPIRED",
        "the minted token never expired"
    );
    // A forged token (payload changed, old signature) is malformed.
    let good = mint(&app, &admin, "x", &["system:read"], "1h").await.str("token");
    let mut parts: Vec<&str> = good.split('.').collect();
    let other = mint(&app, &admin, "y", &["system:read"], "1h").await.str("token");
    let other_payload = other.split('.').nth(1).unwrap_or_default().to_owned();
    parts[1] = &other_payload;
    assert_eq!(app.verify(&admin, &parts.join(".")).await.str("code"), "MALFORMED");
}
