//! The token lifecycle over HTTP.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use ward_core::token::Prefix;
use ward_core::{Entropy, PlainToken, TokenKind};

struct Os;
impl Entropy for Os {
    fn fill(&mut self, buf: &mut [u8]) {
        getrandom::fill(buf).expect("os random");
    }
}

#[tokio::test]
async fn a_created_token_verifies_and_after_revoke_answers_revoked_for_good() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = app
        .create_token(&admin, json!({"name": "ci", "type": "pipeline", "scopes": ["ward:introspect"]}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let token = created.str("token");
    assert!(token.starts_with("ward_p_"), "{token}");
    assert_eq!(created.str("prefix"), token[..11]);

    let v = app.verify(&admin, &token).await;
    assert_eq!(v.body["valid"], true);
    assert_eq!(v.str("code"), "VALID");
    assert_eq!(v.str("type"), "pipeline");
    assert_eq!(v.str("user"), "admin");
    assert_eq!(v.body["scopes"], json!(["ward:introspect"]));

    let id = created.str("id");
    let r = app.post(&format!("/v1/tokens/{id}/revoke"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.str("status"), "revoked");
    assert_eq!(app.verify(&admin, &token).await.str("code"), "REVOKED");

    // Neither a second revoke, nor a rotation, nor using it brings it back.
    let again = app.post(&format!("/v1/tokens/{id}/revoke"), &admin, json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let rotate = app.post(&format!("/v1/tokens/{id}/rotate"), &admin, json!({})).await;
    assert_eq!(rotate.status, StatusCode::CONFLICT);
    let used = app.get("/v1/whoami", &token).await;
    assert_eq!(used.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.verify(&admin, &token).await.str("code"), "REVOKED");
}

#[tokio::test]
async fn an_expired_token_answers_expired_and_cannot_authenticate() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = app.create_token(&admin, json!({"name": "short", "type": "personal", "ttl": "1h"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let token = created.str("token");
    app.advance(Duration::from_secs(59 * 60));
    assert_eq!(app.verify(&admin, &token).await.str("code"), "VALID", "a minute before its end");
    app.advance(Duration::from_secs(60));
    assert_eq!(app.verify(&admin, &token).await.str("code"), "EXPIRED", "token never expired");
    let r = app.get("/v1/whoami", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").contains(r#"error="invalid_token""#), "{:?}", r.headers);
}

#[tokio::test]
async fn a_bad_checksum_is_malformed_without_a_store_lookup() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = app.create_token(&admin, json!({"name": "x", "type": "personal"})).await;
    let mut token = created.str("token");
    let last = token.pop().expect("non-empty");
    token.push(if last == 'A' { 'B' } else { 'A' });

    let v = app.verify(&admin, &token).await;
    let looked_up = app.store.looked_up.lock().expect("lock").clone();
    assert!(!looked_up.is_empty(), "the caller's own token was looked up");
    assert!(!looked_up.contains(&ward_core::TokenHash::of(&token)), "the malformed token reached the store");
    assert_eq!(v.body["valid"], false);
    assert_eq!(v.str("code"), "MALFORMED");
    assert!(v.body["token_id"].is_null());

    let garbage = app.verify(&admin, "not-a-token").await;
    assert_eq!(garbage.str("code"), "MALFORMED");
}

#[tokio::test]
async fn a_well_formed_unknown_token_is_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let stranger = PlainToken::generate(&Prefix::default(), TokenKind::Personal, &mut Os);
    let v = app.verify(&admin, stranger.expose()).await;
    assert_eq!(v.str("code"), "NOT_FOUND");
    assert_eq!(v.body["valid"], false);
}

#[tokio::test]
async fn verify_needs_the_introspect_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let narrow =
        app.create_token(&admin, json!({"name": "n", "type": "pipeline", "scopes": ["ward:tokens"]})).await;
    let r = app.post("/v1/verify", &narrow.str("token"), json!({"token": "x"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.header("www-authenticate").contains(r#"error="insufficient_scope""#));
    assert_eq!(r.body["error"]["code"], "insufficient_scope");
}

#[tokio::test]
async fn a_pipeline_token_cannot_create_tokens_unless_it_holds_ward_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let plain = app
        .create_token(&admin, json!({"name": "p", "type": "pipeline", "scopes": ["ward:introspect"]}))
        .await;
    let r = app.create_token(&plain.str("token"), json!({"name": "child", "type": "pipeline"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("ward:tokens"));

    let minting =
        app.create_token(&admin, json!({"name": "m", "type": "pipeline", "scopes": ["ward:tokens"]})).await;
    let child = app.create_token(&minting.str("token"), json!({"name": "child", "type": "pipeline"})).await;
    assert_eq!(child.status, StatusCode::CREATED, "{:?}", child.body);
    // …and the child cannot be given more than the pipeline token holds.
    let wider = app
        .create_token(
            &minting.str("token"),
            json!({"name": "c2", "type": "pipeline", "scopes": ["ward:admin"]}),
        )
        .await;
    assert_eq!(wider.status, StatusCode::FORBIDDEN, "{:?}", wider.body);
}

#[tokio::test]
async fn unknown_scopes_are_refused_with_the_valid_list() {
    let app = TestApp::with_config("[[scopes]]\nname = \"read:stacks\"\nrisk = \"low\"\n").await;
    let admin = app.admin().await;
    let before = app.get("/v1/tokens", &admin).await.body["tokens"].as_array().map(Vec::len);
    let r =
        app.create_token(&admin, json!({"name": "x", "type": "pipeline", "scopes": ["read:stackz"]})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let msg = r.body["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(
        msg.contains("read:stackz") && msg.contains("read:stacks") && msg.contains("ward:tokens"),
        "{msg}"
    );
    let after = app.get("/v1/tokens", &admin).await.body["tokens"].as_array().map(Vec::len);
    assert_eq!(before, after, "a refused create changed nothing");
}

#[tokio::test]
async fn a_token_cannot_exceed_its_owners_scopes() {
    let config = "[[scopes]]\nname = \"read:stacks\"\nrisk = \"low\"\n[[scopes]]\nname = \"admin:org\"\nrisk = \"critical\"\n";
    let app = TestApp::with_config(config).await;
    let alice = app.user("alice").await;
    let r = app.create_token(&alice, json!({"name": "x", "type": "pipeline", "scopes": ["admin:org"]})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("admin:org"));

    // An admin cannot hand alice a token with scopes alice lacks either.
    let admin = app.admin().await;
    let r = app
        .create_token(
            &admin,
            json!({"name": "x", "type": "pipeline", "scopes": ["admin:org"], "user_id": "alice"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);

    // A personal token without scopes gets what alice may do.
    let r = app.create_token(&alice, json!({"name": "me", "type": "personal"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["scopes"], json!(["read:stacks", "ward:introspect", "ward:tokens"]));
}

#[tokio::test]
async fn rotation_keeps_the_old_token_for_the_grace_window_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let old = app
        .create_token(&admin, json!({"name": "deploy", "type": "pipeline", "scopes": ["ward:introspect"]}))
        .await;
    let r = app.post(&format!("/v1/tokens/{}/rotate", old.str("id")), &admin, json!({"grace": "10m"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let new = r.str("token");
    assert_ne!(new, old.str("token"));
    assert_eq!(r.str("name"), "deploy");
    assert_eq!(r.body["previous"]["id"], old.body["id"]);
    assert!(r.body["previous"]["expires_at"].is_string());
    let info = app.get(&format!("/v1/tokens/{}", r.str("id")), &admin).await;
    assert_eq!(info.body["rotated_from"], old.body["id"]);

    assert_eq!(app.verify(&admin, &old.str("token")).await.str("code"), "VALID");
    app.advance(Duration::from_secs(9 * 60));
    assert_eq!(app.verify(&admin, &old.str("token")).await.str("code"), "VALID", "inside the grace window");
    app.advance(Duration::from_secs(60));
    assert_eq!(
        app.verify(&admin, &old.str("token")).await.str("code"),
        "EXPIRED",
        "old token outlived its grace"
    );
    assert_eq!(app.verify(&admin, &new).await.str("code"), "VALID");
}

#[tokio::test]
async fn rotation_without_grace_ends_the_old_token_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let old = app.create_token(&admin, json!({"name": "d", "type": "registry"})).await;
    let r = app
        .call(reqwest::Method::POST, &format!("/v1/tokens/{}/rotate", old.str("id")), Some(&admin), None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(app.verify(&admin, &old.str("token")).await.str("code"), "REVOKED");
}

#[tokio::test]
async fn list_filters_by_type_and_status_and_pages_with_a_cursor() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (name, kind) in [("a", "pipeline"), ("b", "pipeline"), ("c", "registry")] {
        app.create_token(&admin, json!({"name": name, "type": kind})).await;
    }
    let revoked = app.create_token(&admin, json!({"name": "d", "type": "pipeline"})).await;
    app.post(&format!("/v1/tokens/{}/revoke", revoked.str("id")), &admin, json!({})).await;

    let names = |r: &crate::helpers::Reply| -> Vec<String> {
        r.body["tokens"]
            .as_array()
            .map(|a| a.iter().map(|t| t["name"].as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    };
    let pipelines = app.get("/v1/tokens?type=pipeline&status=active", &admin).await;
    assert_eq!(names(&pipelines), ["b", "a"]);
    let gone = app.get("/v1/tokens?status=revoked", &admin).await;
    assert_eq!(names(&gone), ["d"]);
    let first = app.get("/v1/tokens?limit=2", &admin).await;
    assert_eq!(names(&first), ["d", "c"]);
    let cursor = first.str("next_cursor");
    let second = app.get(&format!("/v1/tokens?limit=2&cursor={cursor}"), &admin).await;
    assert_eq!(names(&second), ["b", "a"]);
    let bad = app.get("/v1/tokens?status=sleeping", &admin).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = bad.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("use active, expired, revoked"), "{message}");
    let bad = app.get("/v1/tokens?type=robot", &admin).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = bad.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("use personal, pipeline, service or registry"), "{message}");
}

#[tokio::test]
async fn last_used_moves_on_use_and_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app
        .create_token(&admin, json!({"name": "u", "type": "pipeline", "scopes": ["ward:introspect"]}))
        .await;
    let path = format!("/v1/tokens/{}", t.str("id"));
    assert!(app.get(&path, &admin).await.body["last_used_at"].is_null());
    app.post("/v1/verify", &t.str("token"), json!({"token": "x"})).await;
    let used = app.get(&path, &admin).await.body["last_used_at"].clone();
    assert!(used.is_string(), "last_used_at after use: {used}");
    app.stop().await;
    let store = ward_store::SqliteStore::open(app.db_path.to_str().expect("utf-8")).await.expect("reopen");
    let id = ward_core::TokenId::parse(&t.str("id")).expect("id");
    let stored = ward_store::Store::token_by_id(&store, &id).await.expect("lookup").expect("token");
    assert!(stored.token.last_used_at.is_some(), "usage was flushed at shutdown");
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_in_the_json_shape() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let r = app.create_token(&admin, json!({"name": "x", "type": "personal", "ttl": "3y"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("e.g. 90s"));
    let r = app.create_token(&admin, json!({"name": "x", "type": "login"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.create_token(&admin, json!({"name": "x", "type": "nope"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.create_token(&admin, json!({"type": "personal"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["code"], "invalid_request");
    let r = app.get("/v1/tokens/tok_nope", &admin).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_token_string_reaches_the_database_files() {
    let mut app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut issued = vec![admin.clone()];
    for kind in ["personal", "pipeline", "service", "registry"] {
        issued.push(app.create_token(&admin, json!({"name": kind, "type": kind})).await.str("token"));
    }
    let rotated = app
        .post(
            &format!(
                "/v1/tokens/{}/rotate",
                app.get("/v1/tokens?type=pipeline", &admin).await.body["tokens"][0]["id"]
                    .as_str()
                    .unwrap_or_default()
            ),
            &admin,
            json!({"grace": "1h"}),
        )
        .await;
    issued.push(rotated.str("token"));
    app.stop().await;
    let dir = app.db_path.parent().expect("dir").to_owned();
    let mut scanned = 0;
    for entry in std::fs::read_dir(&dir).expect("read dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read file");
        scanned += bytes.len();
        let text = String::from_utf8_lossy(&bytes);
        for token in &issued {
            assert!(!token.is_empty());
            assert!(!text.contains(token.as_str()), "a token string was found in the database files");
            // The secret part alone must not be there either.
            assert!(!text.contains(&token[7..]), "a token secret was found in the database files");
        }
    }
    assert!(scanned > 0);
}

#[tokio::test]
async fn an_unknown_type_or_role_in_a_body_is_a_422_naming_the_valid_values() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let r = app.create_token(&admin, json!({"name": "x", "type": "robot"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["code"], "invalid_request");
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("use personal, pipeline, service or registry"), "{message}");
    let r = app
        .post("/v1/users", &admin, json!({"name": "ann", "role": "root", "password": "long enough"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("use admin or user"), "{message}");
}
