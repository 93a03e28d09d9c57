//! The CLI's conventions, with the real binary: shell completions and man
//! pages generated from the command line definition, errors as a JSON
//! object on stdout with `-o json`, global flags under their own help
//! heading, and one lifetime vocabulary (`--expires-in` with units, `--ttl`
//! as its alias) on token create, service-user create and mint.

use crate::harness::{ADMIN_PASSWORD, Server, User, text};
use chrono::{DateTime, Duration, Utc};
use std::process::{Command, Output};

const OPS: &str = include_str!("../../../../examples/ops.toml");

/// `ward ARGS` with no server, profile or token involved.
fn ward(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("tempdir");
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env_remove("WARD_TOKEN")
        .env_remove("WARD_OUTPUT")
        .env_remove("WARD_SERVER")
        .env("XDG_CONFIG_HOME", home.path())
        .env("WARD_CONFIG_DIR", home.path().join("ward"))
        .output()
        .expect("ward runs")
}

fn error_object(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}): {:?}\nstderr: {}", text(&out.stdout), text(&out.stderr))
    })
}

#[test]
fn bash_accepts_the_generated_completion_script() {
    let out = ward(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("ward.bash");
    std::fs::write(&script, &out.stdout).expect("write script");
    let checked = Command::new("bash").arg("-n").arg(&script).output().expect("bash runs");
    assert!(checked.status.success(), "bash -n refused it: {}", text(&checked.stderr));
    let script = text(&out.stdout);
    for word in ["token", "service-user", "completions", "--expires-in"] {
        assert!(script.contains(word), "the script does not complete {word}");
    }
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_shell_is_a_usage_error() {
    for shell in ["zsh", "fish", "powershell"] {
        let out = ward(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("service-user"), "{shell}");
    }
    assert_eq!(ward(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_prints_the_page_and_writes_one_per_command_into_a_directory() {
    let out = ward(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert!(page.starts_with(".ie") || page.contains(".TH ward 1"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains("token"), "the page lists the commands");

    let dir = tempfile::tempdir().expect("tempdir");
    let out = ward(&["man", "--dir", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for page in ["ward.1", "ward-token.1", "ward-token-create.1", "ward-service-user-create.1"] {
        let path = dir.path().join(page);
        let body = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{page} was not written"));
        assert!(body.contains(".TH"), "{page} is not a roff page");
    }
}

#[test]
fn a_missing_token_is_a_json_error_with_code_not_found_and_exit_5() {
    let server = Server::start("");
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    let out = admin.ward(&["token", "show", "tok_missing", "-o", "json"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let error = &error_object(&out)["error"];
    assert_eq!(error["code"], "not_found");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
    assert!(error["hint"].as_str().is_some_and(|h| h.contains("ward token list")), "{error}");
    assert!(text(&out.stderr).contains("error:"), "people still read it on stderr");
}

#[test]
fn without_a_session_the_json_error_says_unauthenticated_and_exits_3() {
    let server = Server::start("");
    let nobody = User::new(&server);
    let out = nobody.ward(&["token", "list", "--output", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(error_object(&out)["error"]["code"], "unauthenticated");
}

#[test]
fn a_usage_error_is_a_json_error_too_when_json_was_asked_for() {
    let out = ward(&["token", "create", "--type", "pipeline", "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let error = &error_object(&out)["error"];
    assert_eq!(error["code"], "usage");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("--name")), "{error}");
    let plain = ward(&["token", "create", "--type", "pipeline"]);
    assert_eq!(plain.status.code(), Some(2));
    assert!(plain.stdout.is_empty(), "without -o json stdout stays empty");
}

#[test]
fn help_shows_global_flags_under_their_own_heading() {
    let out = ward(&["token", "create", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    let (own, global) = help.split_once("Global options:").expect("a Global options heading");
    for flag in ["--server", "--profile", "--config", "--token", "--backend", "--output"] {
        assert!(global.contains(flag), "{flag} is not under Global options:\n{help}");
        assert!(!own.contains(flag), "{flag} crowds the command's own options:\n{help}");
    }
    assert!(own.contains("--name"), "{help}");
}

#[test]
fn a_flag_set_by_the_environment_is_not_shown_in_usage_as_if_required() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["token", "create", "--type", "pipeline"])
        .env("WARD_SERVER", "http://127.0.0.1:9")
        .env("WARD_PROFILE", "staging")
        .env("XDG_CONFIG_HOME", home.path())
        .output()
        .expect("ward runs");
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    let usage = said.lines().find(|l| l.starts_with("Usage:")).unwrap_or_default();
    assert!(!usage.contains("--server") && !usage.contains("--profile"), "{said}");
}

fn expires_in(created: &serde_json::Value) -> Duration {
    let at = |key: &str| -> DateTime<Utc> {
        created[key].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{key} in {created}"))
    };
    at("expires_at") - at("created_at")
}

#[test]
fn token_create_takes_expires_in_with_units_ttl_as_its_alias_and_bare_days() {
    let server = Server::start("");
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    let create = |name: &str, flag: &str, value: &str| {
        admin.json(&["token", "create", "--name", name, "--type", "personal", flag, value])
    };
    assert_eq!(expires_in(&create("a", "--expires-in", "12h")), Duration::hours(12));
    assert_eq!(expires_in(&create("b", "--ttl", "90m")), Duration::minutes(90));
    assert_eq!(expires_in(&create("c", "--expires-in", "30")), Duration::days(30), "a bare number is days");
    let bad = admin.ward(&["token", "create", "--name", "d", "--type", "personal", "--expires-in", "3y"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[test]
fn service_users_and_mint_take_the_same_lifetimes() {
    let server = Server::start(OPS);
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    let svc =
        admin.json(&["service-user", "create", "backup", "--scopes", "system:read", "--expires-in", "12h"]);
    assert_eq!(expires_in(&svc), Duration::hours(12), "{svc}");
    let svc = admin.json(&["service-user", "create", "report", "--scopes", "system:read", "--ttl", "2d"]);
    assert_eq!(expires_in(&svc), Duration::days(2), "{svc}");

    let minted = admin.json(&["mint", "--agent", "ci", "--scopes", "system:read", "--expires-in", "90m"]);
    let at = |key: &str| -> DateTime<Utc> { minted[key].as_str().and_then(|s| s.parse().ok()).expect(key) };
    assert_eq!(at("expires_at") - at("issued_at"), Duration::minutes(90));
    let bare = admin.ward(&["mint", "--agent", "ci", "--scopes", "system:read", "--expires-in", "2"]);
    assert_eq!(bare.status.code(), Some(2), "mint has no days default: {}", text(&bare.stderr));
    assert!(text(&bare.stderr).contains("unit"), "{}", text(&bare.stderr));
}
