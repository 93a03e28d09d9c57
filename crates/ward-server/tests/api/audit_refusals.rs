//! Refused requests in the audit trail: counted per client address and
//! route template, never by the raw path, with every stored field capped,
//! so an unauthenticated flood cannot write its own text into the chain.

use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};

/// Every stored event, oldest first, read from the store itself.
async fn all_events(app: &TestApp) -> Vec<ward_core::audit::ChainedEntry> {
    ward_store::AuditLog::audit_chain(app.store.as_ref(), None, 10_000).await.expect("read the chain")
}

#[tokio::test]
async fn garbage_bearers_on_distinct_paths_add_a_handful_of_rows_and_no_attacker_text() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert!(app.get("/v1/audit/verify", &admin).await.status.is_success());
    let before = all_events(&app).await.len();

    for n in 0..300 {
        let marker = format!("attackerpath{n:03}{}", "x".repeat(200));
        let path = match n % 3 {
            0 => format!("/v1/tokens/{marker}"),
            1 => format!("/v1/users/{marker}/tokens"),
            _ => format!("/v1/{marker}"),
        };
        let r = app.call(Method::GET, &path, Some("garbage-bearer-value"), None).await;
        assert!(
            r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::NOT_FOUND,
            "{path}: {:?}",
            r.status
        );
    }
    // The search flushes the counted uses into the chain.
    assert!(app.get("/v1/audit/verify", &admin).await.status.is_success());

    let events = all_events(&app).await;
    let added = &events[before..];
    assert!(added.len() <= 10, "{} rows for 300 refused requests: {added:#?}", added.len());
    for event in &events {
        let text = String::from_utf8(event.entry.canonical()).unwrap_or_default();
        assert!(!text.contains("attackerpath"), "attacker text stored: {text}");
        assert!(text.len() < 4000, "one event stored {} bytes", text.len());
    }
    let refused: u64 = added
        .iter()
        .filter(|e| e.entry.action == "token.use" && e.entry.decision.as_deref() == Some("MALFORMED"))
        .map(|e| e.entry.count.unwrap_or(1))
        .sum();
    assert!(refused >= 200, "the refusals are counted, not dropped: {refused}");
    let operations: std::collections::BTreeSet<_> =
        added.iter().filter_map(|e| e.entry.operation.as_deref()).collect();
    assert!(operations.contains("GET /v1/tokens/{id}"), "{operations:?}");
}
