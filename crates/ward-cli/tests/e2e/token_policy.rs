//! Issue 16 through the CLI: a lifetime beyond the policy refused with the
//! limit named, time left in `token list`, `--expiring`, `--unused-for`,
//! and `ward token idle` (dry run, then `--apply`).

use crate::clocked::ClockedServer;
use crate::harness::{ADMIN_PASSWORD, User, text};
use std::time::Duration;

const DAY: u64 = 86_400;

fn admin(server: &ClockedServer) -> User {
    let admin = User::at(&server.url);
    admin.login("admin", ADMIN_PASSWORD);
    admin
}

fn names(listed: &serde_json::Value) -> Vec<String> {
    let mut n: Vec<String> = listed["tokens"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    n.sort();
    n
}

#[test]
fn a_token_beyond_the_lifetime_policy_is_refused_with_the_limit_named() {
    let server = ClockedServer::with_config("[lifecycle.lifetimes.pipeline]\nmax = \"365d\"\n");
    let admin = admin(&server);
    let out = admin.ward(&["token", "create", "--name", "ci", "--type", "pipeline", "--expires-in", "400d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("365d") && err.contains("lifecycle.lifetimes.pipeline.max"), "{err}");
    let created = admin.json(&["token", "create", "--name", "ci", "--type", "pipeline"]);
    assert!(created["expires_at"].is_string(), "the maximum is the default: {created}");
}

#[test]
fn token_list_shows_time_left_and_filters_by_expiring_and_unused_for() {
    let server = ClockedServer::start();
    let admin = admin(&server);
    admin.ok(&["token", "create", "--name", "soon", "--type", "pipeline", "--expires-in", "3d"]);
    admin.ok(&["token", "create", "--name", "later", "--type", "pipeline", "--expires-in", "30d"]);
    let table = admin.ok(&["token", "list", "--type", "pipeline"]);
    assert!(table.lines().next().is_some_and(|h| h.contains("Left")), "{table}");
    assert!(table.contains("2d 23h") || table.contains("3d 0h"), "{table}");
    let listed = admin.json(&["token", "list", "--expiring", "7d", "--type", "pipeline"]);
    assert_eq!(names(&listed), vec!["soon"]);
    let left = listed["tokens"][0]["expires_in_seconds"].as_i64().unwrap_or_default();
    assert!((3 * DAY as i64 - 60..=3 * DAY as i64).contains(&left), "{left}");

    server.advance(Duration::from_secs(2 * DAY));
    let admin = self::admin(&server);
    admin.ok(&["token", "create", "--name", "fresh", "--type", "pipeline"]);
    let listed = admin.json(&["token", "list", "--unused-for", "1d", "--type", "pipeline"]);
    assert_eq!(names(&listed), vec!["later", "soon"]);
    let out = admin.ward(&["token", "list", "--expiring", "a while"]);
    assert_eq!(out.status.code(), Some(2), "a bad duration is a usage error");
}

#[test]
fn token_idle_lists_then_revokes_exactly_the_idle_tokens() {
    let server = ClockedServer::start();
    let admin = admin(&server);
    let idle = admin.json(&["token", "create", "--name", "idle", "--type", "pipeline"]);
    server.advance(Duration::from_secs(100 * DAY));
    let admin = self::admin(&server);
    let fresh = admin.json(&["token", "create", "--name", "fresh", "--type", "pipeline"]);

    let dry = admin.ok(&["token", "idle", "--unused-for", "90d"]);
    assert!(dry.contains("1 token unused for 90d would be revoked (dry run"), "{dry}");
    assert!(dry.contains(idle["id"].as_str().unwrap_or("?")), "{dry}");
    let still = admin.json(&["token", "show", idle["id"].as_str().unwrap_or_default()]);
    assert_eq!(still["status"], "active", "the dry run changed nothing");

    let out = admin.run(&["token", "idle", "--unused-for", "90d", "--apply"], "");
    assert_ne!(out.status.code(), Some(0), "no terminal and no --confirm: refused");
    let applied = admin.json(&["token", "idle", "--unused-for", "90d", "--apply", "--confirm"]);
    assert_eq!(applied["applied"], true);
    assert_eq!(names(&applied), vec!["idle"]);
    let gone = admin.json(&["token", "show", idle["id"].as_str().unwrap_or_default()]);
    assert_eq!(gone["status"], "revoked");
    let kept = admin.json(&["token", "show", fresh["id"].as_str().unwrap_or_default()]);
    assert_eq!(kept["status"], "active");
}
