//! Issue 9, findings 2 (mint), 5, 6 and 7: an agent mints only for itself
//! and never beyond its own end; `ward:mint` sees and ends only what its
//! holder minted; approvals need four eyes in an interactive session;
//! ending a user ends their agents and their pending requests.

use crate::agents::{OPS, mint};
use crate::helpers::{Reply, TestApp};
use reqwest::StatusCode;
use serde_json::json;
use ward_server::authority::bootstrap::recover_admin;

fn message(r: &Reply) -> String {
    r.body["error"]["message"].as_str().unwrap_or_default().to_owned()
}

/// A second admin, `bob`, and his session.
async fn bob(app: &TestApp) -> String {
    let admin = app.admin().await;
    let r = app
        .post("/v1/users", &admin, json!({"name": "bob", "role": "admin", "password": "bob-password"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    app.session("bob", "bob-password").await
}

/// A service user created by `creator` and its first key.
async fn service_user(app: &TestApp, creator: &str, name: &str, scopes: &[&str]) -> String {
    let r = app.post("/v1/service-users", creator, json!({"name": name, "scopes": scopes})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["key"]["token"].as_str().unwrap_or_default().to_owned()
}

/// An `approval_required` answer's id for `token` asking to reboot.
async fn ask_reboot(app: &TestApp, token: &str) -> String {
    let r = app.post("/v1/authorize", token, json!({"operation": "reboot"})).await;
    assert_eq!(r.str("decision"), "approval_required", "{:?}", r.body);
    r.str("approval_id")
}

#[tokio::test]
async fn an_agent_token_mints_only_for_its_own_name_and_never_beyond_its_own_end() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let agent = mint(&app, &admin, "builder", &["ward:mint", "system:read"], "1h").await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);
    let agent = agent.str("token");

    let other = mint(&app, &agent, "deployer", &["system:read"], "30d").await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{:?}", other.body);
    assert!(message(&other).contains("builder"), "names the agent it may mint for: {:?}", other.body);
    let other_short = mint(&app, &agent, "deployer", &["system:read"], "10m").await;
    assert_eq!(other_short.status, StatusCode::FORBIDDEN, "another agent, even briefly");

    let long = mint(&app, &agent, "builder", &["system:read"], "30d").await;
    assert_eq!(long.status, StatusCode::FORBIDDEN, "{:?}", long.body);
    assert!(message(&long).contains("outlive"), "says why: {:?}", long.body);

    let ok = mint(&app, &agent, "builder", &["system:read"], "30m").await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);
}

#[tokio::test]
async fn a_token_that_expires_cannot_mint_past_its_end_but_a_session_can() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let minter = app
        .create_token(
            &admin,
            json!({"name": "m", "type": "pipeline", "scopes": ["ward:mint", "system:read"], "ttl": "1h"}),
        )
        .await;
    assert_eq!(minter.status, StatusCode::CREATED, "{:?}", minter.body);
    let minter = minter.str("token");
    let r = mint(&app, &minter, "ci", &["system:read"], "2h").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(mint(&app, &minter, "ci", &["system:read"], "30m").await.status, StatusCode::CREATED);
    assert_eq!(mint(&app, &admin, "ci", &["system:read"], "30d").await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn ward_mint_lists_and_revokes_only_what_its_holder_minted() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let admins = mint(&app, &admin, "backup", &["system:read"], "1h").await;
    let key = service_user(&app, &admin, "minter", &["ward:mint", "system:read"]).await;
    let own = mint(&app, &key, "scraper", &["system:read"], "1h").await;
    assert_eq!(own.status, StatusCode::CREATED, "{:?}", own.body);

    let listed = app.get("/v1/mint", &key).await;
    assert_eq!(listed.status, StatusCode::OK);
    let agents: Vec<&str> = listed.body["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|t| t["agent"].as_str())
        .collect();
    assert_eq!(agents, ["scraper"], "only its own");
    let by_name = app.get("/v1/mint?agent=backup", &key).await;
    assert_eq!(by_name.body["tokens"], json!([]), "{:?}", by_name.body);

    let theirs = app.post("/v1/mint/revoke", &key, json!({"jti": admins.str("jti")})).await;
    let missing = app.post("/v1/mint/revoke", &key, json!({"jti": "tok_01m8sxzty9hdwb1kfnxmx0svsb"})).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{:?}", theirs.body);
    assert_eq!((theirs.status, &theirs.body), (missing.status, &missing.body), "same as a missing jti");
    let garbled = app.post("/v1/mint/revoke", &key, json!({"jti": "tok_0000"})).await;
    assert_eq!(
        garbled.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a jti that is no id is bad input: {:?}",
        garbled.body
    );
    let by_agent = app.post("/v1/mint/revoke", &key, json!({"agent": "backup"})).await;
    assert_eq!(by_agent.body["revoked"], 0, "{:?}", by_agent.body);
    assert_eq!(app.verify(&admin, &admins.str("token")).await.str("code"), "VALID");

    // An admin still sees and ends everything.
    let all = app.get("/v1/mint", &admin).await;
    assert_eq!(all.body["tokens"].as_array().map(Vec::len), Some(2));
    let r = app.post("/v1/mint/revoke", &admin, json!({"jti": own.str("jti")})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

#[tokio::test]
async fn an_agent_with_ward_mint_sees_and_ends_only_its_own_tokens() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let sibling = mint(&app, &admin, "sibling", &["system:read"], "1h").await;
    let agent = mint(&app, &admin, "builder", &["ward:mint", "system:read"], "1h").await;
    let agent_token = agent.str("token");
    let child = mint(&app, &agent_token, "builder", &["system:read"], "30m").await;
    assert_eq!(child.status, StatusCode::CREATED, "{:?}", child.body);

    let listed = app.get("/v1/mint", &agent_token).await;
    let agents: Vec<&str> = listed.body["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|t| t["agent"].as_str())
        .collect();
    assert_eq!(agents, ["builder", "builder"], "{:?}", listed.body);
    let r = app.post("/v1/mint/revoke", &agent_token, json!({"agent": "sibling"})).await;
    assert_eq!(r.body["revoked"], 0, "{:?}", r.body);
    let r = app.post("/v1/mint/revoke", &agent_token, json!({"jti": sibling.str("jti")})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    assert_eq!(app.verify(&admin, &sibling.str("token")).await.str("code"), "VALID");
    let r = app.post("/v1/mint/revoke", &agent_token, json!({"jti": child.str("jti")})).await;
    assert_eq!(r.status, StatusCode::OK, "its own: {:?}", r.body);
}

#[tokio::test]
async fn an_admin_cannot_approve_their_own_agent_with_a_service_user_key_they_made() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let sidekick = service_user(&app, &admin, "sidekick", &["ward:admin", "ward:mint", "system:admin"]).await;
    let patcher = mint(&app, &admin, "patcher", &["system:admin"], "1h").await.str("token");
    let id = ask_reboot(&app, &patcher).await;
    let r = app.post(&format!("/v1/approvals/{id}/approve"), &sidekick, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(message(&r).contains("ward login"), "says to decide from a login session: {:?}", r.body);

    // The other way round: the service user's agent asks, its creator decides.
    let agent = mint(&app, &sidekick, "helper", &["system:admin"], "1h").await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);
    let id = ask_reboot(&app, &agent.str("token")).await;
    let r = app.post(&format!("/v1/approvals/{id}/approve"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(message(&r).contains("created"), "names the rule: {:?}", r.body);
    let bob = bob(&app).await;
    let r = app.post(&format!("/v1/approvals/{id}/approve"), &bob, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "another admin, in a session: {:?}", r.body);
}

#[tokio::test]
async fn approvals_are_decided_only_from_a_login_session() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let bob = bob(&app).await;
    let patcher = mint(&app, &bob, "patcher", &["system:admin"], "1h").await.str("token");
    let id = ask_reboot(&app, &patcher).await;
    let pat = app.create_token(&admin, json!({"name": "automation", "type": "personal"})).await;
    assert_eq!(pat.status, StatusCode::CREATED, "{:?}", pat.body);
    let r = app.post(&format!("/v1/approvals/{id}/approve"), &pat.str("token"), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "an admin's API token: {:?}", r.body);
    let r = app.post(&format!("/v1/approvals/{id}/approve"), &bob, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the minter: {:?}", r.body);
    assert!(message(&r).contains("minted"), "{:?}", r.body);
    let r = app.post(&format!("/v1/approvals/{id}/approve"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

/// Bob (an admin) mints an agent which asks for a reboot; returns the
/// agent's token and the pending approval's id.
async fn bobs_agent(app: &TestApp) -> (String, String) {
    let bob = bob(app).await;
    let agent = mint(app, &bob, "patcher", &["system:admin"], "1h").await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);
    let token = agent.str("token");
    let id = ask_reboot(app, &token).await;
    (token, id)
}

async fn approval(app: &TestApp, admin: &str, id: &str) -> serde_json::Value {
    let listed = app.get("/v1/approvals", admin).await;
    listed.body["approvals"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == json!(id)).cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn revoking_a_users_tokens_ends_the_agents_they_minted_and_their_requests() {
    let app = TestApp::with_config(OPS).await;
    let (agent, id) = bobs_agent(&app).await;
    let admin = app.admin().await;
    let r = app.post("/v1/users/bob/revoke-tokens", &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(app.verify(&admin, &agent).await.str("code"), "REVOKED");
    assert_eq!(app.get("/v1/whoami", &agent).await.status, StatusCode::UNAUTHORIZED);
    let a = approval(&app, &admin, &id).await;
    assert_eq!(a["status"], "denied", "{a:?}");
    assert!(a["reason"].as_str().unwrap_or_default().contains("ended"), "{a:?}");
    let r = app.post(&format!("/v1/approvals/{id}/approve"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
}

#[tokio::test]
async fn deleting_a_user_ends_the_agents_they_minted_and_their_requests() {
    let app = TestApp::with_config(OPS).await;
    let (agent, id) = bobs_agent(&app).await;
    let admin = app.admin().await;
    let r = app.delete("/v1/users/bob", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(app.verify(&admin, &agent).await.str("code"), "REVOKED");
    let listed = app.get("/v1/mint?agent=patcher", &admin).await;
    assert_eq!(listed.body["tokens"][0]["status"], "revoked", "{:?}", listed.body);
    assert_eq!(approval(&app, &admin, &id).await["status"], "denied");
}

#[tokio::test]
async fn recover_admin_ends_the_old_admins_sessions_and_agents() {
    // The CLI runs recover-admin in its own process, past this server's
    // cache; the cache is off here so the test sees the database.
    let app = TestApp::with_config(&format!("{OPS}\n[cache]\ncapacity = 0\n")).await;
    let old = app.admin().await;
    let agent = mint(&app, &old, "backup", &["system:read"], "1h").await.str("token");
    recover_admin(app.store.as_ref(), Some("a brand new password".into())).await.expect("recover");
    let new = app.session("admin", "a brand new password").await;
    assert_eq!(app.verify(&new, &old).await.str("code"), "REVOKED");
    assert_eq!(app.verify(&new, &agent).await.str("code"), "REVOKED");

    // The recovery left its own event in the trail, and the chain holds.
    let trail = app.get("/v1/audit?action=admin.recover", &new).await;
    let events = trail.body["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1, "{:?}", trail.body);
    assert_eq!(events[0]["subject"], "admin");
    assert!(events[0]["decision"].as_str().unwrap_or_default().contains("ended"), "{:?}", events[0]);
    let verified = app.get("/v1/audit/verify", &new).await;
    assert_eq!(verified.body["ok"], true, "{:?}", verified.body);
}
