//! Signed agent tokens, signing keys, `ward authorize` and approvals through
//! the CLI, against a server running `examples/ops.toml`.

use crate::harness::{ADMIN_PASSWORD, Server, User, text};
use serde_json::Value;

const OPS: &str = include_str!("../../../../examples/ops.toml");

fn admin(server: &Server) -> User {
    let user = User::new(server);
    user.login("admin", ADMIN_PASSWORD);
    user
}

/// `ward mint … --output json`: the token and its id.
fn mint(user: &User, agent: &str, scopes: &str) -> (String, String) {
    let m = user.json(&["mint", "--agent", agent, "--scopes", scopes, "--ttl", "1h"]);
    let field = |name: &str| m[name].as_str().unwrap_or_else(|| panic!("no {name} in {m}")).to_owned();
    (field("token"), field("jti"))
}

/// `ward mint verify -` with the token on stdin: exit code and `code`.
fn verify(user: &User, token: &str) -> (Option<i32>, String) {
    let out = user.run(&["mint", "verify", "-", "--output", "json"], &format!("{token}\n"));
    let body: Value = serde_json::from_slice(&out.stdout).expect("verify JSON");
    (out.status.code(), body["code"].as_str().unwrap_or_default().to_owned())
}

/// `ward authorize --token TOKEN --operation OP [extra…] --output json`:
/// exit code, the JSON answer (Null when there is none), stderr.
fn authorize(user: &User, token: &str, op: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec!["authorize", "--token", token, "--operation", op, "--output", "json"];
    args.extend(extra);
    let out = user.ward(&args);
    let body = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), body, text(&out.stderr))
}

#[test]
fn mint_prints_the_token_once_with_its_expanded_scopes_and_mint_verify_checks_it() {
    let server = Server::start(OPS);
    let admin = admin(&server);
    let out = admin.ok(&["mint", "--agent", "grafana-datasource", "--scopes", "readonly", "--ttl", "1d"]);
    assert!(out.contains("\nScopes: container:read, file:read, network:read, system:read\n"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("Expires: 20")), "{out}");
    assert!(out.contains("shown only once"), "{out}");
    let token = out.lines().find_map(|l| l.strip_prefix("Token: ")).expect("Token: line").trim().to_owned();
    assert!(token.starts_with("eyJ"), "a JWT: {out}");

    let checked = admin.ok(&["mint", "verify", &token]);
    assert!(checked.starts_with("✓ Agent token is valid"), "{checked}");
    assert!(checked.contains("Agent:   grafana-datasource"), "{checked}");
    assert_eq!(verify(&admin, &token), (Some(0), "VALID".into()));

    let json = admin.json(&["mint", "--agent", "ci", "--scopes", "container:read", "--ttl", "2h"]);
    assert_eq!(json["agent"], "ci");
    assert_eq!(json["scopes"], serde_json::json!(["container:read"]));
    let jti = json["jti"].as_str().expect("jti");
    let listed = admin.ok(&["mint", "list", "--agent", "ci"]);
    assert!(listed.starts_with("JTI "), "{listed}");
    assert!(listed.contains(jti) && listed.contains("active"), "{listed}");
    assert!(!listed.contains("eyJ"), "a listing never shows a token: {listed}");

    // Not a JWT: refused here, exit 3, and never sent.
    assert_eq!(verify(&admin, "not-a-token"), (Some(3), "MALFORMED".into()));
    // Over the server's mint.max_ttl: the server's message names the limit.
    let long = admin.ward(&["mint", "--agent", "x", "--scopes", "system:read", "--ttl", "31d"]);
    assert_eq!(long.status.code(), Some(1));
    assert!(text(&long.stderr).contains("30d"), "{}", text(&long.stderr));
    let bad = admin.ward(&["mint", "--agent", "x", "--scopes", "system:read", "--ttl", "3y"]);
    assert_eq!(bad.status.code(), Some(2), "a bad duration is a usage error");
    let missing = admin.ward(&["mint", "--agent", "x", "--ttl", "1h"]);
    assert_eq!(missing.status.code(), Some(2), "--scopes is required");
}

#[test]
fn revoke_by_jti_kills_one_and_by_agent_kills_only_those_issued_before() {
    let server = Server::start(OPS);
    let admin = admin(&server);
    let (a1, a1_jti) = mint(&admin, "patcher", "system:read");
    let (a2, _) = mint(&admin, "patcher", "system:read");
    let (other, _) = mint(&admin, "grafana", "system:read");

    let refused = admin.ward(&["mint", "revoke", "--jti", &a1_jti]);
    assert_eq!(refused.status.code(), Some(2), "no terminal and no --confirm");
    assert!(text(&refused.stderr).contains("--confirm"), "{}", text(&refused.stderr));
    assert_eq!(verify(&admin, &a1), (Some(0), "VALID".into()));

    let out = admin.ok(&["mint", "revoke", "--jti", &a1_jti, "--confirm"]);
    assert!(out.contains("revoked"), "{out}");
    assert_eq!(verify(&admin, &a1), (Some(3), "REVOKED".into()));
    assert_eq!(verify(&admin, &a2), (Some(0), "VALID".into()));

    let revoked = admin.json(&["mint", "revoke", "--agent", "patcher", "--confirm"]);
    assert_eq!(revoked["revoked"], 1, "a1 was already revoked");
    let (after, _) = mint(&admin, "patcher", "system:read");
    assert_eq!(verify(&admin, &a2), (Some(3), "REVOKED".into()));
    assert_eq!(verify(&admin, &after), (Some(0), "VALID".into()), "minted after the revoke");
    assert_eq!(verify(&admin, &other), (Some(0), "VALID".into()), "another agent");

    let listed = admin.json(&["mint", "list", "--agent", "patcher"]);
    let statuses: Vec<&str> =
        listed["tokens"].as_array().expect("tokens").iter().filter_map(|t| t["status"].as_str()).collect();
    assert_eq!(statuses, ["active", "revoked", "revoked"]);
}

#[test]
fn after_keys_rotate_old_and_new_tokens_verify_and_keys_retire_kills_the_old_ones() {
    let server = Server::start(OPS);
    let admin = admin(&server);
    let (old, _) = mint(&admin, "ci", "container:read");
    let rotated = admin.json(&["keys", "rotate"]);
    let new_kid = rotated["kid"].as_str().expect("kid").to_owned();
    assert_eq!(rotated["status"], "active");
    let (new, _) = mint(&admin, "ci", "container:read");
    assert_eq!(verify(&admin, &old), (Some(0), "VALID".into()));
    assert_eq!(verify(&admin, &new), (Some(0), "VALID".into()));

    let table = admin.ok(&["keys", "list"]);
    assert!(table.starts_with("KID "), "{table}");
    assert!(table.contains("verifying") && table.contains("active"), "{table}");
    let keys = admin.json(&["keys", "list"]);
    let old_kid = keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["status"] == "verifying")
        .and_then(|k| k["kid"].as_str())
        .expect("the older key verifies")
        .to_owned();
    assert_ne!(old_kid, new_kid);

    assert_eq!(admin.ward(&["keys", "retire", &old_kid]).status.code(), Some(2), "needs --confirm");
    assert_eq!(verify(&admin, &old), (Some(0), "VALID".into()));
    let out = admin.ok(&["keys", "retire", &old_kid, "--confirm"]);
    assert!(out.contains("retired"), "{out}");
    assert_eq!(verify(&admin, &old), (Some(3), "REVOKED".into()));
    assert_eq!(verify(&admin, &new), (Some(0), "VALID".into()));
    let (code, _, stderr) = authorize(&admin, &old, "list_containers", &[]);
    assert_eq!(code, Some(3), "a retired key's token is refused everywhere: {stderr}");
}

#[test]
fn authorize_exits_0_for_allow_4_for_deny_approval_required_or_403_and_3_for_401() {
    let server = Server::start(OPS);
    let admin = admin(&server);
    let (containers, containers_jti) = mint(&admin, "deployer", "container:read,container:write");

    let (code, body, _) = authorize(&admin, &containers, "list_containers", &[]);
    assert_eq!((code, body["decision"].as_str()), (Some(0), Some("allow")), "{body}");
    assert_eq!(body["subject"], "deployer");
    assert_eq!(body["risk"], "low");

    let (code, body, _) = authorize(&admin, &containers, "restart_container", &[]);
    assert_eq!((code, body["decision"].as_str()), (Some(4), Some("approval_required")), "{body}");
    let (code, body, _) = authorize(&admin, &containers, "restart_container", &["--auto-approve"]);
    assert_eq!((code, body["decision"].as_str()), (Some(0), Some("allow")), "{body}");

    let (code, body, stderr) = authorize(&admin, &containers, "reboot", &[]);
    assert_eq!(code, Some(4), "insufficient scope is a 403: {stderr}");
    assert_eq!(body["error"]["code"], "forbidden", "with -o json the error is on stdout too: {body}");
    assert!(stderr.contains("system:admin"), "the missing scope is named: {stderr}");

    let (patcher, _) = mint(&admin, "patcher", "system:admin");
    let (code, body, _) = authorize(&admin, &patcher, "reboot", &["--approval-id", "apr_unknown"]);
    assert_eq!((code, body["decision"].as_str()), (Some(4), Some("deny")), "{body}");

    // The table form, and the token read from stdin with `--token -`.
    let out = admin
        .run(&["authorize", "--token", "-", "--operation", "get_container_logs"], &format!("{containers}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with("✓ allow: get_container_logs\n"), "{shown}");
    assert!(shown.contains("Decision:  allow") && shown.contains("Risk:      low"), "{shown}");

    admin.ok(&["mint", "revoke", "--jti", &containers_jti, "--confirm"]);
    let (code, _, stderr) = authorize(&admin, &containers, "list_containers", &[]);
    assert_eq!(code, Some(3), "a revoked token is a 401: {stderr}");
    let (code, _, _) = authorize(&admin, "ward_u_nonsense", "list_containers", &[]);
    assert_eq!(code, Some(3));
    let unknown = admin.ward(&["authorize", "--operation", "launch_missiles"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("list_containers"), "operations are listed");
}

#[test]
fn a_human_approval_through_the_cli_allows_the_retried_request_once() {
    let server = Server::start(OPS);
    let admin = admin(&server);
    let created =
        admin.run(&["user", "create", "bob", "--role", "admin", "--password-stdin"], "bob-password\n");
    assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
    let bob = User::new(&server);
    bob.login("bob", "bob-password");
    let (patcher, _) = mint(&admin, "patcher", "system:read,system:admin");

    let (code, asked, _) = authorize(&admin, &patcher, "install_updates", &[]);
    assert_eq!((code, asked["decision"].as_str()), (Some(4), Some("approval_required")), "{asked}");
    assert_eq!(asked["risk"], "critical");
    let id = asked["approval_id"].as_str().expect("an approval id").to_owned();
    assert!(id.starts_with("apr_"));

    let pending = bob.json(&["approvals", "list", "--status", "pending"]);
    let listed = pending["approvals"].as_array().expect("approvals");
    assert!(
        listed.iter().any(|a| a["id"] == id.as_str() && a["operation"] == "install_updates"),
        "{pending}"
    );
    assert!(bob.ok(&["approvals", "list"]).contains(&id));

    let own = admin.ward(&["approvals", "approve", &id]);
    assert_eq!(own.status.code(), Some(4), "the minter cannot approve its agent's request");
    let approved = bob.ok(&["approvals", "approve", &id]);
    assert!(approved.contains("approved"), "{approved}");

    let retry = ["--approval-id", id.as_str()];
    let (code, first, _) = authorize(&admin, &patcher, "install_updates", &retry);
    assert_eq!((code, first["decision"].as_str()), (Some(0), Some("allow")), "{first}");
    let (code, second, _) = authorize(&admin, &patcher, "install_updates", &retry);
    assert_eq!((code, second["decision"].as_str()), (Some(4), Some("deny")), "single use: {second}");

    // A denied request stays denied.
    let (_, asked, _) = authorize(&admin, &patcher, "reboot", &[]);
    let id = asked["approval_id"].as_str().expect("an approval id").to_owned();
    let denied = bob.json(&["approvals", "deny", &id, "--reason", "not during business hours"]);
    assert_eq!(denied["status"], "denied");
    assert_eq!(denied["reason"], "not during business hours");
    let (code, body, _) = authorize(&admin, &patcher, "reboot", &["--approval-id", &id]);
    assert_eq!((code, body["decision"].as_str()), (Some(4), Some("deny")), "{body}");
    let late = bob.ward(&["approvals", "approve", &id]);
    assert_eq!(late.status.code(), Some(1), "a decided approval cannot be decided again (409)");
}
