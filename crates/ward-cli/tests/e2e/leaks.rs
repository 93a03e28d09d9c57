//! Leaked tokens and forensics through the CLI (issue 16): `ward scan`
//! over a repository's files and history, `--revoke` and the owner's
//! webhook; nothing found among near misses; `ward token identify -`,
//! `ward audit --token -`, and the limits and clients `token show` prints.

use crate::harness::{ADMIN_PASSWORD, Server, User, eventually, text};
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

fn admin(server: &Server) -> User {
    let user = User::new(server);
    user.login("admin", ADMIN_PASSWORD);
    user
}

fn create(user: &User, name: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["token", "create", "--name", name, "--type", "pipeline"];
    args.extend_from_slice(extra);
    let created = user.json(&args);
    (created["id"].as_str().expect("id").to_owned(), created["token"].as_str().expect("token").to_owned())
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// A webhook receiver on a thread: every request body it gets, as JSON.
fn receiver() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/leaked", listener.local_addr().expect("addr"));
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let body = crate::request::body(&mut reader);
            if let Ok(json) = serde_json::from_slice(&body) {
                sink.lock().expect("lock").push(json);
            }
            let mut stream = reader.into_inner();
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, got)
}

fn findings(out: &std::process::Output) -> Vec<serde_json::Value> {
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("scan JSON");
    body["findings"].as_array().cloned().unwrap_or_default()
}

#[test]
fn scan_finds_tokens_in_files_and_history_and_revoke_ends_them_and_tells_the_owner() {
    let (hook, notices) = receiver();
    let server = Server::start(&format!("[leaks]\nwebhook_url = \"{hook}\"\n"));
    let admin = admin(&server);
    let (id_a, a) = create(&admin, "in-history", &[]);
    let (_, b) = create(&admin, "in-both", &[]);
    let (_, c) = create(&admin, "uncommitted", &[]);

    let repo = tempfile::tempdir().expect("tempdir");
    let dir = repo.path();
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("deploy.env"), format!("# ci\nWARD_TOKEN={a}\n")).expect("write");
    std::fs::create_dir(dir.join("src")).expect("mkdir");
    std::fs::write(dir.join("src/app.py"), format!("x = 1\n\nclient = Ward(\"{b}\")\n")).expect("write");
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "add deploy config"]);
    let planted = git(dir, &["rev-parse", "HEAD"]);
    // A later commit deletes it: only history has it now.
    std::fs::write(dir.join("deploy.env"), "# ci\nWARD_TOKEN=${TOKEN:ci:ward}\n").expect("write");
    git(dir, &["commit", "-qam", "remove the token"]);
    std::fs::write(dir.join("notes.txt"), format!("todo: rotate {c}\n")).expect("write");
    let path = dir.to_str().expect("utf-8 path");

    // Files only: B and C, not A.
    let out = admin.ward(&["scan", path, "--output", "json"]);
    assert_eq!(out.status.code(), Some(6), "found: exit 6\n{}", text(&out.stderr));
    let files: Vec<String> =
        findings(&out).iter().map(|f| f["file"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files.iter().any(|f| f.ends_with("notes.txt")) && files.iter().any(|f| f.ends_with("src/app.py"))
    );

    // With history: A where it was planted, at its line and commit.
    let out = admin.ward(&["scan", path, "--git", "--output", "json"]);
    assert_eq!(out.status.code(), Some(6));
    let stdout = text(&out.stdout);
    for t in [&a, &b, &c] {
        assert!(!stdout.contains(t.as_str()), "a full token was printed");
        assert!(stdout.contains(&t[..11]), "every token found: {stdout}");
    }
    let history_a = findings(&out)
        .into_iter()
        .find(|f| f["token"].as_str().is_some_and(|s| s.starts_with(&a[..11])))
        .expect("A found in history");
    assert_eq!(history_a["file"], "deploy.env");
    assert_eq!(history_a["line"], 2);
    assert_eq!(history_a["commit"], planted.as_str());
    let table = admin.ward(&["scan", path, "--git"]);
    assert!(text(&table.stdout).contains("deploy.env") && !text(&table.stdout).contains(&a), "table too");

    // --revoke: no login needed; each token ended, the owner told.
    let anonymous = User::new(&server);
    let out = anonymous.ward(&["scan", path, "--git", "--revoke", "--output", "json"]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(findings(&out).iter().all(|f| f["outcome"] == "revoked"), "{}", text(&out.stdout));
    for t in [&a, &b, &c] {
        let verdict = admin.run(&["token", "verify", "-", "--output", "json"], &format!("{t}\n"));
        assert!(text(&verdict.stdout).contains("REVOKED"), "{}", text(&verdict.stdout));
    }
    eventually(15, "three webhook notices", || notices.lock().expect("lock").len() >= 3);
    let notices = notices.lock().expect("lock").clone();
    let about_a = notices.iter().find(|n| n["token_id"] == id_a.as_str()).expect("a notice about A");
    assert_eq!(about_a["owner"], "admin");
    assert!(
        about_a["location"].as_str().is_some_and(|l| l.starts_with("deploy.env:2 (commit ")),
        "{about_a}"
    );
    assert!(!serde_json::to_string(&notices).unwrap_or_default().contains(&a));

    // Reported again: already ended.
    let again = anonymous.ward(&["scan", path, "--revoke", "--output", "json"]);
    assert!(findings(&again).iter().all(|f| f["outcome"] == "already_ended"));
}

/// The near misses of a real token: a changed checksum, another kind
/// letter, one character more or less, glued to a word.
fn near_misses(t: &str) -> Vec<String> {
    let mut bad_sum = t.to_owned();
    let last = bad_sum.pop().unwrap_or('0');
    bad_sum.push(if last == 'A' { 'B' } else { 'A' });
    let mut misses =
        vec![bad_sum, format!("{t}Q"), t[..t.len() - 1].to_owned(), format!("X{t}"), format!("x_{t}")];
    for letter in ["u", "s", "r", "l", "x"] {
        let mut s = t.to_owned();
        s.replace_range(5..6, letter);
        misses.push(s);
    }
    misses
}

#[test]
fn a_repository_full_of_near_misses_has_nothing_to_find() {
    let server = Server::start("");
    let admin = admin(&server);
    let (_, real) = create(&admin, "real", &[]);
    let repo = tempfile::tempdir().expect("tempdir");
    let dir = repo.path();
    git(dir, &["init", "-q"]);
    let misses = near_misses(&real).join("\n");
    std::fs::write(dir.join("misses.txt"), format!("{misses}\n")).expect("write");
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "near misses"]);
    std::fs::write(dir.join("misses.txt"), "gone\n").expect("write");
    std::fs::write(dir.join("more.txt"), format!("token = \"{misses}\"\n")).expect("write");
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "more"]);
    let out = admin.ward(&["scan", dir.to_str().expect("path"), "--git"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("No ward tokens found."));
}

#[test]
fn identify_audit_by_raw_token_and_show_tell_about_a_token_without_using_it() {
    let server = Server::start("");
    let admin = admin(&server);
    let (id, token) = create(&admin, "limited", &["--max-uses", "5", "--rate", "100/min"]);
    // Two uses as a bearer, from this machine with ward's own user agent.
    for _ in 0..2 {
        let out = admin.command(&["whoami"]).env("WARD_TOKEN", &token).output().expect("ward runs");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }

    let out = admin.run(&["token", "identify", "-"], &format!("{token}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains(&id) && shown.contains("pipeline") && shown.contains("admin"), "{shown}");
    assert!(shown.contains("Uses left") && shown.contains("3 of 5"), "identify is not a use: {shown}");
    let typo = admin.run(&["token", "identify", "-"], &format!("{}x\n", &token[..token.len() - 1]));
    assert_eq!(typo.status.code(), Some(2), "a typo is refused before anything is sent");

    let out = admin.run(&["audit", "--token", "-", "--output", "json"], &format!("{token}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let events: serde_json::Value = serde_json::from_slice(&out.stdout).expect("audit JSON");
    let actions: Vec<&str> =
        events["events"].as_array().into_iter().flatten().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"token.create") && actions.contains(&"token.use"), "{actions:?}");
    assert!(events["events"].as_array().into_iter().flatten().all(|e| e["token_id"] == id.as_str()));

    let shown = admin.ok(&["token", "show", &id]);
    assert!(shown.contains("Rate limit") && shown.contains("100/min"), "{shown}");
    assert!(
        shown.contains("Recent clients") && shown.contains("127.0.0.1") && shown.contains("ward/"),
        "{shown}"
    );
}
