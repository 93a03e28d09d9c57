//! Every input field has a length bound at the edge: over it, a clear 4xx,
//! and nothing of the value stored or audited.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn over_long_agent_names_operations_and_reasons_are_refused_and_never_audited() {
    let mut app = TestApp::spawn().await;
    let admin = app.admin().await;
    let marker = "zqv".repeat(10);
    let long = format!("{marker}{}", "x".repeat(10_000));
    let tries = [
        ("/v1/mint/revoke", json!({"agent": long})),
        ("/v1/mint/revoke", json!({"jti": long})),
        ("/v1/mint", json!({"agent": long, "scopes": [], "ttl": "1h"})),
        ("/v1/authorize", json!({"operation": long})),
        ("/v1/approvals/apr_x/deny", json!({"reason": long})),
    ];
    for (path, body) in tries {
        let r = app.post(path, &admin, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {:?}", r.body);
        let message = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("bytes") && !message.contains(&marker), "{path}: {message}");
    }
    let r = app.get(&format!("/v1/mint?agent={long}"), &admin).await;
    assert!(r.status.is_client_error(), "{:?}", r.status);

    let trail = app.get("/v1/audit?limit=1000", &admin).await.body.to_string();
    assert!(!trail.contains(&marker), "an over-long value reached the audit trail");
    app.stop().await;
    let mut stored = std::fs::read(&app.db_path).expect("read the database");
    stored.extend(std::fs::read(app.db_path.with_extension("db-wal")).unwrap_or_default());
    assert!(!stored.windows(marker.len()).any(|w| w == marker.as_bytes()), "it reached the database");
}
