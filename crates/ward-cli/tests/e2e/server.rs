//! `ward server` itself: first start, recover-admin, graceful shutdown.

use crate::harness::{ADMIN_PASSWORD, Server, User, text};
use std::process::Stdio;

#[test]
fn the_first_start_prints_a_generated_admin_password_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "").expect("config");
    let mut server = Server::start("");
    // Start a second server on a fresh data dir without WARD_ADMIN_PASSWORD.
    server.stop();
    server.data_dir = dir.path().join("fresh");
    server.spawn(&config, None);
    let log = server.log();
    let password = log
        .lines()
        .find_map(|l| l.strip_prefix("Created the first user 'admin' with password: "))
        .expect("the generated password is printed")
        .trim()
        .to_owned();
    assert!(password.len() >= 20);
    let admin = User::new(&server);
    admin.login("admin", &password);

    assert!(server.stop(), "SIGTERM stops the server cleanly");
    server.spawn(&config, None);
    assert_eq!(server.log().matches("with password: ").count(), 1, "shown on the first start only");
}

/// Runs `ward server recover-admin` on the server's (stopped) data dir.
fn recover_admin(server: &Server, password: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["server", "recover-admin", "--password-stdin", "--data-dir"])
        .arg(&server.data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(format!("{password}\n").as_bytes())?;
            }
            child.wait_with_output()
        })
        .expect("recover-admin runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn recover_admin_resets_the_password_from_the_local_database() {
    let mut server = Server::start("");
    assert!(server.stop());
    recover_admin(&server, "a brand new password");
    let config = server.data_dir.parent().expect("dir").join("server.toml");
    server.spawn(&config, None);
    let admin = User::new(&server);
    let old = admin.run(&["login", "--username", "admin", "--password-stdin"], "correct horse battery\n");
    assert_eq!(old.status.code(), Some(3), "the old password no longer works");
    admin.login("admin", "a brand new password");
}

#[test]
fn recover_admin_ends_what_the_old_password_obtained() {
    let mut server = Server::start("");
    let old = User::new(&server);
    old.login("admin", ADMIN_PASSWORD);
    let created = old.json(&["token", "create", "--name", "old", "--type", "personal"]);
    let pat = created["token"].as_str().expect("a token").to_owned();
    let minted = old.json(&["mint", "--agent", "backup", "--scopes", "ward:introspect", "--ttl", "1h"]);
    let agent = minted["token"].as_str().expect("a token").to_owned();
    assert!(server.stop());
    recover_admin(&server, "a brand new password");
    let config = server.data_dir.parent().expect("dir").join("server.toml");
    server.spawn(&config, None);
    let admin = User::new(&server);
    admin.login("admin", "a brand new password");
    let code = |args: &[&str]| {
        let out = admin.ward(args);
        let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("verify JSON");
        (out.status.code(), body["code"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(code(&["token", "verify", &pat, "--output", "json"]), (Some(3), "REVOKED".into()));
    assert_eq!(code(&["mint", "verify", &agent, "--output", "json"]), (Some(3), "REVOKED".into()));
}
