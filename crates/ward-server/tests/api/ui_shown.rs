//! The shown-once hand-off (issue 14, point 1 of the last session's
//! leftovers): the new token travels to its page in a sealed cookie, not
//! in one process's memory, so another node sharing the database and the
//! master key shows it; the cookie opens only for its session, its page
//! and two minutes, is cleared when shown, and never holds the token in
//! the clear.

use crate::helpers::TestApp;
use crate::ui_support::{Browser, hand_off, shown_token, user_browser};
use reqwest::StatusCode;

#[tokio::test]
async fn a_token_created_on_one_node_is_shown_by_another_that_shares_the_database_and_master_key() {
    let app = TestApp::spawn().await;
    let other_node = app.second_node().await;
    let alice = user_browser(&app, "alice").await;
    let posted = alice.post_create("across-nodes", "pipeline", &[]).await;
    let (shown_at, sealed) = hand_off(&posted);

    // The load balancer sends the redirect to the other node.
    let shown = alice.with_cookie(&sealed).at(&other_node.base).get(&shown_at).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.header("cache-control"), "no-store");
    let token = shown_token(&shown.body).expect("the token on the page");
    assert_eq!(app.verify(alice.token(), &token).await.str("code"), "VALID");
    assert!(shown.body.contains("across-nodes"));

    // Shown: the cookie is cleared for that page, so a reload shows nothing.
    let cleared = shown.set_cookie("ward_shown").expect("the cookie is cleared");
    assert!(cleared.starts_with("ward_shown=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0") && cleared.contains(&format!("Path={shown_at}")), "{cleared}");
    let reload = alice.get(&shown_at).await;
    assert_eq!(reload.status, StatusCode::GONE);
    assert!(!reload.body.contains(&token));
}

#[tokio::test]
async fn the_sealed_cookie_holds_no_token_in_the_clear_and_reaches_only_its_page_for_two_minutes() {
    let app = TestApp::spawn().await;
    let alice = user_browser(&app, "alice").await;
    let posted = alice.post_create("sealed", "pipeline", &[]).await;
    let (shown_at, sealed) = hand_off(&posted);
    let whole = posted.set_cookie("ward_shown").expect("cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Max-Age=120", &format!("Path={shown_at}")] {
        assert!(whole.contains(part), "{part} missing in {whole}");
    }
    assert!(!whole.contains("Secure"), "plain HTTP: a Secure cookie would never come back: {whole}");
    let shown = alice.with_cookie(&sealed).get(&shown_at).await;
    let token = shown_token(&shown.body).expect("the token");
    let secret = &token[token.len() - 20..];
    assert!(!whole.contains(secret) && !posted.body.contains(secret), "the token travels in the clear");
}

#[tokio::test]
async fn a_sealed_token_opens_only_for_its_own_session_page_and_bytes() {
    let app = TestApp::spawn().await;
    let alice = user_browser(&app, "alice").await;
    let posted = alice.post_create("bound", "pipeline", &[]).await;
    let (shown_at, sealed) = hand_off(&posted);

    // Another session of the same user, with the cookie.
    let other = Browser::sign_in(&app, "alice", "alice-password").await;
    let r = other.with_cookie(&sealed).get(&shown_at).await;
    assert_eq!(r.status, StatusCode::GONE, "another session opened it");
    // The cookie moved to another slot's page.
    let elsewhere = format!("/ui/shown/{}", "0123456789abcdef".repeat(2));
    assert_eq!(alice.with_cookie(&sealed).get(&elsewhere).await.status, StatusCode::GONE);
    // One character changed.
    let (name, value) = sealed.split_once('=').expect("pair");
    let mut bytes = value.as_bytes().to_vec();
    bytes[30] = if bytes[30] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(bytes).expect("ascii"));
    assert_eq!(alice.with_cookie(&tampered).get(&shown_at).await.status, StatusCode::GONE);
    // A node with another master key (and so another database): no session there either.
    let stranger = TestApp::spawn().await;
    let r = alice.with_cookie(&sealed).at(&stranger.base).get(&shown_at).await;
    assert_ne!(r.status, StatusCode::OK);

    // None of that used it up: the session that made it still reads it.
    let mine = alice.with_cookie(&sealed).get(&shown_at).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert!(shown_token(&mine.body).is_some());
}

#[tokio::test]
async fn a_sealed_token_waits_two_minutes_for_its_page_and_no_longer() {
    let app = TestApp::spawn().await;
    let alice = user_browser(&app, "alice").await;
    let (shown_at, sealed) = hand_off(&alice.post_create("late", "pipeline", &[]).await);
    app.advance(std::time::Duration::from_secs(121));
    let late = alice.with_cookie(&sealed).get(&shown_at).await;
    assert_eq!(late.status, StatusCode::GONE);
    assert!(shown_token(&late.body).is_none());
    let (shown_at, sealed) = hand_off(&alice.post_create("in-time", "pipeline", &[]).await);
    app.advance(std::time::Duration::from_secs(100));
    assert_eq!(alice.with_cookie(&sealed).get(&shown_at).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_rotated_token_and_a_service_users_key_take_the_same_way() {
    let app = TestApp::spawn().await;
    let other_node = app.second_node().await;
    let admin = Browser::sign_in(&app, "admin", crate::helpers::ADMIN_PASSWORD).await;
    let (_, created) = admin.create_token("to-rotate", "pipeline", &[]).await;
    let id = app.verify(admin.token(), &created.body).await.str("token_id");
    let csrf = admin.get(&format!("/ui/tokens/{id}/rotate")).await.csrf();
    let rotated = admin.post(&format!("/ui/tokens/{id}/rotate"), &[("csrf", &csrf), ("grace", "")]).await;
    let (shown_at, sealed) = hand_off(&rotated);
    let page = admin.with_cookie(&sealed).at(&other_node.base).get(&shown_at).await;
    let successor = shown_token(&page.body).expect("the successor on the other node");
    assert_eq!(app.verify(admin.token(), &successor).await.str("code"), "VALID");
    assert!(page.body.contains("Token rotated"));

    let csrf = admin.get("/ui/service-users").await.csrf();
    let form = [("csrf", csrf.as_str()), ("name", "ops-api"), ("scope", "ward:introspect")];
    let created = admin.post("/ui/service-users", &form).await;
    let (shown_at, sealed) = hand_off(&created);
    let page = admin.with_cookie(&sealed).at(&other_node.base).get(&shown_at).await;
    let key = shown_token(&page.body).expect("the key on the other node");
    assert_eq!(app.verify(admin.token(), &key).await.str("type"), "service");
}
