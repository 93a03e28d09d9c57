//! OAuth entries refresh themselves (RFC 6749 refresh_token grant) against
//! a token endpoint served by the test, once however many commands ask at
//! the same time; a rotated refresh token is kept and used next time; a
//! hostile endpoint is a clear error, never a crash.

#[path = "secrets_common/mod.rs"]
mod common;
#[path = "common/request.rs"]
mod request;

use common::{Home, text};
use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A token endpoint on 127.0.0.1: counts grants, records request bodies,
/// answers each with a new access token (slowly, so concurrent callers
/// would overlap if the lock did not serialise them).
struct TokenEndpoint {
    url: String,
    grants: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<String>>>,
}

/// The status line and JSON body of the `n`th answer.
type Answer = fn(usize) -> (&'static str, String);

fn rotating(n: usize) -> (&'static str, String) {
    (
        "200 OK",
        format!(
            r#"{{"access_token":"access-{n}","token_type":"bearer","expires_in":3600,"refresh_token":"refresh-{n}"}}"#
        ),
    )
}

fn refusing(_: usize) -> (&'static str, String) {
    ("400 Bad Request", r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#.to_owned())
}

impl TokenEndpoint {
    fn start(fail: bool) -> Self {
        Self::answering(if fail { refusing } else { rotating })
    }

    fn answering(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/token", listener.local_addr().expect("addr"));
        let grants = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let (g, b) = (grants.clone(), bodies.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(50) {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let body = request::body(&mut reader);
                b.lock().expect("lock").push(String::from_utf8_lossy(&body).into_owned());
                let n = g.fetch_add(1, Ordering::SeqCst) + 1;
                std::thread::sleep(std::time::Duration::from_millis(300));
                let (status, json) = answer(n);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                    json.len()
                );
            }
        });
        Self { url, grants, bodies }
    }
}

fn store_expired_oauth(home: &Home, url: &str) {
    home.set(
        "gh",
        "access-0",
        &[
            "--type",
            "oauth",
            "--refresh-token",
            "refresh-0",
            "--token-url",
            url,
            "--client-id",
            "ward-cli",
            "--expires-in",
            "0",
        ],
    );
}

#[test]
fn an_expired_oauth_entry_refreshes_itself() {
    let endpoint = TokenEndpoint::start(false);
    let home = Home::new();
    store_expired_oauth(&home, &endpoint.url);
    assert_eq!(home.value("gh"), "access-1");
    assert_eq!(endpoint.grants.load(Ordering::SeqCst), 1);
    let body = endpoint.bodies.lock().expect("lock")[0].clone();
    assert!(body.contains("grant_type=refresh_token"), "{body}");
    assert!(body.contains("refresh_token=refresh-0") && body.contains("client_id=ward-cli"), "{body}");
    // Fresh now: no second grant; the rotated refresh token was kept.
    assert_eq!(home.value("gh"), "access-1");
    assert_eq!(endpoint.grants.load(Ordering::SeqCst), 1);
    let meta: serde_json::Value =
        serde_json::from_str(&home.ok(&["secret", "get", "gh", "-o", "json"])).expect("JSON");
    assert_eq!(meta["expired"], false);
    assert_eq!(meta["refreshable"], true);
}

#[test]
fn two_concurrent_gets_refresh_once() {
    let endpoint = TokenEndpoint::start(false);
    let home = Home::new();
    store_expired_oauth(&home, &endpoint.url);
    let children: Vec<_> = (0..2)
        .map(|_| {
            home.command(common::WARD, &["secret", "get", "gh", "--show-value"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("ward starts")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("ward ends");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "access-1\n");
    }
    assert_eq!(endpoint.grants.load(Ordering::SeqCst), 1, "refreshed more than once");
}

#[test]
fn a_refused_refresh_says_so_and_keeps_the_entry() {
    let endpoint = TokenEndpoint::start(true);
    let home = Home::new();
    store_expired_oauth(&home, &endpoint.url);
    let out = home.ward(&["secret", "get", "gh", "--show-value"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("invalid_grant") && err.contains("refresh token revoked"), "{err}");
    assert!(!err.contains("refresh-0") && !err.contains("access-0"), "a token leaked: {err}");
    assert!(err.contains("--type oauth"), "{err}");
    assert_eq!(home.names(), ["oauth/gh"]);
}

/// A new access token that expires at once and a new refresh token, each time.
fn rotating_and_expiring(n: usize) -> (&'static str, String) {
    ("200 OK", format!(r#"{{"access_token":"access-{n}","expires_in":0,"refresh_token":"refresh-{n}"}}"#))
}

#[test]
fn a_rotated_refresh_token_is_stored_and_used_next_time() {
    let endpoint = TokenEndpoint::answering(rotating_and_expiring);
    let home = Home::new();
    store_expired_oauth(&home, &endpoint.url);
    assert_eq!(home.value("gh"), "access-1");
    assert_eq!(home.value("gh"), "access-2");
    let bodies = endpoint.bodies.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(bodies[0].contains("refresh_token=refresh-0"), "{}", bodies[0]);
    assert!(bodies[1].contains("refresh_token=refresh-1"), "the rotated token was not used: {}", bodies[1]);
}

fn absurd_lifetime(n: usize) -> (&'static str, String) {
    ("200 OK", format!(r#"{{"access_token":"access-{n}","expires_in":9000000000000000}}"#))
}

#[test]
fn an_absurd_lifetime_is_clamped_to_a_year_instead_of_crashing() {
    let endpoint = TokenEndpoint::answering(absurd_lifetime);
    let home = Home::new();
    store_expired_oauth(&home, &endpoint.url);
    let out = home.ward(&["secret", "get", "gh", "--show-value"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "access-1\n");
    let meta: serde_json::Value =
        serde_json::from_str(&home.ok(&["secret", "get", "gh", "-o", "json"])).expect("JSON");
    let expires: chrono::DateTime<chrono::Utc> =
        meta["expires_at"].as_str().and_then(|t| t.parse().ok()).expect("an expiry");
    #[expect(clippy::disallowed_methods, reason = "the CLI under test stamps expiry with the wall clock")]
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((364..=366).contains(&days), "expires in {days} days");
    // `ward secret set --expires-in` takes the same clamp.
    let out = home.run(
        &["secret", "set", "big", "--type", "oauth", "--expires-in", "9000000000000000"],
        "tok\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Answers a token endpoint might give that are no token: each must be a
/// clear error (exit 1) that leaves the entry as it was.
fn hostile(n: usize) -> (&'static str, String) {
    let body = match n {
        1 => "<html>gateway timeout</html>",
        2 => r#"{"token_type":"bearer"}"#,
        3 => r#"{"access_token":""}"#,
        4 => r#"{"access_token":"a\nusername=evil"}"#,
        5 => r#"{"access_token":"ok","expires_in":"soon"}"#,
        6 => r#"{"access_token":"ok","refresh_token":"r\u0000x"}"#,
        _ => r#"{"access_token":"ok","expires_in":1e999}"#,
    };
    ("200 OK", body.to_owned())
}

#[test]
fn a_hostile_token_endpoint_is_a_clear_error_and_changes_nothing() {
    let endpoint = TokenEndpoint::answering(hostile);
    let home = Home::new();
    store_expired_oauth(&home, &endpoint.url);
    for n in 1..=7 {
        let out = home.ward(&["secret", "get", "gh", "--show-value"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "answer {n}: {err}");
        assert!(
            err.contains("refreshing oauth/gh failed") && err.contains(&endpoint.url),
            "answer {n}: {err}"
        );
        assert!(!err.contains("panicked") && !err.contains("refresh-0"), "answer {n}: {err}");
        assert_eq!(text(&out.stdout), "", "answer {n}");
    }
    assert_eq!(endpoint.grants.load(Ordering::SeqCst), 7);
    let listed: serde_json::Value =
        serde_json::from_str(&home.ok(&["secret", "list", "-o", "json"])).expect("JSON");
    assert_eq!(listed["secrets"][0]["expired"], true, "the entry changed: {listed}");
}
