//! Safe starts of the real `ward server`: every option is checked before
//! anything is written, a taken port never eats the one-time password, a
//! node that cannot unseal the signing keys refuses to start, and nodes
//! started together on one new database make exactly one admin.

use crate::harness::{Server, User, eventually, text};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD_LINE: &str = "Created the first user 'admin' with password: ";
const KEY_A: &str = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
const KEY_B: &str = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";

/// One `ward server` process, its stderr captured in a file.
pub struct Node {
    child: Child,
    log: PathBuf,
}

impl Node {
    /// Starts `command` (from [`server_command`]) with stderr to `log`.
    pub fn spawn(mut command: Command, log: &Path) -> Self {
        let file = std::fs::File::create(log).expect("create log file");
        let child = command.stderr(file).spawn().expect("start ward server");
        Self { child, log: log.to_owned() }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the listening line; returns `http://ADDR`.
    pub fn url(&mut self) -> String {
        let mut url = None;
        eventually(60, "the server prints its address", || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("ward server exited ({status}) before listening:\n{}", self.log());
            }
            url = self
                .log()
                .lines()
                .find_map(|l| l.strip_prefix("ward server listening on ").map(str::to_owned));
            url.is_some()
        });
        url.unwrap_or_default()
    }

    /// Waits for the process to end by itself; its exit code and stderr.
    pub fn exit(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status.code(), self.log());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("ward server did not exit:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ward server --data-dir DATA ARGS…` with no admin password and no
/// master key from the environment.
pub fn server_command(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ward"));
    command
        .arg("server")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("WARD_ADMIN_PASSWORD")
        .env_remove("WARD_MASTER_KEY")
        .env_remove("WARD_DATABASE_URL")
        .env_remove("WARD_AUDIT_LOG")
        .env_remove("WARD_SERVER_CONFIG")
        .env("WARD_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

/// `GET URL/healthz`: whether it answered 200.
pub fn healthy(url: &str) -> bool {
    let Some(addr) = url.strip_prefix("http://") else { return false };
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else { return false };
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}

/// The names in `dir`, sorted; empty when it does not exist.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// A failed start, then a good one on the same data dir: the good one
/// creates the admin and shows its password.
fn refused_then_good_start_shows_the_password(args: &[&str], expect: &str, unexpected: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let mut all = args.to_vec();
    if !all.contains(&"--listen") {
        all.extend(["--listen", "127.0.0.1:0"]);
    }
    let (code, log) = Node::spawn(server_command(&data, &all), &tmp.path().join("bad.log")).exit();
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(log.matches(expect).count(), 1, "said once: {log}");
    assert!(!log.contains(unexpected), "{log}");
    assert!(!log.contains("password"), "no password was made, so none is mentioned: {log}");
    assert_eq!(entries(&data), Vec::<String>::new(), "the data dir is untouched");

    let mut good =
        Node::spawn(server_command(&data, &["--listen", "127.0.0.1:0"]), &tmp.path().join("good.log"));
    let url = good.url();
    assert!(healthy(&url));
    assert!(good.log().contains(PASSWORD_LINE), "{}", good.log());
}

#[test]
fn an_audit_log_in_a_missing_directory_is_refused_before_the_data_dir_is_touched() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("no-such-dir").join("audit.jsonl");
    let missing = missing.to_str().expect("utf-8 path");
    refused_then_good_start_shows_the_password(
        &["--audit-log", missing],
        "cannot open the audit log",
        "another ward server",
    );
}

#[test]
fn a_malformed_listen_address_is_refused_without_blaming_another_server() {
    for bad in ["127.0.0.1:http", "127.0.0.1", "not an address:80", "unix:"] {
        refused_then_good_start_shows_the_password(
            &["--listen", bad],
            &format!("invalid --listen address '{bad}'"),
            "another ward server",
        );
    }
}

#[test]
fn a_taken_port_is_refused_before_the_first_admin_is_created() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    refused_then_good_start_shows_the_password(
        &["--listen", &addr],
        "is another ward server running?",
        "invalid --listen",
    );
}

#[test]
fn a_bad_database_url_is_refused_before_the_data_dir_is_touched() {
    refused_then_good_start_shows_the_password(
        &["--database-url", "mysql://db/ward"],
        "unsupported database URL scheme",
        "another ward server",
    );
}

/// Stops `server`, whose database then holds one signing key sealed
/// with the master key in its `master.key`; returns the key's id.
fn database_with_a_signing_key(server: &mut Server) -> String {
    let admin = User::new(server);
    admin.login("admin", crate::harness::ADMIN_PASSWORD);
    let key = admin.json(&["keys", "rotate"]);
    assert!(server.stop(), "clean stop");
    key["kid"].as_str().expect("kid").to_owned()
}

/// Every file of the data dir with its bytes.
/// Every file's bytes, except SQLite's: the database is kept as its content
/// (`sqlite3 .dump`), since merely opening and closing it may checkpoint or
/// reset its WAL and rebuild its `-shm` index without writing any data.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    entries(dir)
        .into_iter()
        .filter(|name| !name.ends_with("-wal") && !name.ends_with("-shm"))
        .map(|name| {
            let bytes = if name.ends_with(".db") {
                let out = Command::new("sqlite3")
                    .arg(dir.join(&name))
                    .arg(".dump")
                    .output()
                    .expect("sqlite3 runs (apt-get install sqlite3)");
                assert!(out.status.success(), "sqlite3 .dump: {}", text(&out.stderr));
                out.stdout
            } else {
                std::fs::read(dir.join(&name)).unwrap_or_default()
            };
            (name, bytes)
        })
        .collect()
}

#[test]
fn a_node_with_another_master_key_refuses_to_start_naming_the_key_it_needs_and_writes_nothing() {
    let mut server = Server::start("");
    let kid = database_with_a_signing_key(&mut server);
    let data = server.data_dir.clone();
    let key_file = data.join("master.key");
    let before = snapshot(&data);
    let log = server.data_dir.with_file_name("refused.log");

    // Another key in WARD_MASTER_KEY.
    let mut command = server_command(&data, &["--listen", "127.0.0.1:0"]);
    command.env("WARD_MASTER_KEY", KEY_B);
    let (code, message) = Node::spawn(command, &log).exit();
    assert_eq!(code, Some(1), "{message}");
    assert!(message.contains(&format!("cannot unseal signing key {kid}")), "{message}");
    assert!(message.contains("WARD_MASTER_KEY holds master key "), "{message}");
    assert!(message.contains(&key_file.display().to_string()), "names the file it reads: {message}");
    assert!(!message.contains("internal error"), "{message}");
    assert!(!message.contains(KEY_B), "never the key itself: {message}");

    // Another key in the file.
    std::fs::write(&key_file, KEY_A).expect("write another key");
    let (code, message) = Node::spawn(server_command(&data, &["--listen", "127.0.0.1:0"]), &log).exit();
    assert_eq!(code, Some(1), "{message}");
    assert!(message.contains(&format!("cannot unseal signing key {kid}")), "{message}");
    assert!(message.contains(&format!("{} holds master key", key_file.display())), "{message}");

    // No key at all: the file is not re-created with a new one.
    std::fs::remove_file(&key_file).expect("remove master.key");
    let (code, message) = Node::spawn(server_command(&data, &["--listen", "127.0.0.1:0"]), &log).exit();
    assert_eq!(code, Some(1), "{message}");
    assert!(message.contains(&format!("cannot unseal signing key {kid}")), "{message}");
    assert!(message.contains("WARD_MASTER_KEY is not set and"), "{message}");
    assert!(!key_file.exists(), "no new master key was written");

    let after = snapshot(&data);
    let changed: Vec<&String> = before
        .iter()
        .filter(|(name, _)| name != "master.key")
        .filter(|(name, bytes)| after.iter().all(|(n, b)| n != name || b != bytes))
        .map(|(name, _)| name)
        .collect();
    assert!(changed.is_empty(), "changed by a refused start: {changed:?}");
}

#[test]
fn two_servers_started_at_once_on_one_sqlite_file_both_serve_and_make_one_admin() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let mut nodes: Vec<Node> = (0..2)
        .map(|i| {
            let log = tmp.path().join(format!("node{i}.log"));
            Node::spawn(server_command(&data, &["--listen", "127.0.0.1:0"]), &log)
        })
        .collect();
    let urls: Vec<String> = nodes.iter_mut().map(Node::url).collect();
    for url in &urls {
        assert!(healthy(url), "{url} answers /healthz");
    }
    let logs: Vec<String> = nodes.iter().map(Node::log).collect();
    let shown: Vec<&String> = logs.iter().filter(|l| l.contains(PASSWORD_LINE)).collect();
    assert_eq!(shown.len(), 1, "exactly one node made the admin: {logs:#?}");
    let password = shown[0]
        .lines()
        .find_map(|l| l.strip_prefix(PASSWORD_LINE))
        .expect("password line")
        .trim()
        .to_owned();
    // Both nodes share the one master key file and the one admin.
    for url in &urls {
        let user = User::at(url);
        user.login("admin", &password);
        let out = user.ok(&["keys", "rotate"]);
        assert!(out.contains("key_"), "{out}");
    }
}

/// A fresh PostgreSQL database on `WARD_TEST_DATABASE_URL`'s server, or
/// `None` (skipped; failing in CI) when the variable is not set.
fn fresh_postgres(tag: &str) -> Option<(String, String)> {
    let Ok(admin_url) = std::env::var("WARD_TEST_DATABASE_URL") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set WARD_TEST_DATABASE_URL");
        eprintln!("skipped: set WARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run");
        return None;
    };
    let name = format!("ward_{tag}_{}", std::process::id());
    let psql = |sql: &str| Command::new("psql").args([admin_url.as_str(), "-qc", sql]).status();
    let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    assert!(psql(&format!("CREATE DATABASE {name}")).is_ok_and(|s| s.success()), "psql creates a database");
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
    Some((format!("{base}/{name}"), name))
}

/// `psql URL -Atc SQL`: the one value it prints.
pub fn psql_value(url: &str, sql: &str) -> String {
    let out = Command::new("psql").args([url, "-Atc", sql]).output().expect("run psql");
    assert!(out.status.success(), "psql {sql}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

#[test]
fn four_nodes_started_at_once_on_an_empty_postgres_database_all_serve_and_exactly_one_admin_exists() {
    let Some((url, name)) = fresh_postgres("starts") else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut nodes: Vec<Node> = (0..4)
        .map(|i| {
            let data = tmp.path().join(format!("data{i}"));
            let mut command =
                server_command(&data, &["--listen", "127.0.0.1:0", "--database-url", url.as_str()]);
            command.env("WARD_MASTER_KEY", KEY_A);
            Node::spawn(command, &tmp.path().join(format!("node{i}.log")))
        })
        .collect();
    let urls: Vec<String> = nodes.iter_mut().map(Node::url).collect();
    for url in &urls {
        assert!(healthy(url), "{url} answers /healthz");
    }
    assert_eq!(psql_value(&url, "SELECT count(*) FROM users"), "1", "exactly one user");
    assert_eq!(psql_value(&url, "SELECT name FROM users"), "admin");
    let logs: Vec<String> = nodes.iter().map(Node::log).collect();
    assert_eq!(logs.iter().filter(|l| l.contains(PASSWORD_LINE)).count(), 1, "{logs:#?}");
    assert_eq!(
        logs.iter().filter(|l| l.contains("password")).count(),
        1,
        "the others say nothing of it: {logs:#?}"
    );
    drop(nodes);
    if let Ok(admin_url) = std::env::var("WARD_TEST_DATABASE_URL") {
        let _ = Command::new("psql")
            .args([admin_url.as_str(), "-qc", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")])
            .status();
    }
}
