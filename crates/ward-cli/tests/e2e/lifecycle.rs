//! Token lifecycle through the CLI: create, verify, revoke, expire, list.

use crate::clocked::ClockedServer;
use crate::harness::{ADMIN_PASSWORD, Server, User, text};
use std::time::Duration;

fn admin(server: &Server) -> User {
    let user = User::new(server);
    user.login("admin", ADMIN_PASSWORD);
    user
}

fn verify_code(user: &User, token: &str) -> (Option<i32>, String) {
    let out = user.ward(&["token", "verify", token, "--output", "json"]);
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("verify JSON");
    (out.status.code(), body["code"].as_str().unwrap_or_default().to_owned())
}

#[test]
fn a_created_token_verifies_and_after_revoke_is_revoked_for_good() {
    let server = Server::start("");
    let admin = admin(&server);
    let out =
        admin.ok(&["token", "create", "--name", "ci", "--type", "pipeline", "--scopes", "ward:introspect"]);
    assert!(out.contains("✓ Token created successfully"), "{out}");
    assert!(out.contains("Token ID: tok_"), "{out}");
    assert!(out.contains("shown only once"), "{out}");
    let token = out.lines().find_map(|l| l.strip_prefix("Token: ")).expect("Token: line").trim().to_owned();
    let id =
        out.lines().find_map(|l| l.strip_prefix("Token ID: ")).expect("Token ID: line").trim().to_owned();

    assert_eq!(verify_code(&admin, &token), (Some(0), "VALID".into()));
    // A terminal-less revoke without --confirm refuses and changes nothing.
    let refused = admin.ward(&["token", "revoke", &id]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("--confirm"));
    assert_eq!(verify_code(&admin, &token), (Some(0), "VALID".into()));

    admin.ok(&["token", "revoke", &id, "--confirm"]);
    assert_eq!(verify_code(&admin, &token), (Some(3), "REVOKED".into()));
    let rotate = admin.ward(&["token", "rotate", &id]);
    assert_ne!(rotate.status.code(), Some(0), "a revoked token cannot be rotated back to life");
    let with_it = admin.command(&["whoami"]).env("WARD_TOKEN", &token).output().expect("ward runs");
    assert_eq!(with_it.status.code(), Some(3), "a revoked token is refused: {}", text(&with_it.stderr));
    assert_eq!(verify_code(&admin, &token), (Some(3), "REVOKED".into()));
}

#[test]
fn expired_malformed_and_unknown_tokens_say_so() {
    let server = ClockedServer::start();
    let admin = User::at(&server.url);
    admin.login("admin", ADMIN_PASSWORD);
    let created = admin.json(&["token", "create", "--name", "short", "--type", "personal", "--ttl", "1h"]);
    let token = created["token"].as_str().expect("token").to_owned();
    assert_eq!(verify_code(&admin, &token), (Some(0), "VALID".into()));
    server.advance(Duration::from_secs(3_601));
    assert_eq!(verify_code(&admin, &token), (Some(3), "EXPIRED".into()));
    let listed = admin.json(&["token", "list", "--status", "expired"]);
    assert_eq!(listed["tokens"][0]["id"], created["id"], "listed as expired: {listed}");

    let mut typo = token.clone();
    let last = typo.pop().expect("non-empty");
    typo.push(if last == 'x' { 'y' } else { 'x' });
    assert_eq!(verify_code(&admin, &typo), (Some(3), "MALFORMED".into()));

    // Well-formed, right checksum, never issued: drop the token and ask about a fresh one.
    let other = admin.json(&["token", "create", "--name", "gone", "--type", "registry"]);
    let (gone_id, gone) = (other["id"].as_str().expect("id"), other["token"].as_str().expect("token"));
    admin.ok(&["token", "delete", gone_id, "--confirm"]);
    assert_eq!(verify_code(&admin, gone), (Some(3), "NOT_FOUND".into()));
}

#[test]
fn list_filters_shows_never_then_a_real_last_use_and_every_format_parses() {
    let server = Server::start("");
    let admin = admin(&server);
    let p = admin.json(&[
        "token",
        "create",
        "--name",
        "deploy",
        "--type",
        "pipeline",
        "--scopes",
        "ward:introspect",
    ]);
    admin.json(&["token", "create", "--name", "registry pull", "--type", "registry"]);
    let r = admin.json(&["token", "create", "--name", "old", "--type", "pipeline"]);
    admin.ok(&["token", "revoke", r["id"].as_str().expect("id"), "--confirm"]);

    let listed = admin.json(&["token", "list", "--type", "pipeline", "--status", "active"]);
    let tokens = listed["tokens"].as_array().expect("tokens array");
    assert_eq!(tokens.len(), 1);
    for key in ["id", "name", "type", "prefix", "created_at", "last_used_at", "status", "expires_at"] {
        assert!(tokens[0].get(key).is_some(), "JSON lacks {key}");
    }
    assert!(tokens[0]["last_used_at"].is_null());
    let revoked = admin.json(&["token", "list", "--status", "revoked"]);
    assert_eq!(revoked["tokens"][0]["name"], "old");

    let table = admin.ok(&["token", "list", "--type", "pipeline"]);
    let header = table.lines().next().expect("header");
    for column in ["ID", "Name", "Type", "Created", "Last Used", "Expires", "Status"] {
        assert!(header.contains(column), "{header}");
    }
    assert!(table.contains("Never"), "{table}");
    assert_columns_line_up(&table);

    // Use the pipeline token, then its last use shows up.
    let used = admin
        .command(&["whoami"])
        .env("WARD_TOKEN", p["token"].as_str().expect("token"))
        .output()
        .expect("ward runs");
    assert_eq!(used.status.code(), Some(0), "{}", text(&used.stderr));
    let after = admin.json(&["token", "show", p["id"].as_str().expect("id")]);
    let last_used: chrono::DateTime<chrono::Utc> =
        after["last_used_at"].as_str().expect("a last-used time").parse().expect("RFC 3339");
    #[expect(clippy::disallowed_methods, reason = "the server runs in another process, on the wall clock")]
    let now = chrono::Utc::now();
    assert!((now - last_used).num_seconds().abs() < 60);

    let yaml = admin.ok(&["token", "list", "--output", "yaml"]);
    let parsed: serde_json::Value = serde_norway::from_str(&yaml).expect("YAML parses");
    assert_eq!(parsed["tokens"].as_array().map(Vec::len), Some(4), "3 tokens and the login session");
}

/// Every column starts at the same character offset on every line.
fn assert_columns_line_up(table: &str) {
    let lines: Vec<Vec<char>> =
        table.lines().filter(|l| !l.trim().is_empty()).map(|l| l.chars().collect()).collect();
    let header = &lines[0];
    let starts: Vec<usize> = (0..header.len())
        .filter(|&i| header[i] != ' ' && (i == 0 || (i >= 2 && header[i - 1] == ' ' && header[i - 2] == ' ')))
        .collect();
    assert!(starts.len() >= 7, "{table}");
    for line in &lines[1..] {
        for &s in &starts {
            assert!(s < line.len() && line[s] != ' ', "nothing starts at column {s}:\n{table}");
            assert!(s == 0 || line[s - 1] == ' ', "a value runs into column {s}:\n{table}");
        }
    }
}
