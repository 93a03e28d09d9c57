//! The CLI's own token in the secret store, against real `ward server`s:
//! `ward login`/`logout` keep the session in the store, `ward auth
//! set-token` / `auth status` and the precedence `--token` > `WARD_TOKEN` >
//! store; one stored token per (config file, profile, server), so a second
//! server or config file never replaces the first; profiles; `secret
//! clear` leaving sessions alone; and the move of older sessions (a
//! plaintext `sessions.json`, the one-per-profile `ward-login/<profile>`).

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

/// The stored tokens (`ward-login/…` entries) of `home`.
fn sessions(home: &Home) -> Vec<String> {
    home.names().into_iter().filter(|n| n.starts_with("ward-login/")).collect()
}

/// The one stored token of `home`.
fn only_session(home: &Home) -> String {
    let found = sessions(home);
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
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
    let name = only_session(&home);
    assert!(name.starts_with("ward-login/default."), "{name}");
    let token = home.value(&name);
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
    only_session(&home);
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
    let token = admin.value(&only_session(&admin));

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
    assert_eq!(home.value(&only_session(&home)), token);
    assert!(files_containing(home.path(), &token).is_empty(), "the token is still in plaintext");
}

/// The token id `whoami` reports, or the exit code when it fails.
fn whoami_id(home: &Home, args: &[&str]) -> Result<String, Option<i32>> {
    let mut all = args.to_vec();
    all.push("whoami");
    let (code, me, _) = json(home, &all, &[]);
    match code {
        Some(0) => Ok(me["token_id"].as_str().unwrap_or_default().to_owned()),
        other => Err(other),
    }
}

fn login_to(home: &Home, server: &str) -> String {
    let out = home.run(
        &["--server", server, "login", "--username", "admin", "--password-stdin", "-o", "json"],
        &format!("{ADMIN_PASSWORD}\n"),
        &[],
    );
    assert_ok(&out, &["login"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("login JSON");
    shown["token_id"].as_str().expect("token id").to_owned()
}

#[test]
fn logging_in_to_a_second_server_keeps_the_first_session() {
    let (one, two) = (Server::start(), Server::start());
    let home = Home::new();
    let first = login_to(&home, &one.url);
    let second = login_to(&home, &two.url);
    assert_eq!(sessions(&home).len(), 2, "the second login replaced the first");
    assert_eq!(whoami_id(&home, &["--server", &one.url]), Ok(first.clone()));
    assert_eq!(whoami_id(&home, &["--server", &two.url]), Ok(second.clone()));

    // `auth status` lists both and says which one this run uses.
    let (code, status, err) = json(&home, &["--server", &two.url, "auth", "status"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let stored = status["stored"].as_array().expect("a stored list");
    let servers: Vec<(&str, bool)> = stored
        .iter()
        .map(|s| (s["server"].as_str().unwrap_or_default(), s["in_use"].as_bool().unwrap_or_default()))
        .collect();
    assert_eq!(servers.len(), 2, "{status}");
    assert!(
        servers.contains(&(one.url.as_str(), false)) && servers.contains(&(two.url.as_str(), true)),
        "{status}"
    );
    let table = home.ok(&["--server", &two.url, "auth", "status"]);
    assert!(table.contains(&one.url) && table.contains("in use"), "{table}");

    // Logging out of one server ends that session only.
    home.ok(&["--server", &one.url, "logout"]);
    assert_eq!(whoami_id(&home, &["--server", &one.url]), Err(Some(3)));
    assert_eq!(whoami_id(&home, &["--server", &two.url]), Ok(second));
}

#[test]
fn two_config_files_with_the_same_profile_keep_their_own_tokens() {
    let (one, two) = (Server::start(), Server::start());
    let admin_one = Home::new();
    let admin_two = Home::new();
    let (token_a, token_b) = {
        let a = login_to(&admin_one, &one.url);
        let b = login_to(&admin_two, &two.url);
        assert!(!a.is_empty() && !b.is_empty());
        let make = |home: &Home, server: &str, name: &str| {
            let (code, created, err) = json(
                home,
                &["--server", server, "token", "create", "--name", name, "--type", "personal"],
                &[],
            );
            assert_eq!(code, Some(0), "{err}");
            (
                created["token"].as_str().expect("token").to_owned(),
                created["id"].as_str().expect("id").to_owned(),
            )
        };
        (make(&admin_one, &one.url, "a"), make(&admin_two, &two.url, "b"))
    };

    let home = Home::new();
    let config = |name: &str, server: &str| {
        let path = home.path().join(name);
        std::fs::write(&path, format!("[profiles.default]\nserver = \"{server}\"\n")).expect("config");
        path.display().to_string()
    };
    let (a, b) = (config("a.toml", &one.url), config("b.toml", &two.url));
    let same_server = config("c.toml", &one.url);
    for (file, token) in [(&a, &token_a.0), (&b, &token_b.0)] {
        let out = home.run(&["--config", file, "auth", "set-token"], &format!("{token}\n"), &[]);
        assert_ok(&out, &["set-token"]);
    }
    assert_eq!(whoami_id(&home, &["--config", &a]), Ok(token_a.1.clone()));
    assert_eq!(whoami_id(&home, &["--config", &b]), Ok(token_b.1.clone()));
    // Another config file for the same server and profile has a slot of its own.
    assert_eq!(whoami_id(&home, &["--config", &same_server]), Err(Some(3)));
    let out = home.run(&["--config", &same_server, "auth", "set-token"], &format!("{}\n", token_a.0), &[]);
    assert_ok(&out, &["set-token"]);
    assert_eq!(sessions(&home).len(), 3);
    assert_eq!(whoami_id(&home, &["--config", &b]), Ok(token_b.1));
}

#[test]
fn a_session_stored_by_an_older_ward_keeps_working_and_moves_to_its_own_slot() {
    let server = Server::start();
    let admin = server.home();
    let session_id = login_to(&admin, &server.url);
    let token = admin.value(&only_session(&admin));

    // Older versions kept one `ward-login/<profile>` per profile.
    let home = server.home();
    let old = home.run(
        &[
            "secret",
            "set",
            "default",
            "--namespace",
            "ward-login",
            "--meta",
            &format!("server={}", server.url),
            "--meta",
            "source=login",
        ],
        &format!("{token}\n"),
        &[],
    );
    assert_ok(&old, &["secret set"]);
    assert_eq!(whoami_id(&home, &[]), Ok(session_id));
    let name = only_session(&home);
    assert!(name != "ward-login/default" && name.starts_with("ward-login/default."), "{name}");
    assert_eq!(home.value(&name), token);
}

#[test]
fn secret_clear_leaves_login_sessions_alone_unless_asked() {
    let server = Server::start();
    let home = server.home();
    login(&home);
    home.set("openai", "sk-1", &["--type", "api-key"]);
    home.ok(&["secret", "clear", "--force"]);
    assert_eq!(sessions(&home).len(), 1);
    assert_eq!(home.names().len(), 1, "{:?}", home.names());
    assert_ok(&home.ward(&["whoami"]), &["whoami after clear"]);

    home.ok(&["secret", "clear", "--force", "--sessions"]);
    assert!(home.names().is_empty());
    assert_eq!(home.ward(&["whoami"]).status.code(), Some(3));
}

#[test]
fn an_unknown_profile_is_an_error_except_for_commands_that_store_a_token() {
    let server = Server::start();
    let home = Home::new();
    std::fs::create_dir_all(home.config_dir()).expect("config dir");
    let config = home.config_dir().join("config.toml");
    std::fs::write(&config, format!("[profiles.prod]\nserver = \"{}\"\n", server.url)).expect("config");
    for args in [&["--profile", "staging", "whoami"][..], &["--profile", "staging", "secret", "list"]] {
        let out = home.ward(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains("no profile `staging`") && err.contains("default, prod"), "{err}");
    }
    let out = home.run(&["whoami"], "", &[("WARD_PROFILE", "stagin")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!std::fs::read_to_string(&config).expect("config").contains("stagin"), "a profile was created");

    // login (and auth set-token) may create one, pointed at the server used.
    let out = home.run(
        &[
            "--profile",
            "staging",
            "--server",
            &server.url,
            "login",
            "--username",
            "admin",
            "--password-stdin",
        ],
        &format!("{ADMIN_PASSWORD}\n"),
        &[],
    );
    assert_ok(&out, &["login"]);
    assert!(text(&out.stderr).contains("created profile `staging`"), "{}", text(&out.stderr));
    let (code, me, err) = json(&home, &["--profile", "staging", "whoami"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(me["username"], "admin");
}

/// A server, a personal token the admin created on it, and a fresh home
/// pointed at it.
fn personal_token() -> (Server, Home, String) {
    let server = Server::start();
    let admin = server.home();
    login(&admin);
    let token = new_token(&admin, "pasted");
    let home = server.home();
    (server, home, token)
}

/// `ward whoami`'s exit code with `token` in WARD_TOKEN: whether the server
/// still takes it.
fn whoami_with(home: &Home, token: &str) -> Option<i32> {
    home.run(&["whoami"], "", &[("WARD_TOKEN", token)]).status.code()
}

#[test]
fn logout_only_forgets_a_pasted_personal_token_unless_asked_to_revoke_it() {
    let (_server, home, token) = personal_token();
    assert_ok(&home.run(&["auth", "set-token"], &format!("{token}\n"), &[]), &["set-token"]);

    let out = home.ward(&["logout"]);
    assert_ok(&out, &["logout"]);
    assert!(text(&out.stdout).contains("still valid on the server"), "{}", text(&out.stdout));
    assert!(sessions(&home).is_empty(), "the token was not forgotten");
    assert_eq!(whoami_with(&home, &token), Some(0), "it was revoked");

    assert_ok(&home.run(&["auth", "set-token"], &format!("{token}\n"), &[]), &["set-token"]);
    let out = home.ward(&["logout", "--revoke"]);
    assert_ok(&out, &["logout --revoke"]);
    assert!(sessions(&home).is_empty());
    assert_eq!(whoami_with(&home, &token), Some(3), "not revoked");
}

#[test]
fn logout_with_a_personal_token_in_ward_token_asks_for_revoke() {
    let (_server, home, token) = personal_token();
    let out = home.run(&["logout"], "", &[("WARD_TOKEN", &token)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--revoke"), "{}", text(&out.stderr));
    assert_eq!(whoami_with(&home, &token), Some(0));
    assert_ok(&home.run(&["logout", "--revoke"], "", &[("WARD_TOKEN", &token)]), &["logout --revoke"]);
    assert_eq!(whoami_with(&home, &token), Some(3));
}
