//! Every dashboard table with dates sorts by date both ways with plain
//! links (no JavaScript): users, service users, approvals, minted agent
//! tokens, signing keys and the audit trail, as the token tables do. The
//! audit trail sorts in the store (`GET /v1/audit?order=oldest`), so its
//! pages continue in the order chosen.

use crate::agents::{OPS, mint};
use crate::helpers::{ADMIN_PASSWORD, TestApp};
use crate::ui_support::{Browser, Page};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

/// Where each of `names` first appears in the page, in order of the names.
fn order(page: &Page, names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .map(|n| page.body.find(n).unwrap_or_else(|| panic!("{n} is not on the page: {}", page.body)))
        .collect()
}

/// Whether `first` appears before `second` in the page.
fn before(page: &Page, first: &str, second: &str) -> bool {
    let at = order(page, &[first, second]);
    at[0] < at[1]
}

/// Checks that `path` with `asc` puts `older` first, with `desc` `newer`
/// first, and that the page links to the other way.
async fn sorts_both_ways(b: &Browser<'_>, path: &str, key: &str, older: &str, newer: &str) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let asc = b.get(&format!("{path}{sep}sort={key}_asc")).await;
    assert_eq!(asc.status, StatusCode::OK, "{path}: {}", asc.body);
    assert!(before(&asc, older, newer), "{path} sort={key}_asc");
    assert!(asc.body.contains(r#"aria-sort="ascending""#), "{path}");
    assert!(asc.body.contains(&format!("sort={key}_desc")), "{path}: no link to sort the other way");
    let desc = b.get(&format!("{path}{sep}sort={key}_desc")).await;
    assert!(before(&desc, newer, older), "{path} sort={key}_desc");
    assert!(desc.body.contains(r#"aria-sort="descending""#), "{path}");
    assert!(desc.body.contains(&format!("sort={key}_asc")), "{path}: no link to sort the other way");
}

#[tokio::test]
async fn users_and_service_users_sort_by_creation_both_ways() {
    let app = TestApp::spawn().await;
    let admin_api = app.admin().await;
    for name in ["user-older", "user-newer"] {
        let r = app.post("/v1/users", &admin_api, json!({"name": name, "password": "a-password-1"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = app
            .post(
                "/v1/service-users",
                &admin_api,
                json!({"name": format!("svc-{name}"), "scopes": ["ward:introspect"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        app.advance(HOUR);
    }
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let plain = admin.get("/ui/users").await;
    assert!(plain.body.contains(r#"href="/ui/users?sort=created_asc""#), "a link, no script needed");
    sorts_both_ways(&admin, "/ui/users", "created", "user-older", "user-newer").await;
    sorts_both_ways(&admin, "/ui/service-users", "created", "svc-user-older", "svc-user-newer").await;
}

#[tokio::test]
async fn approvals_sort_by_when_asked_and_by_time_left_both_ways() {
    let app = TestApp::with_config(OPS).await;
    let admin_api = app.admin().await;
    let agent = mint(&app, &admin_api, "patcher", &["system:admin"], "1h").await.str("token");
    for op in ["install_updates", "reboot"] {
        let r = app.post("/v1/authorize", &agent, json!({"operation": op})).await;
        assert_eq!(r.str("decision"), "approval_required", "{:?}", r.body);
        app.advance(Duration::from_secs(60));
    }
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    sorts_both_ways(&admin, "/ui/approvals", "asked", "<code>install_updates", "<code>reboot").await;
    // The older request has less time left.
    sorts_both_ways(&admin, "/ui/approvals", "left", "<code>install_updates", "<code>reboot").await;
}

#[tokio::test]
async fn minted_tokens_and_signing_keys_sort_by_their_dates_both_ways() {
    let app = TestApp::with_config(OPS).await;
    let admin_api = app.admin().await;
    let first = mint(&app, &admin_api, "agent-older", &["system:read"], "3h").await;
    app.advance(HOUR);
    let rotated = app.call(reqwest::Method::POST, "/v1/keys/rotate", Some(&admin_api), None).await;
    assert_eq!(rotated.status, StatusCode::CREATED);
    let second = mint(&app, &admin_api, "agent-newer", &["system:read"], "1h").await;
    assert_ne!(first.str("kid"), second.str("kid"));
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    sorts_both_ways(&admin, "/ui/agents", "issued", "agent-older", "agent-newer").await;
    // The newer one (1 h) ends before the older one (3 h).
    sorts_both_ways(&admin, "/ui/agents", "expires", "agent-newer", "agent-older").await;
    let keys = |page: &Page| {
        let table = &page.body[page.body.find("Signing keys").expect("the keys table")..];
        table.find(&first.str("kid")).expect("old kid") < table.find(&second.str("kid")).expect("new kid")
    };
    let asc = admin.get("/ui/agents?ksort=created_asc").await;
    assert!(keys(&asc), "keys oldest first");
    let desc = admin.get("/ui/agents?ksort=created_desc").await;
    assert!(!keys(&desc), "keys newest first");
    assert!(desc.body.contains("ksort=created_asc"), "a link to sort the keys the other way");
}

/// The `data-seq` of each audit row, in page order.
fn seqs(page: &Page) -> Vec<u64> {
    page.body.split(r#"data-seq=""#).skip(1).filter_map(|s| s.split('"').next()?.parse().ok()).collect()
}

#[tokio::test]
async fn the_audit_trail_sorts_oldest_first_across_its_pages() {
    let app = TestApp::spawn().await;
    let admin_api = app.admin().await;
    for n in 0..60 {
        let r = app.create_token(&admin_api, json!({"name": format!("t{n}"), "type": "pipeline"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let newest = seqs(&admin.get("/ui/audit").await);
    assert!(newest.windows(2).all(|w| w[0] > w[1]) && newest.len() == 50, "{newest:?}");
    let page = admin.get("/ui/audit?action=token.create&sort=time_asc").await;
    let first = seqs(&page);
    assert_eq!(first.len(), 50);
    assert!(first.windows(2).all(|w| w[0] < w[1]), "{first:?}");
    let next = page
        .body
        .split(r#"rel="next" href=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a next page");
    let next = next.replace("&amp;", "&");
    assert!(next.contains("sort=time_asc"), "{next}");
    let rest = seqs(&admin.get(&next).await);
    assert_eq!(rest.len(), 10, "{rest:?}");
    assert!(rest[0] > first[49] && rest.windows(2).all(|w| w[0] < w[1]), "{first:?} then {rest:?}");

    // The API answers the same order.
    let api = app.get("/v1/audit?action=token.create&order=oldest&limit=2", &admin_api).await;
    let got: Vec<u64> =
        api.body["events"].as_array().expect("events").iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!(got, first[..2]);
    let bad = app.get("/v1/audit?order=sideways", &admin_api).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}
