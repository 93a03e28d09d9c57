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
    git_with(home, &[], args, stdin)
}

/// `git -c credential.helper=… [config…] credential ARGS` in `home`, with
/// no system config and no terminal prompt.
fn git_with(home: &Home, config: &[&str], args: &[&str], stdin: &str) -> Output {
    let helper = format!("credential.helper=!{WARD} git-credential");
    let mut all = vec!["-c", "credential.helper=", "-c", &helper];
    for setting in config {
        all.extend(["-c", setting]);
    }
    all.push("credential");
    all.extend_from_slice(args);
    home.exec("git", &all, stdin, &[("GIT_TERMINAL_PROMPT", "0"), ("GIT_CONFIG_NOSYSTEM", "1")])
}

/// What `git credential fill` answered: the password, or None when git
/// found no credential (it fails without a terminal to ask on).
fn filled(home: &Home, config: &[&str], ask: &str) -> Option<String> {
    let out = git_with(home, config, &["fill"], ask);
    if out.status.code() != Some(0) {
        return None;
    }
    let answer = text(&out.stdout);
    answer.lines().find_map(|l| l.strip_prefix("password=")).map(str::to_owned)
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
    assert_eq!(home.names().len(), 1);
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
            "--meta",
            "protocol=https",
            "--meta",
            "host=git.example.com",
        ],
    );
    let fill = git(&home, &["fill"], ASK);
    assert_ne!(fill.status.code(), Some(0));
    assert!(!text(&fill.stdout).contains("old-pat"));
}

fn credential(protocol: &str, host: &str, path: Option<&str>, user: &str, password: &str) -> String {
    let path = path.map(|p| format!("path={p}\n")).unwrap_or_default();
    format!("protocol={protocol}\nhost={host}\n{path}username={user}\npassword={password}\n\n")
}

#[test]
fn git_keeps_several_accounts_per_host() {
    if !common::require("git", "apt-get install git") {
        return;
    }
    let home = Home::new();
    let host = "git.example.com";
    assert_ok(&git(&home, &["approve"], &credential("https", host, None, "alice", "pw-alice")), &["approve"]);
    assert_ok(&git(&home, &["approve"], &credential("https", host, None, "bob", "pw-bob")), &["approve"]);
    assert_eq!(home.names().len(), 2, "bob replaced alice: {:?}", home.names());
    let ask = |user: &str| format!("protocol=https\nhost={host}\nusername={user}\n\n");
    assert_eq!(filled(&home, &[], &ask("alice")).as_deref(), Some("pw-alice"));
    assert_eq!(filled(&home, &[], &ask("bob")).as_deref(), Some("pw-bob"));
    assert_eq!(filled(&home, &[], &ask("carol")), None, "carol got someone else's password");

    assert_ok(&git(&home, &["reject"], &credential("https", host, None, "bob", "pw-bob")), &["reject"]);
    assert_eq!(filled(&home, &[], &ask("bob")), None);
    assert_eq!(filled(&home, &[], &ask("alice")).as_deref(), Some("pw-alice"), "rejecting bob erased alice");
}

#[test]
fn git_with_use_http_path_keeps_one_credential_per_repository() {
    if !common::require("git", "apt-get install git") {
        return;
    }
    let home = Home::new();
    let by_path = ["credential.useHttpPath=true"];
    let host = "git.example.com";
    for (repo, password) in [("org/repo1.git", "pw-1"), ("org/repo2.git", "pw-2")] {
        let approve =
            git_with(&home, &by_path, &["approve"], &credential("https", host, Some(repo), "ci", password));
        assert_ok(&approve, &["approve"]);
    }
    let ask = |repo: &str| format!("protocol=https\nhost={host}\npath={repo}\n\n");
    assert_eq!(filled(&home, &by_path, &ask("org/repo1.git")).as_deref(), Some("pw-1"));
    assert_eq!(filled(&home, &by_path, &ask("org/repo2.git")).as_deref(), Some("pw-2"));
    assert_eq!(filled(&home, &by_path, &ask("org/repo3.git")), None, "repo3 got another repo's password");
}

#[test]
fn git_is_never_answered_for_another_protocol() {
    if !common::require("git", "apt-get install git") {
        return;
    }
    let home = Home::new();
    let host = "git.example.com";
    assert_ok(&git(&home, &["approve"], &credential("https", host, None, "alice", "pw-tls")), &["approve"]);
    let ask = |protocol: &str| format!("protocol={protocol}\nhost={host}\n\n");
    assert_eq!(filled(&home, &[], &ask("https")).as_deref(), Some("pw-tls"));
    assert_eq!(filled(&home, &[], &ask("http")), None, "an https password was sent over http");

    // An entry stored by hand without a protocol answers nothing.
    home.set(
        "plain.example.com",
        "pw-any",
        &["--namespace", "git", "--type", "basic", "--username", "u", "--meta", "host=plain.example.com"],
    );
    assert_eq!(filled(&home, &[], "protocol=http\nhost=plain.example.com\n\n"), None);
}

#[test]
fn line_breaks_and_nul_in_git_credentials_are_refused_when_stored() {
    let home = Home::new();
    // git itself cannot send a newline; a carriage return it can.
    for input in [
        "protocol=https\nhost=h.example\nusername=u\npassword=p\rusername=evil\n\n",
        "protocol=https\nhost=h.example\nusername=u\u{0}x\npassword=p\n\n",
    ] {
        let out = home.run(&["git-credential", "store"], input, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("line break or NUL"), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("evil"), "the value was echoed: {}", text(&out.stderr));
    }
    let config = home.config_dir().join("config.toml");
    assert!(!config.exists(), "a refused credential opened the store and pinned its backend");
    // `ward secret set` into the git namespace refuses them too.
    let base = [
        "secret",
        "set",
        "h",
        "--namespace",
        "git",
        "--type",
        "basic",
        "--meta",
        "protocol=https",
        "--meta",
        "host=h.example",
    ];
    for bad in [["--username", "u\npassword=evil"], ["--value", "p\nusername=evil"], ["--meta", "path=a\rb"]]
    {
        let args: Vec<&str> = base.iter().chain(bad.iter()).copied().collect();
        let out = home.run(&args, "p\n", &[]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("line break or NUL"), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("evil"), "the value was echoed: {}", text(&out.stderr));
    }
    assert!(home.names().is_empty(), "something was stored: {:?}", home.names());
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
