//! Users, sessions and service users through the CLI.

use crate::clocked::ClockedServer;
use crate::harness::{ADMIN_PASSWORD, Server, User, text};
use std::time::Duration;

fn verify(user: &User, token: &str) -> String {
    let out = user.ward(&["token", "verify", token, "--output", "json"]);
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("verify JSON");
    body["code"].as_str().unwrap_or_default().to_owned()
}

/// The session token a user's CLI holds, via `whoami` as that user.
fn session_id(user: &User) -> String {
    user.json(&["whoami"])["token_id"].as_str().expect("token_id").to_owned()
}

#[test]
fn two_devices_two_sessions_each_revocable_and_logout_ends_one() {
    let server = Server::start("");
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    admin.run(&["user", "create", "alice", "--password-stdin"], "alice-password\n");
    let laptop = User::new(&server);
    let phone = User::new(&server);
    laptop.login("alice", "alice-password");
    phone.login("alice", "alice-password");
    assert_ne!(session_id(&laptop), session_id(&phone));

    let out = laptop.ward(&["logout"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Token revoked successfully! You have been logged out."));
    assert_eq!(laptop.ward(&["whoami"]).status.code(), Some(3), "the laptop is logged out");
    assert_eq!(phone.ward(&["whoami"]).status.code(), Some(0), "the phone is not");

    // A user cannot touch another user's tokens, nor learn that the id
    // exists: exit 5, as for a missing token.
    let admins = admin.json(&["token", "list"]);
    let admin_token = admins["tokens"][0]["id"].as_str().expect("id").to_owned();
    let out = phone.ward(&["token", "revoke", &admin_token, "--confirm"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("token not found"), "{}", text(&out.stderr));
    assert_eq!(phone.ward(&["user", "list"]).status.code(), Some(4));
}

#[test]
fn revoke_tokens_and_delete_end_everything_a_user_holds() {
    let server = Server::start("");
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    for name in ["bob", "carol"] {
        admin.run(&["user", "create", name, "--password-stdin"], &format!("{name}-password\n"));
    }
    let bob = User::new(&server);
    bob.login("bob", "bob-password");
    let pat = bob.json(&["token", "create", "--name", "pat", "--type", "personal"]);
    let pat = pat["token"].as_str().expect("token").to_owned();
    let tokens = admin.json(&["user", "tokens", "bob"]);
    assert_eq!(tokens["tokens"].as_array().map(Vec::len), Some(2));

    admin.ok(&["user", "revoke-tokens", "bob", "--confirm"]);
    assert_eq!(verify(&admin, &pat), "REVOKED");
    assert_eq!(bob.ward(&["whoami"]).status.code(), Some(3));

    let carol = User::new(&server);
    carol.login("carol", "carol-password");
    let carols = carol.json(&["token", "create", "--name", "c", "--type", "pipeline"]);
    admin.ok(&["user", "delete", "carol", "--confirm"]);
    assert_eq!(verify(&admin, carols["token"].as_str().expect("token")), "REVOKED");
    assert_eq!(carol.ward(&["whoami"]).status.code(), Some(3));
    let listed = admin.json(&["user", "list"]);
    let names: Vec<&str> =
        listed["users"].as_array().expect("users").iter().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(names, ["admin", "bob"]);
    assert_eq!(
        admin.ward(&["user", "tokens", "carol"]).status.code(),
        Some(5),
        "a deleted user is not found"
    );
}

#[test]
fn a_service_user_key_rotates_with_a_grace_window() {
    let server = ClockedServer::with_config("[[scopes]]\nname = \"read:metrics\"\nrisk = \"low\"\n");
    let admin = User::at(&server.url);
    admin.login("admin", ADMIN_PASSWORD);
    let out = admin.ok(&["service-user", "create", "grafana", "--scopes", "read:metrics,ward:introspect"]);
    let first = out.lines().find_map(|l| l.strip_prefix("Token: ")).expect("Token: line").trim().to_owned();
    assert!(first.starts_with("ward_s_"));
    assert_eq!(verify(&admin, &first), "VALID");

    let rotated = admin.json(&["service-user", "rotate-key", "grafana", "--grace", "1h"]);
    let second = rotated["token"].as_str().expect("new key").to_owned();
    assert_eq!(verify(&admin, &first), "VALID", "inside the grace window");
    assert_eq!(verify(&admin, &second), "VALID");
    server.advance(Duration::from_secs(3_601));
    assert_eq!(verify(&admin, &first), "EXPIRED", "the grace window has passed");
    assert_eq!(verify(&admin, &second), "VALID");

    let list = admin.json(&["service-user", "list"]);
    assert_eq!(list["service_users"][0]["name"], "grafana");
    admin.ok(&["service-user", "delete", "grafana", "--confirm"]);
    assert_eq!(verify(&admin, &second), "REVOKED");
}
