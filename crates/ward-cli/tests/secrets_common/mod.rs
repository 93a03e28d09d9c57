//! Shared by the `secrets_*` tests: an isolated home (HOME, XDG config and
//! data dirs) per test, and the real `ward` binary run in it with a clean
//! environment: no WARD_* variables, no D-Bus session (so a developer's
//! own keyring is never touched), no Vault variables.

#![expect(dead_code, reason = "each secrets_* test binary uses a different part of this module")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const WARD: &str = env!("CARGO_BIN_EXE_ward");
pub const DOCKER_HELPER: &str = env!("CARGO_BIN_EXE_docker-credential-ward");

const CLEARED: &[&str] = &[
    "WARD_TOKEN",
    "WARD_SERVER",
    "WARD_OUTPUT",
    "WARD_PROFILE",
    "WARD_CONFIG",
    "WARD_CONFIG_DIR",
    "WARD_DATA_DIR",
    "WARD_BACKEND",
    "WARD_PASSPHRASE",
    "WARD_EXPORT_PASSPHRASE",
    "DBUS_SESSION_BUS_ADDRESS",
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "BAO_ADDR",
    "BAO_TOKEN",
];

/// One user's machine: a temp HOME with its own config and data dirs.
pub struct Home {
    dir: tempfile::TempDir,
    /// Variables every command of this home gets.
    pub env: Vec<(String, String)>,
}

impl Home {
    /// A home whose commands use the file backend (identity-file key).
    pub fn new() -> Self {
        let mut home = Self::bare();
        home.setenv("WARD_BACKEND", "file");
        home
    }

    /// A home with nothing chosen.
    pub fn bare() -> Self {
        Self { dir: tempfile::tempdir().expect("temp home"), env: Vec::new() }
    }

    pub fn setenv(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config").join("ward")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data").join("ward")
    }

    pub fn store_file(&self) -> PathBuf {
        self.data_dir().join("secrets.age")
    }

    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data"))
            .current_dir(self.path());
        for key in CLEARED {
            command.env_remove(key);
        }
        for (k, v) in &self.env {
            command.env(k, v);
        }
        command
    }

    /// Runs `program ARGS` with `stdin` fed in (no terminal) and `extra` env.
    pub fn exec(&self, program: &str, args: &[&str], stdin: &str, extra: &[(&str, &str)]) -> Output {
        let mut command = self.command(program, args);
        command
            .envs(extra.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the program starts");
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.as_bytes());
        }
        child.wait_with_output().expect("the program finishes")
    }

    pub fn run(&self, args: &[&str], stdin: &str, extra: &[(&str, &str)]) -> Output {
        self.exec(WARD, args, stdin, extra)
    }

    pub fn ward(&self, args: &[&str]) -> Output {
        self.run(args, "", &[])
    }

    /// Runs `ward ARGS`, insists on exit 0, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.ward(args);
        assert_ok(&out, args);
        text(&out.stdout)
    }

    /// `ward secret set NAME ARGS…` with the value on stdin.
    pub fn set(&self, name: &str, value: &str, args: &[&str]) {
        let mut all = vec!["secret", "set", name];
        all.extend_from_slice(args);
        let out = self.run(&all, &format!("{value}\n"), &[]);
        assert_ok(&out, &all);
    }

    /// `ward secret get NAME --show-value`, trimmed.
    pub fn value(&self, name: &str) -> String {
        self.ok(&["secret", "get", name, "--show-value"]).trim_end_matches('\n').to_owned()
    }

    /// The `namespace/name`s that `ward secret list` shows.
    pub fn names(&self) -> Vec<String> {
        let json: serde_json::Value =
            serde_json::from_str(&self.ok(&["secret", "list", "-o", "json"])).expect("list prints JSON");
        json["secrets"]
            .as_array()
            .expect("a secrets array")
            .iter()
            .map(|s| {
                format!("{}/{}", s["namespace"].as_str().unwrap_or(""), s["name"].as_str().unwrap_or(""))
            })
            .collect()
    }
}

pub fn assert_ok(out: &Output, args: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "ward {args:?} failed:\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("the file exists").permissions().mode() & 0o777
}

/// Whether `program` runs at all.
pub fn have(program: &str) -> bool {
    Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Skips a test whose tool is missing, except under CI, where a missing
/// tool is a failure (CI installs it: see .ci/run).
pub fn require(program: &str, install: &str) -> bool {
    if have(program) {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "`{program}` is missing under CI: {install}");
    eprintln!("SKIPPED: `{program}` is not installed ({install})");
    false
}

/// Every `ward secret` command, `inject`, `run`, and both credential
/// helpers, against whatever backend `home` is set up for.
pub fn every_command_works(home: &Home) {
    home.set("openai", "sk-1", &["--type", "api-key", "--provider", "openai", "--meta", "team=ml"]);
    home.set("gh", "ghp_2", &[]);
    assert_eq!(home.value("openai"), "sk-1");
    assert_eq!(home.value("bearer/gh"), "ghp_2");
    assert_eq!(home.names(), ["api-key/openai", "bearer/gh"]);
    let meta: serde_json::Value =
        serde_json::from_str(&home.ok(&["secret", "get", "openai", "-o", "json"])).expect("JSON");
    assert_eq!((meta["provider"].as_str(), meta["metadata"]["team"].as_str()), (Some("openai"), Some("ml")));

    // Replacing a value keeps one entry.
    home.set("gh", "ghp_3", &[]);
    assert_eq!(home.value("gh"), "ghp_3");

    let template = home.path().join("t.tpl");
    std::fs::write(&template, "key=${TOKEN:api-key:openai} $${x}").expect("template");
    assert_eq!(home.ok(&["inject", "-i", template.to_str().expect("utf-8")]), "key=sk-1 ${x}");
    let out = home.run(&["run", "--", "sh", "-c", "echo \"$T\""], "", &[("T", "Bearer ${TOKEN:bearer:gh}")]);
    assert_ok(&out, &["run"]);
    assert_eq!(text(&out.stdout), "Bearer ghp_3\n");

    let git = home.run(
        &["git-credential", "store"],
        "protocol=https\nhost=h.example\nusername=u\npassword=p1\n\n",
        &[],
    );
    assert_ok(&git, &["git-credential store"]);
    let got = home.run(&["git-credential", "get"], "protocol=https\nhost=h.example\n\n", &[]);
    assert_eq!(text(&got.stdout), "username=u\npassword=p1\n");

    let docker = home.exec(
        DOCKER_HELPER,
        &["store"],
        r#"{"ServerURL":"https://r.example","Username":"d","Secret":"s"}"#,
        &[],
    );
    assert_ok(&docker, &["docker store"]);
    let docker = home.exec(DOCKER_HELPER, &["get"], "https://r.example", &[]);
    assert_eq!(
        text(&docker.stdout),
        "{\"ServerURL\":\"https://r.example\",\"Username\":\"d\",\"Secret\":\"s\"}\n"
    );

    let backup = home.path().join("backup.age");
    let pass = [("WARD_EXPORT_PASSPHRASE", "p")];
    assert_ok(
        &home.run(&["secret", "export", "--to", backup.to_str().expect("utf-8")], "", &pass),
        &["export"],
    );
    home.ok(&["secret", "delete", "openai", "--confirm"]);
    home.ok(&["secret", "clear", "--namespace", "git", "--force"]);
    assert_eq!(home.names(), ["bearer/gh", "docker/https___r.example"]);
    assert_ok(&home.run(&["secret", "import", backup.to_str().expect("utf-8")], "", &pass), &["import"]);
    assert_eq!(home.names().len(), 4);
    assert_eq!(home.value("openai"), "sk-1");
    home.ok(&["secret", "clear", "--force"]);
    assert!(home.names().is_empty());
}
