//! The dashboard's admin views: "expiring soon" across users, the
//! four-eyes rule shown on each approval row, the pages that ask before a
//! destructive admin action, and pages that answer with the API's rules
//! because they call its authority functions.

use crate::agents::{OPS, mint};
use crate::helpers::{ADMIN_PASSWORD, TestApp};
use crate::ui_support::{Browser, Page, user_browser};
use reqwest::StatusCode;
use serde_json::json;

/// The `<tr>` whose opening tag holds `marker`, up to its end.
fn row<'a>(page: &'a Page, marker: &str) -> &'a str {
    let at = page.body.find(marker).unwrap_or_else(|| panic!("no row with {marker}: {}", page.body));
    let start = page.body[..at].rfind("<tr").expect("a row");
    let end = at + page.body[at..].find("</tr>").expect("the row's end");
    &page.body[start..end]
}

#[tokio::test]
async fn admins_see_every_users_tokens_expiring_soon_with_the_owner_and_users_only_their_own() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for (who, name, ttl) in
        [(&alice, "alice-soon", "3d"), (&bob, "bob-soon", "5d"), (&bob, "bob-later", "20d")]
    {
        let r = app.create_token(who, json!({"name": name, "type": "pipeline", "ttl": ttl})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let week = admin.get("/ui/expiring").await;
    assert_eq!(week.status, StatusCode::OK);
    assert!(week.body.contains("Every user"), "{}", week.body);
    assert!(week.body.contains(r#"<th scope="col">Owner</th>"#), "no owner column");
    assert!(row(&week, "alice-soon").contains(r#"<td class="owner">alice</td>"#));
    assert!(row(&week, "bob-soon").contains(r#"<td class="owner">bob</td>"#));
    assert!(!week.body.contains("bob-later"), "20 days is not within 7");
    let month = admin.get("/ui/expiring?days=30").await;
    assert!(row(&month, "bob-later").contains("bob"));

    let alice_page = user_browser_of(&app, "alice").await.get("/ui/expiring?days=30").await;
    assert!(alice_page.body.contains("alice-soon"));
    assert!(
        !alice_page.body.contains("bob-soon") && !alice_page.body.contains("bob-later"),
        "another user's"
    );
    assert!(!alice_page.body.contains(">Owner<"), "an owner column for one's own tokens");
}

async fn user_browser_of<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    Browser::sign_in(app, name, &format!("{name}-password")).await
}

async fn authorize(app: &TestApp, token: &str, operation: &str) -> String {
    let r = app.post("/v1/authorize", token, json!({"operation": operation})).await;
    assert_eq!(r.str("decision"), "approval_required", "{:?}", r.body);
    r.str("approval_id")
}

#[tokio::test]
async fn each_approval_row_says_whether_the_viewer_may_decide_it_and_why_not() {
    let app = TestApp::with_config(OPS).await;
    let admin_api = app.admin().await;
    let r = app
        .post("/v1/users", &admin_api, json!({"name": "bob", "role": "admin", "password": "bob-password"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let agent = mint(&app, &admin_api, "patcher", &["system:read", "system:admin"], "1h").await.str("token");
    let id = authorize(&app, &agent, "install_updates").await;

    // The minter: the row names the rule's reason, and offers no buttons.
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let queue = admin.get("/ui/approvals").await;
    let mine = row(&queue, &format!(r#"data-approval-id="{id}""#));
    assert!(mine.contains(r#"data-may-decide="no""#), "{mine}");
    assert!(mine.contains("you minted the agent that asked for this approval"), "{mine}");
    assert!(!mine.contains("Approve") && !mine.contains(r#"action="/ui/approvals/"#), "buttons: {mine}");
    assert!(mine.contains(">admin<"), "the user behind it is named: {mine}");

    // Another admin: may decide, with buttons.
    let bob = Browser::sign_in(&app, "bob", "bob-password").await;
    let theirs = bob.get("/ui/approvals").await;
    let theirs = row(&theirs, &format!(r#"data-approval-id="{id}""#));
    assert!(theirs.contains(r#"data-may-decide="yes""#) && theirs.contains("Approve"), "{theirs}");

    // The same rule as the API: the minter's decision is refused there too.
    let own = app.post(&format!("/v1/approvals/{id}/approve"), &admin_api, json!({})).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_request_from_another_admins_agent_is_decidable_and_names_that_admin() {
    let app = TestApp::with_config(OPS).await;
    let admin_api = app.admin().await;
    let r = app
        .post("/v1/users", &admin_api, json!({"name": "bob", "role": "admin", "password": "bob-password"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let bob_api = app.session("bob", "bob-password").await;
    let agent = mint(&app, &bob_api, "patcher", &["system:admin"], "1h").await.str("token");
    let id = authorize(&app, &agent, "reboot").await;
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let queue = admin.get("/ui/approvals").await;
    let r = row(&queue, &format!(r#"data-approval-id="{id}""#));
    assert!(r.contains(r#"data-may-decide="yes""#), "admin did not mint it: {r}");
    assert!(r.contains(">bob<"), "{r}");
}

#[tokio::test]
async fn every_destructive_admin_action_asks_first_on_a_page_that_names_its_object() {
    let app = TestApp::with_config(OPS).await;
    let admin_api = app.admin().await;
    let carol_api = app.user("carol").await;
    app.create_token(&carol_api, json!({"name": "carols", "type": "pipeline"})).await;
    let r = app
        .post("/v1/service-users", &admin_api, json!({"name": "ops-api", "scopes": ["ward:introspect"]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let minted = mint(&app, &admin_api, "patcher", &["system:read"], "1h").await;
    let jti = minted.str("jti");
    let kid = minted.str("kid");
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;

    // The lists link to the pages; no list posts the action itself.
    let users = admin.get("/ui/users").await.body;
    assert!(
        users.contains(r#"href="/ui/users/carol/revoke-tokens""#)
            && users.contains(r#"href="/ui/users/carol/delete""#)
    );
    assert!(!users.contains(r#"action="/ui/users/carol/"#), "a users row posts without asking");
    let services = admin.get("/ui/service-users").await.body;
    assert!(services.contains(r#"href="/ui/service-users/ops-api/delete""#));
    assert!(!services.contains(r#"action="/ui/service-users/ops-api/delete""#));
    let agents = admin.get("/ui/agents").await.body;
    assert!(agents.contains(&format!(r#"href="/ui/keys/{kid}/retire""#)), "{agents}");
    assert!(agents.contains(&format!(r#"href="/ui/agents/revoke?jti={jti}""#)), "{agents}");
    assert!(!agents.contains(&format!(r#"action="/ui/keys/{kid}/retire""#)));

    let asks = [
        ("/ui/users/carol/revoke-tokens".to_owned(), "carol", "/ui/users/carol/revoke-tokens"),
        ("/ui/users/carol/delete".to_owned(), "carol", "/ui/users/carol/delete"),
        ("/ui/service-users/ops-api/delete".to_owned(), "ops-api", "/ui/service-users/ops-api/delete"),
        (format!("/ui/keys/{kid}/retire"), kid.as_str(), "/ui/keys/"),
        ("/ui/agents/revoke?agent=patcher".to_owned(), "patcher", "/ui/agents/revoke"),
        (format!("/ui/agents/revoke?jti={jti}"), jti.as_str(), "/ui/agents/revoke"),
    ];
    for (page, names, posts_to) in &asks {
        let ask = admin.get(page).await;
        assert_eq!(ask.status, StatusCode::OK, "{page}: {}", ask.body);
        assert!(ask.body.contains(names), "{page} does not name {names}");
        assert!(ask.body.contains(&format!(r#"action="{posts_to}"#)), "{page} has no form to {posts_to}");
        assert!(ask.body.contains("Cancel"), "{page}");
    }
    let count = admin.get("/ui/users/carol/revoke-tokens").await.body;
    assert!(count.contains(r#"data-count="active">2<"#), "carol's token and session: {count}");

    // Asking changed nothing; confirming does what it said.
    assert_eq!(app.verify(&admin_api, &carol_api).await.str("code"), "VALID");
    let ask = admin.get("/ui/users/carol/revoke-tokens").await;
    let done = admin.post("/ui/users/carol/revoke-tokens", &[("csrf", &ask.csrf())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(app.verify(&admin_api, &carol_api).await.str("code"), "REVOKED");
    let ask = admin.get(&format!("/ui/keys/{kid}/retire")).await;
    assert_eq!(
        admin.post(&format!("/ui/keys/{kid}/retire"), &[("csrf", &ask.csrf())]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        admin.get(&format!("/ui/keys/{kid}/retire")).await.status,
        StatusCode::CONFLICT,
        "retired twice"
    );
}

#[tokio::test]
async fn the_pages_that_ask_answer_a_normal_user_as_the_action_would() {
    let app = TestApp::with_config(OPS).await;
    let admin_api = app.admin().await;
    let minted = mint(&app, &admin_api, "patcher", &["system:read"], "1h").await;
    let dave = user_browser(&app, "dave").await;
    app.user("erin").await;
    for page in [
        "/ui/users/erin/revoke-tokens".to_owned(),
        "/ui/users/erin/delete".to_owned(),
        "/ui/service-users/erin/delete".to_owned(),
        format!("/ui/keys/{}/retire", minted.str("kid")),
    ] {
        let r = dave.get(&page).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{page}");
        assert!(r.body.contains("Not allowed") && !r.body.contains("csrf"), "{page}: {}", r.body);
    }
    // Someone else's agent token is not found, exactly like a missing one.
    let r = dave.get(&format!("/ui/agents/revoke?jti={}", minted.str("jti"))).await;
    assert!(matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.status);
    // An admin cannot be asked to delete themselves.
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(admin.get("/ui/users/admin/delete").await.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_create_form_answers_as_create_does_for_a_session_without_ward_tokens() {
    // Users may only introspect: their sessions cannot create tokens, so
    // the form is the API's 403, not a form that would fail when posted.
    let app = TestApp::with_config("[roles]\nuser = [\"ward:introspect\"]\n").await;
    let dave = user_browser(&app, "dave").await;
    let form = dave.get("/ui/tokens/new").await;
    assert_eq!(form.status, StatusCode::FORBIDDEN, "{}", form.body);
    assert!(form.body.contains("ward:tokens"), "{}", form.body);
    let admin = Browser::sign_in(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(admin.get("/ui/tokens/new").await.status, StatusCode::OK);
}
