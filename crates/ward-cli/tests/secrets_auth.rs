//! The CLI's own token in the secret store, against a real `ward server`:
//! `ward login`/`logout` keep the session in the store, `ward auth
//! set-token` / `auth status` and the precedence `--token` > `WARD_TOKEN` >
//! store, profiles, and the move of a legacy plaintext `sessions.json`.

#[path = "secrets_common/mod.rs"]
mod common;

use common::{Home, WARD, assert_ok, text};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ADMIN_PASSWORD: &str = "correct horse battery";

struct Server {
    url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("server dir");
        let mut child = Command::new(WARD)
            .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env("WARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ward server starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("ward server listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(60)).expect("the server printed its address");
        Self { url, child, _dir: dir }
    }

    /// A home (file backend) pointed at this server.
    fn home(&self) -> Home {
        let mut home = Home::new();
        home.setenv("WARD_SERVER", &self.url);
        home
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn login(home: &Home) {
    let out =
        home.run(&["login", "--username", "admin", "--password-stdin"], &format!("{ADMIN_PASSWORD}\n"), &[]);
    assert_ok(&out, &["login"]);
}

fn json(home: &Home, args: &[&str], extra: &[(&str, &str)]) -> (Option<i32>, serde_json::Value, String) {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = home.run(&all, "", extra);
    (out.status.code(), serde_json::from_slice(&out.stdout).unwrap_or_default(), text(&out.stderr))
}

fn new_token(home: &Home, name: &str) -> String {
    let (code, created, err) = json(home, &["token", "create", "--name", name, "--type", "personal"], &[]);
    assert_eq!(code, Some(0), "{err}");
    created["token"].as_str().expect("a token").to_owned()
}

fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path).is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle)) {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn login_keeps_the_session_in_the_store_and_logout_removes_it() {
    let server = Server::start();
    let home = server.home();
    login(&home);
    assert!(!home.config_dir().join("sessions.json").exists(), "a plaintext session file was written");
    assert_eq!(home.names(), ["ward-login/default"]);
    let token = home.value("ward-login/default");
    assert!(token.starts_with("ward_l_"), "not a session token");
    assert!(files_containing(home.path(), &token).is_empty(), "the session token is in plaintext on disk");

    let (code, me, err) = json(&home, &["whoami"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(me["username"], "admin");
    assert!(home.ok(&["whoami"]).contains("secret store"));

    home.ok(&["logout"]);
    assert!(home.names().is_empty(), "logout left the session behind");
    assert_eq!(home.ward(&["whoami"]).status.code(), Some(3));
    // The revoked session does not work any more either.
    let out = home.run(&["whoami"], "", &[("WARD_TOKEN", &token)]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn set_token_stores_a_verified_token_and_status_says_where_it_came_from() {
    let server = Server::start();
    let admin = server.home();
    login(&admin);
    let ci_token = new_token(&admin, "ci");
    let other_token = new_token(&admin, "other");

    let home = server.home();
    assert_ok(&home.run(&["auth", "set-token", "-"], &format!("{ci_token}\n"), &[]), &["set-token"]);
    let (code, status, err) = json(&home, &["auth", "status"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(status["source"], "secret store");
    assert_eq!(status["valid"], true);
    assert_eq!(status["me"]["username"], "admin");
    assert!(status["backend"].as_str().is_some_and(|b| b.starts_with("file")), "{status}");

    // WARD_TOKEN beats the store, and status warns that it shadows it.
    let (code, status, err) = json(&home, &["auth", "status"], &[("WARD_TOKEN", &other_token)]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(status["source"], "WARD_TOKEN");
    assert!(err.contains("warning: WARD_TOKEN overrides the token stored"), "{err}");
    // --token beats WARD_TOKEN.
    let (_, status, _) =
        json(&home, &["auth", "status", "--token", &ci_token], &[("WARD_TOKEN", &other_token)]);
    assert_eq!(status["source"], "--token");

    // A revoked stored token: status exits 3 and says why.
    let id = status["me"]["token_id"].as_str().expect("token id").to_owned();
    admin.ok(&["token", "revoke", &id, "--confirm"]);
    let (code, status, _) = json(&home, &["auth", "status"], &[]);
    assert_eq!(code, Some(3));
    assert_eq!(status["valid"], false);
}

#[test]
fn set_token_refuses_malformed_and_refused_tokens() {
    let server = Server::start();
    let admin = server.home();
    login(&admin);
    let home = server.home();
    let out = home.run(&["auth", "set-token"], "ward_u_not-a-token\n", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not a ward token"), "{}", text(&out.stderr));

    let token = new_token(&admin, "soon-revoked");
    let (_, listed, _) = json(&admin, &["token", "list", "--type", "personal"], &[]);
    let id = listed["tokens"][0]["id"].as_str().expect("token id").to_owned();
    admin.ok(&["token", "revoke", &id, "--confirm"]);
    let out = home.run(&["auth", "set-token"], &format!("{token}\n"), &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--no-verify"), "{}", text(&out.stderr));
    assert!(home.names().is_empty(), "a refused token was stored");
    // --no-verify stores a well-formed token without asking the server.
    assert_ok(&home.run(&["auth", "set-token", "--no-verify"], &format!("{token}\n"), &[]), &["--no-verify"]);
    assert_eq!(home.names(), ["ward-login/default"]);
}

#[test]
fn profiles_keep_separate_tokens_and_servers() {
    let server = Server::start();
    let admin = server.home();
    login(&admin);
    let token = new_token(&admin, "staging");

    let home = Home::new();
    std::fs::create_dir_all(home.config_dir()).expect("config dir");
    std::fs::write(
        home.config_dir().join("config.toml"),
        format!(
            "[profiles.default]\nserver = \"http://127.0.0.1:9\"\n[profiles.staging]\nserver = \"{}\"\n",
            server.url
        ),
    )
    .expect("config");
    assert_ok(
        &home.run(&["--profile", "staging", "auth", "set-token"], &format!("{token}\n"), &[]),
        &["set-token"],
    );
    let (code, me, err) = json(&home, &["--profile", "staging", "whoami"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(me["username"], "admin");
    // The default profile has no token (and another server).
    assert_eq!(home.ward(&["whoami"]).status.code(), Some(3));
    // A token is never sent to a server it was not stored for.
    let out = home.run(&["--profile", "staging", "--server", "http://127.0.0.1:9", "whoami"], "", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[test]
fn a_legacy_plaintext_session_file_moves_into_the_store() {
    let server = Server::start();
    let admin = server.home();
    login(&admin);
    let (_, me, _) = json(&admin, &["whoami"], &[]);
    let token = admin.value("ward-login/default");

    let home = server.home();
    std::fs::create_dir_all(home.config_dir()).expect("config dir");
    let legacy = serde_json::json!({"sessions": {server.url.clone(): {
        "token": token, "token_id": me["token_id"], "user_id": me["user_id"],
        "username": "admin", "expires_at": "2099-01-01T00:00:00Z"
    }}});
    std::fs::write(home.config_dir().join("sessions.json"), legacy.to_string()).expect("legacy file");
    let out = home.ward(&["whoami"]);
    assert_ok(&out, &["whoami"]);
    assert!(text(&out.stderr).contains("moved the login session"), "{}", text(&out.stderr));
    assert!(!home.config_dir().join("sessions.json").exists(), "the plaintext file is still there");
    assert_eq!(home.value("ward-login/default"), token);
    assert!(files_containing(home.path(), &token).is_empty(), "the token is still in plaintext");
}
