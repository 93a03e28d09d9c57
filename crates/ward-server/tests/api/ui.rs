//! The dashboard at `/ui`, over HTTP as a browser sends it: security
//! headers, the session cookie, CSRF refusals, 403 pages, and no token
//! or hash rendered outside the shown-once page. (The browser itself is
//! driven in `ward-cli/tests/browser.rs`.)

use crate::helpers::{ADMIN_PASSWORD, TestApp};
use crate::ui_support::{Browser, user_browser};
use reqwest::StatusCode;
use serde_json::json;

const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
                   img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[tokio::test]
async fn every_dashboard_response_carries_the_csp_and_no_framing_and_pages_are_not_stored() {
    let app = TestApp::spawn().await;
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    for path in
        ["/ui/login", "/ui/tokens", "/ui/tokens/new", "/ui/users", "/ui/audit", "/ui/no-such-page", "/ui"]
    {
        let page = admin.get(path).await;
        assert_eq!(page.header("content-security-policy"), CSP, "{path}");
        assert_eq!(page.header("x-frame-options"), "DENY", "{path}");
        assert_eq!(page.header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
    }
    let css = admin.get("/ui/assets/ward.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header("content-type").starts_with("text/css"));
    assert_eq!(css.header("content-security-policy"), CSP);
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style() {
    let app = TestApp::spawn().await;
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    for path in [
        "/ui/login",
        "/ui/tokens",
        "/ui/tokens/new",
        "/ui/users",
        "/ui/service-users",
        "/ui/approvals",
        "/ui/agents",
        "/ui/audit",
        "/ui/expiring",
    ] {
        let page = admin.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(!page.body.contains("<script>") && !page.body.contains("style="), "{path}");
        assert!(!page.body.contains("<style"), "{path}");
    }
}

#[tokio::test]
async fn signing_in_sets_an_http_only_strict_cookie_for_ui_only() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);
    let form = b.get("/ui/login").await;
    b.cookie = form.set_cookie("ward_login").expect("nonce").split(';').next().expect("present").to_owned();
    let done = b
        .post("/ui/login", &[("csrf", &form.csrf()), ("username", "admin"), ("password", ADMIN_PASSWORD)])
        .await;
    assert_eq!(done.header("location"), "/ui/tokens");
    let cookie = done.set_cookie("ward_session").expect("session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(part), "{part} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: a Secure cookie would never come back: {cookie}");
    let token = cookie.split(';').next().expect("present").trim_start_matches("ward_session=");
    let me = app.get("/v1/whoami", token).await;
    assert_eq!(me.str("type"), "login", "the cookie is a ward login session");
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_the_apis_answer() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);
    let form = b.get("/ui/login").await;
    b.cookie = form.set_cookie("ward_login").expect("nonce").split(';').next().expect("present").to_owned();
    let r =
        b.post("/ui/login", &[("csrf", &form.csrf()), ("username", "admin"), ("password", "wrong")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("invalid username or password"), "{}", r.body);
    assert!(r.set_cookie("ward_session").is_none());
}

#[tokio::test]
async fn the_sign_in_form_without_its_nonce_is_refused() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let form = b.get("/ui/login").await;
    // The field, but not the cookie it is bound to.
    let r = b
        .post("/ui/login", &[("csrf", &form.csrf()), ("username", "admin"), ("password", ADMIN_PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.set_cookie("ward_session").is_none());
}

#[tokio::test]
async fn a_form_without_its_csrf_token_changes_nothing() {
    let app = TestApp::spawn().await;
    let alice = user_browser(&app, "alice").await;
    let other = Browser::sign_in(&app, "alice", "alice-password").await;
    let (_, created) = alice.create_token("keep", "pipeline", &[]).await;
    let token = created.body;
    let id = app.verify(alice.token(), &token).await.str("token_id");
    let forged = other.get("/ui/tokens/new").await.csrf();
    for csrf in [None, Some(""), Some("00"), Some(forged.as_str())] {
        let with = |mut form: Vec<(&'static str, String)>| {
            if let Some(c) = csrf {
                form.push(("csrf", c.to_owned()));
            }
            form
        };
        let posts = [
            ("/ui/tokens".to_owned(), with(vec![("name", "x".into()), ("type", "pipeline".into())])),
            (format!("/ui/tokens/{id}/revoke"), with(vec![])),
            (format!("/ui/tokens/{id}/rotate"), with(vec![])),
            ("/ui/logout".to_owned(), with(vec![])),
        ];
        for (path, form) in posts {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = alice.post(&path, &pairs).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} with {csrf:?}");
        }
    }
    let listed = app.get("/v1/tokens", alice.token()).await;
    let names: Vec<&str> = listed.body["tokens"]
        .as_array()
        .expect("present")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(!names.contains(&"x"), "a token was created: {names:?}");
    assert_eq!(app.verify(alice.token(), &token).await.str("code"), "VALID", "revoked or rotated");
    assert_eq!(alice.get("/ui/tokens").await.status, StatusCode::OK, "logged out");
}

#[tokio::test]
async fn a_created_token_is_shown_once_and_never_cached() {
    let app = TestApp::spawn().await;
    let alice = user_browser(&app, "alice").await;
    let (shown_at, created) = alice.create_token("deploy", "pipeline", &[]).await;
    assert_eq!(created.header("cache-control"), "no-store");
    let token = created.body;
    let verdict = app.verify(alice.token(), &token).await;
    assert_eq!(verdict.str("code"), "VALID");
    assert_eq!(verdict.body["type"], "pipeline");
    let again = alice.get(&shown_at).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(!again.body.contains(&token));
    // Another session of the same user cannot take it either.
    let (shown_at, second) = alice.create_token("second", "pipeline", &[]).await;
    let other = Browser::sign_in(&app, "alice", "alice-password").await;
    assert_eq!(other.get(&shown_at).await.status, StatusCode::GONE);
    assert!(!second.body.is_empty());
}

#[tokio::test]
async fn no_token_or_hash_is_rendered_outside_the_shown_once_page() {
    let app = TestApp::spawn().await;
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let (_, created) = admin.create_token("visible-name", "pipeline", &[]).await;
    let token = created.body;
    let id = app.verify(admin.token(), &token).await.str("token_id");
    let secret_part = &token[token.len() - 20..];
    for path in [
        "/ui/tokens".to_owned(),
        "/ui/expiring?days=30".to_owned(),
        format!("/ui/tokens/{id}/revoke"),
        format!("/ui/tokens/{id}/rotate"),
        "/ui/users/admin/tokens".to_owned(),
        "/ui/audit".to_owned(),
    ] {
        let page = admin.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.body.contains(secret_part), "{path} shows the token");
        assert!(!page.body.contains(admin.token()), "{path} shows the session");
        assert!(!page.body.contains(&admin.token()[admin.token().len() - 20..]), "{path} shows the session");
    }
    assert!(admin.get("/ui/tokens").await.body.contains("visible-name"));
}

#[tokio::test]
async fn a_normal_user_gets_403_on_admin_pages_and_another_users_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_token(&admin, json!({"name": "admins-secret-name", "type": "pipeline"})).await;
    let bob = user_browser(&app, "bob").await;
    for path in [
        "/ui/users",
        "/ui/service-users",
        "/ui/approvals",
        "/ui/audit",
        "/ui/audit/export",
        "/ui/users/admin/tokens",
    ] {
        let page = bob.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!page.body.contains("admins-secret-name"), "{path}");
        assert!(page.body.contains("Not allowed"), "{path}: {}", page.body);
    }
    let nav = bob.get("/ui/tokens").await.body;
    assert!(!nav.contains("/ui/users\"") && !nav.contains("/ui/audit\""), "admin links shown to a user");
    let forms = bob.get("/ui/tokens").await.csrf();
    let r = bob
        .post("/ui/users", &[("csrf", &forms), ("name", "mallory"), ("password", "mallory-password")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn signing_out_revokes_the_session_and_any_revocation_ends_the_dashboard_session() {
    let app = TestApp::spawn().await;
    let alice = user_browser(&app, "alice").await;
    let csrf = alice.get("/ui/tokens").await.csrf();
    let out = alice.post("/ui/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookie("ward_session").is_some_and(|c| c.contains("Max-Age=0")));
    assert_eq!(app.verify(&app.admin().await, alice.token()).await.str("code"), "REVOKED");
    let after = alice.get("/ui/tokens").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.header("location"), "/ui/login");

    let again = Browser::sign_in(&app, "alice", "alice-password").await;
    assert_eq!(again.get("/ui/tokens").await.status, StatusCode::OK);
    let r = app.post("/v1/users/alice/revoke-tokens", &app.admin().await, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(again.get("/ui/tokens").await.header("location"), "/ui/login");
}

#[tokio::test]
async fn an_api_token_in_the_cookie_is_no_dashboard_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let pipeline = app.create_token(&admin, json!({"name": "ci", "type": "personal"})).await.str("token");
    let mut b = Browser::new(&app);
    b.cookie = format!("ward_session={pipeline}");
    let r = b.get("/ui/tokens").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/ui/login");
}

#[tokio::test]
async fn revoking_from_the_table_asks_first_and_the_api_then_answers_revoked() {
    let app = TestApp::spawn().await;
    let alice = user_browser(&app, "alice").await;
    let (_, created) = alice.create_token("to-revoke", "pipeline", &[]).await;
    let id = app.verify(alice.token(), &created.body).await.str("token_id");
    let ask = alice.get(&format!("/ui/tokens/{id}/revoke")).await;
    assert!(ask.body.contains("to-revoke"), "the confirmation names the token");
    let done = alice.post(&format!("/ui/tokens/{id}/revoke"), &[("csrf", &ask.csrf())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(app.verify(alice.token(), &created.body).await.str("code"), "REVOKED");
}

#[tokio::test]
async fn another_users_token_cannot_be_revoked_from_the_dashboard() {
    let app = TestApp::spawn().await;
    let alice = user_browser(&app, "alice").await;
    let (_, created) = alice.create_token("alices", "pipeline", &[]).await;
    let id = app.verify(alice.token(), &created.body).await.str("token_id");
    let bob = user_browser(&app, "bob").await;
    assert_eq!(bob.get(&format!("/ui/tokens/{id}/revoke")).await.status, StatusCode::NOT_FOUND);
    let csrf = bob.get("/ui/tokens").await.csrf();
    assert_eq!(
        bob.post(&format!("/ui/tokens/{id}/revoke"), &[("csrf", &csrf)]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.verify(alice.token(), &created.body).await.str("code"), "VALID");
}
