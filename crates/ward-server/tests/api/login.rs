//! Logins under attack: parallel guesses, lockouts that cannot be turned
//! against someone else, the client address behind a proxy, bounded input
//! and hashing, and names that are no user's kept out of the trail.

use crate::helpers::{ADMIN_PASSWORD, Reply, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `POST /v1/login` with `X-Forwarded-For: forwarded_for` (when given).
async fn login_via(app: &TestApp, forwarded_for: Option<&str>, username: &str, password: &str) -> Reply {
    let mut req = app
        .http
        .post(format!("{}/v1/login", app.base))
        .json(&json!({"username": username, "password": password}));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let resp = req.send().await.expect("login request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Reply { status, headers, body }
}

/// The events of `action` in the trail, newest first.
async fn events(app: &TestApp, admin: &str, action: &str) -> Vec<Value> {
    let r = app.get(&format!("/v1/audit?action={action}&limit=1000"), admin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["events"].as_array().cloned().unwrap_or_default()
}

/// The database file and its WAL, as bytes.
fn stored_bytes(app: &TestApp) -> Vec<u8> {
    let mut stored = std::fs::read(&app.db_path).expect("read the database");
    stored.extend(std::fs::read(app.db_path.with_extension("db-wal")).unwrap_or_default());
    stored
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Sends `count` logins at once from `forwarded_for`, the `i`th with
/// `password(i)`; their statuses.
async fn burst(
    app: &TestApp,
    count: usize,
    forwarded_for: Option<&str>,
    username: &str,
    password: impl Fn(usize) -> String,
) -> Vec<StatusCode> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let mut req = app
            .http
            .post(format!("{}/v1/login", app.base))
            .json(&json!({"username": username, "password": password(i)}));
        if let Some(xff) = forwarded_for {
            req = req.header("x-forwarded-for", xff);
        }
        tasks.spawn(async move { req.send().await.expect("login request").status() });
    }
    tasks.join_all().await
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn thirty_parallel_guesses_reach_the_password_check_at_most_max_failures_times() {
    let app =
        TestApp::with_config("[login]\nmax_failures = 5\nlockout = \"5m\"\nhash_wait = \"60s\"\n").await;
    let statuses = burst(&app, 30, None, "admin", |i| format!("wrong guess {i}")).await;
    let checked = count(&statuses, StatusCode::UNAUTHORIZED);
    assert!(checked <= 5, "{checked} passwords checked: {statuses:?}");
    assert_eq!(checked + count(&statuses, StatusCode::TOO_MANY_REQUESTS), 30, "{statuses:?}");
    let right = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "the locked pair waits even with the password");
}

const BEHIND_PROXY: &str =
    "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n[login]\nmax_failures = 5\nhash_wait = \"60s\"\n";

#[tokio::test]
async fn a_lockout_of_admin_from_one_address_does_not_refuse_admin_from_another() {
    let app = TestApp::with_config(BEHIND_PROXY).await;
    for _ in 0..5 {
        let r = login_via(&app, Some("192.0.2.1"), "admin", "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    }
    let locked = login_via(&app, Some("192.0.2.1"), "admin", ADMIN_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = login_via(&app, Some("198.51.100.7"), "admin", ADMIN_PASSWORD).await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{:?}", elsewhere.body);
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_in_the_throttle_and_the_trail() {
    let app = TestApp::with_config(BEHIND_PROXY).await;
    let r = login_via(&app, Some("6.6.6.6, 192.0.2.55"), "admin", "wrong password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let admin = app.admin().await;
    let failure = &events(&app, &admin, "login.failure").await[0];
    assert_eq!(failure["client_ip"], "192.0.2.55", "the right-most hop the proxy added: {failure}");
}

#[tokio::test]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::with_config("[login]\nmax_failures = 5\nhash_wait = \"60s\"\n").await;
    for i in 0..5 {
        let forged = format!("192.0.2.{i}");
        let r = login_via(&app, Some(&forged), "admin", "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    }
    let r = login_via(&app, Some("198.51.100.7"), "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "a forged header does not pick a fresh address");
    let admin = login_via(&app, None, "admin", ADMIN_PASSWORD).await;
    assert_eq!(admin.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn refused_attempts_are_counted_not_written_one_by_one() {
    // Counts are handed over when the trail is read, not by the clock here.
    let app = TestApp::with_config(&format!("{BEHIND_PROXY}[usage]\nflush_interval = \"1h\"\n")).await;
    let statuses = burst(&app, 20, Some("192.0.2.9"), "admin", |i| format!("wrong {i}")).await;
    let refused = count(&statuses, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused >= 15, "{statuses:?}");
    let admin = app.admin().await;
    let failures = events(&app, &admin, "login.failure").await;
    let throttled: Vec<&Value> =
        failures.iter().filter(|e| e["error"] == "throttled: too many failed logins").collect();
    assert_eq!(throttled.len(), 1, "one counted event: {throttled:?}");
    assert_eq!(throttled[0]["count"], json!(refused));
    assert_eq!(failures.len(), 1 + 20 - refused, "{failures:?}");
}

#[tokio::test]
async fn a_megabyte_username_is_refused_and_nothing_of_it_is_stored_or_audited() {
    let mut app = TestApp::spawn().await;
    let marker = "qzx".repeat(20);
    let huge = format!("{marker}{}", "a".repeat(1 << 20));
    let r = app.login(&huge, "some password").await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.contains("KiB")), "{:?}", r.body);

    let long = format!("{marker}{}", "b".repeat(1_000));
    let r = app.login(&long, "some password").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(!r.body.to_string().contains(&marker), "the name is not echoed");
    let r = app.login("admin", &"p".repeat(2_000)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);

    let admin = app.admin().await;
    let refused = events(&app, &admin, "login.refused").await;
    let counted: u64 = refused.iter().filter_map(|e| e["count"].as_u64()).sum();
    assert_eq!(counted, 2, "{refused:?}");
    let trail = app.get("/v1/audit?limit=1000", &admin).await.body.to_string();
    assert!(!trail.contains(&marker));
    app.stop().await;
    assert!(!contains(&stored_bytes(&app), &marker), "the name is in the database");
}

#[tokio::test]
async fn a_failed_login_for_a_name_that_is_no_user_is_audited_as_a_keyed_hash() {
    let mut app = TestApp::spawn().await;
    let typed = "correct-horse-battery";
    assert_eq!(app.login(typed, "whatever it was").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(typed, "whatever it was").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("admin", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    let admin = app.admin().await;
    let failures = events(&app, &admin, "login.failure").await;
    let subjects: Vec<&str> = failures.iter().filter_map(|e| e["subject"].as_str()).collect();
    assert_eq!(subjects.len(), 3, "{failures:?}");
    assert_eq!(subjects[0], "admin", "a user's name is shown");
    let hashed = subjects[1];
    assert!(
        hashed.len() == 24
            && hashed.starts_with("unknown:")
            && hashed[8..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{hashed}"
    );
    assert_eq!(subjects[2], hashed, "the same name, the same hash");
    let trail = app.get("/v1/audit?limit=1000", &admin).await.body.to_string();
    assert!(!trail.contains(typed));
    app.stop().await;
    assert!(!contains(&stored_bytes(&app), typed), "the name is in the database");
}

#[tokio::test]
async fn password_checks_past_the_bound_are_answered_503_with_retry_after() {
    let config = "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
        [login]\nmax_concurrent_hashes = 1\nhash_queue = 1\nhash_wait = \"60s\"\n";
    let app = TestApp::with_config(config).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let req = app
            .http
            .post(format!("{}/v1/login", app.base))
            .header("x-forwarded-for", format!("192.0.2.{i}"))
            .json(&json!({"username": format!("user{i}"), "password": "wrong password"}));
        tasks.spawn(async move {
            let r = req.send().await.expect("login request");
            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap_or_default().to_owned());
            (r.status(), retry)
        });
    }
    let answers = tasks.join_all().await;
    let busy: Vec<_> = answers.iter().filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty(), "{answers:?}");
    assert!(busy.iter().all(|(_, retry)| retry.is_some()), "{busy:?}");
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    // The bound refuses; it does not lock anyone out.
    let r = login_via(&app, Some("192.0.2.0"), "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}
