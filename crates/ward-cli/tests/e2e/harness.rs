//! A real `ward server` process on port 0 and the real `ward` CLI against
//! it. The server's stderr is kept so tests can read what it logged.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// A running `ward server`.
pub struct Server {
    pub url: String,
    pub data_dir: PathBuf,
    /// `--audit-log FILE`, when started with [`Server::start_with_audit_log`].
    pub audit_log: Option<PathBuf>,
    /// More `ward server` arguments, given at every (re)start.
    pub extra_args: Vec<String>,
    child: Option<Child>,
    log: Arc<Mutex<String>>,
    /// `None` for a [`Server::second_node`], which uses the first's.
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start(config: &str) -> Self {
        Self::start_with(config, false)
    }

    /// A server that also mirrors audit events to `audit.jsonl` beside its data dir.
    pub fn start_with_audit_log(config: &str) -> Self {
        Self::start_with(config, true)
    }

    /// A server started with more arguments (e.g. `--database-url …`).
    pub fn start_with_args(config: &str, args: &[&str]) -> Self {
        Self::start_full(config, false, args)
    }

    fn start_with(config: &str, audit_log: bool) -> Self {
        Self::start_full(config, audit_log, &[])
    }

    fn start_full(config: &str, audit_log: bool, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        let config_path = dir.path().join("server.toml");
        std::fs::write(&config_path, config).expect("write config");
        let audit_log = audit_log.then(|| dir.path().join("audit.jsonl"));
        let extra_args = args.iter().map(|a| (*a).to_owned()).collect();
        let mut server = Self {
            url: String::new(),
            data_dir,
            audit_log,
            extra_args,
            child: None,
            log: Arc::default(),
            _dir: Some(dir),
        };
        server.spawn(&config_path, Some(ADMIN_PASSWORD));
        server
    }

    /// Another `ward server` process on this one's data directory (so its
    /// SQLite database and master key file) and config: a second node, as
    /// behind a load balancer. It lives only as long as this one.
    pub fn second_node(&self) -> Self {
        let mut server = Self {
            url: String::new(),
            data_dir: self.data_dir.clone(),
            audit_log: None,
            extra_args: self.extra_args.clone(),
            child: None,
            log: Arc::default(),
            _dir: None,
        };
        server.spawn(&self.config_path(), None);
        server
    }

    /// The config file the server was started with.
    pub fn config_path(&self) -> PathBuf {
        self.data_dir.with_file_name("server.toml")
    }

    /// Starts (or restarts) the process and waits for its listening line.
    pub fn spawn(&mut self, config: &Path, admin_password: Option<&str>) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ward"));
        command
            .arg("server")
            // Port 0 unless the test names an address in `extra_args`.
            .args(if self.extra_args.iter().any(|a| a == "--listen") {
                &[][..]
            } else {
                &["--listen", "127.0.0.1:0"][..]
            })
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--config")
            .arg(config)
            .env_remove("WARD_ADMIN_PASSWORD")
            .env("WARD_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(p) = admin_password {
            command.env("WARD_ADMIN_PASSWORD", p);
        }
        if let Some(file) = &self.audit_log {
            command.arg("--audit-log").arg(file);
        }
        command.args(&self.extra_args);
        let mut child = command.spawn().expect("start ward server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let log = self.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = announced(&line).strip_prefix("ward server listening on ") {
                    let _ = tx.send(url.to_owned());
                }
                let mut log = log.lock().expect("log lock");
                log.push_str(&line);
                log.push('\n');
            }
        });
        self.url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(why) => {
                // Give the reader a moment to take the last lines, then say
                // what the server said before it went (or while it hung).
                std::thread::sleep(Duration::from_millis(200));
                let log = self.log.lock().map(|l| l.clone()).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!("the server did not print its address ({why}); its last lines:\n{}", tail.join("\n"));
            }
        };
        self.child = Some(child);
    }

    /// Sends SIGTERM and waits; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        child.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// Kills the process with SIGKILL (no shutdown, no flush) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One CLI user: their own config dir (and so their own session).
pub struct User {
    pub server: String,
    config: tempfile::TempDir,
}

impl User {
    pub fn new(server: &Server) -> Self {
        Self::at(&server.url)
    }

    /// A user of the server at `url` (one not started by [`Server`]).
    pub fn at(url: &str) -> Self {
        Self { server: url.to_owned(), config: tempfile::tempdir().expect("tempdir") }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ward"));
        command
            .args(args)
            .env_remove("WARD_TOKEN")
            .env_remove("WARD_OUTPUT")
            .env("WARD_SERVER", &self.server)
            .env("XDG_CONFIG_HOME", self.config.path())
            .env("XDG_DATA_HOME", self.config.path().join("data"))
            .env("WARD_CONFIG_DIR", self.config.path().join("ward"))
            .env("WARD_BACKEND", "file")
            .env_remove("WARD_PASSPHRASE");
        command
    }

    /// Runs `ward ARGS` with `stdin` fed in (no terminal).
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ward runs");
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.as_bytes());
        }
        child.wait_with_output().expect("ward finishes")
    }

    pub fn ward(&self, args: &[&str]) -> Output {
        self.run(args, "")
    }

    /// Runs and insists on exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.ward(args);
        assert_eq!(out.status.code(), Some(0), "ward {args:?} failed:\n{}", text(&out.stderr));
        text(&out.stdout)
    }

    /// Runs with `--output json` and parses stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        serde_json::from_str(&self.ok(&all)).expect("JSON output")
    }

    pub fn login(&self, username: &str, password: &str) {
        let out = self.run(&["login", "--username", username, "--password-stdin"], &format!("{password}\n"));
        assert_eq!(out.status.code(), Some(0), "login failed: {}", text(&out.stderr));
    }
}

/// A stderr line's message: the line itself, or under `--log-format json`
/// its `message` field.
fn announced(line: &str) -> String {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| line.to_owned())
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Polls `check` every 100 ms for up to `secs` seconds: for what other
/// processes do in real time (a server starting, a signal handled), never
/// for the server's clock, which [`crate::clocked::ClockedServer`] moves.
pub fn eventually(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
