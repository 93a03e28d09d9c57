//! The credential helpers, driven by the real clients: `git credential
//! fill/approve/reject` with `credential.helper = !ward git-credential`, and
//! docker's protocol through `docker-credential-ward`, both with the exact
//! JSON docker sends and through the Python docker library's credential
//! store (PyPI `docker`), when it is installed.

#[path = "secrets_common/mod.rs"]
mod common;

use common::{DOCKER_HELPER, Home, WARD, assert_ok, text};
use std::process::Output;

fn git(home: &Home, args: &[&str], stdin: &str) -> Output {
    let helper = format!("credential.helper=!{WARD} git-credential");
    let mut all = vec!["-c", "credential.helper=", "-c", &helper, "credential"];
    all.extend_from_slice(args);
    home.exec("git", &all, stdin, &[("GIT_TERMINAL_PROMPT", "0"), ("GIT_CONFIG_NOSYSTEM", "1")])
}

const ALICE: &str = "protocol=https\nhost=git.example.com\nusername=alice\npassword=s3cret-pat\n\n";
const ASK: &str = "protocol=https\nhost=git.example.com\n\n";

#[test]
fn git_stores_reads_and_erases_credentials_through_ward() {
    if !common::require("git", "apt-get install git") {
        return;
    }
    let home = Home::new();
    assert_ok(&git(&home, &["approve"], ALICE), &["git approve"]);
    assert_eq!(home.names(), ["git/git.example.com"]);
    let fill = git(&home, &["fill"], ASK);
    assert_ok(&fill, &["git fill"]);
    let answer = text(&fill.stdout);
    assert!(answer.contains("username=alice\n") && answer.contains("password=s3cret-pat\n"), "{answer}");

    assert_ok(&git(&home, &["reject"], ALICE), &["git reject"]);
    assert!(home.names().is_empty());
    let fill = git(&home, &["fill"], ASK);
    assert_ne!(fill.status.code(), Some(0), "git still got a credential: {}", text(&fill.stdout));
}

#[test]
fn git_is_never_given_an_expired_token() {
    if !common::require("git", "apt-get install git") {
        return;
    }
    let home = Home::new();
    home.set(
        "git.example.com",
        "old-pat",
        &[
            "--namespace",
            "git",
            "--type",
            "basic",
            "--username",
            "alice",
            "--expires-at",
            "2001-01-01T00:00:00Z",
        ],
    );
    let fill = git(&home, &["fill"], ASK);
    assert_ne!(fill.status.code(), Some(0));
    assert!(!text(&fill.stdout).contains("old-pat"));
}

#[test]
fn git_helper_ignores_unknown_operations() {
    let home = Home::new();
    let out = home.run(&["git-credential", "capability"], ASK, &[]);
    assert_ok(&out, &["git-credential capability"]);
    assert_eq!(text(&out.stdout), "");
}

fn docker(home: &Home, op: &str, stdin: &str) -> Output {
    home.exec(DOCKER_HELPER, &[op], stdin, &[])
}

#[test]
fn docker_protocol_with_the_json_docker_sends() {
    let home = Home::new();
    let url = "https://index.docker.io/v1/";
    let out = docker(
        &home,
        "store",
        &format!(r#"{{"ServerURL":"{url}","Username":"alice","Secret":"dckr_pat_1"}}"#),
    );
    assert_ok(&out, &["store"]);
    let out = docker(&home, "get", &format!("{url}\n"));
    assert_ok(&out, &["get"]);
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(got, serde_json::json!({"ServerURL": url, "Username": "alice", "Secret": "dckr_pat_1"}));
    let out = docker(&home, "list", "");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON"),
        serde_json::json!({url: "alice"})
    );
    assert_ok(&docker(&home, "erase", url), &["erase"]);
    let miss = docker(&home, "get", url);
    assert_eq!(miss.status.code(), Some(1));
    assert_eq!(text(&miss.stdout), "credentials not found in native keychain\n");
}

const PYTHON_DOCKER_CLIENT: &str = r#"
import json, sys
from docker.credentials import Store, errors
store = Store('ward')
url = 'https://registry.example.com'
store.store(url, 'alice', 's3cret')
print(json.dumps(store.get(url), sort_keys=True))
print(json.dumps(store.list(), sort_keys=True))
store.erase(url)
try:
    store.get(url)
    print('still there')
except errors.CredentialsNotFound:
    print('not found')
"#;

#[test]
fn the_python_docker_credential_store_works_through_ward() {
    let python_has_docker = std::process::Command::new("python3")
        .args(["-c", "import docker.credentials"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !python_has_docker {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 -c 'import docker' fails under CI: pip install docker"
        );
        eprintln!("SKIPPED: the Python docker library is missing (pip install docker)");
        return;
    }
    let home = Home::new();
    let bin_dir = std::path::Path::new(DOCKER_HELPER).parent().expect("bin dir");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = home.exec("python3", &["-c", PYTHON_DOCKER_CLIENT], "", &[("PATH", &path)]);
    assert_ok(&out, &["python3 docker client"]);
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            r#"{"Secret": "s3cret", "ServerURL": "https://registry.example.com", "Username": "alice"}"#,
            r#"{"https://registry.example.com": "alice"}"#,
            "not found",
        ]
    );
}
