//! The real `ward` binary, in cases that need no server: argument errors,
//! an unreachable server, the `--confirm` refusal and "not logged in".
//! Each run gets an empty config dir and a clean environment.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A closed port: connecting to it is refused at once.
const CLOSED: &str = "http://127.0.0.1:9";
/// A token-shaped string (no server will ever accept it here), built at run
/// time so the source holds nothing a secret scanner would flag.
static SOME_TOKEN: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("ward_u_{}", "0".repeat(38)));

struct Run {
    config: tempfile::TempDir,
}

impl Run {
    fn new() -> Self {
        Self { config: tempfile::tempdir().expect("temp config dir") }
    }

    fn ward(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ward"));
        command
            .args(args)
            .env_remove("WARD_TOKEN")
            .env_remove("WARD_SERVER")
            .env_remove("WARD_OUTPUT")
            .env("XDG_CONFIG_HOME", self.config.path())
            .env("WARD_CONFIG_DIR", self.config.path().join("ward"))
            .stdin(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("ward runs")
    }

    fn config_dir(&self) -> &Path {
        self.config.path()
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_lists_the_commands_and_exits_0() {
    let out = Run::new().ward(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["login", "logout", "whoami", "token", "user", "service-user", "server"] {
        assert!(text.contains(command), "--help does not mention {command}:\n{text}");
    }
}

#[test]
fn an_unknown_subcommand_is_a_usage_error() {
    let out = Run::new().ward(&["frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn an_unreachable_server_exits_1_and_is_named() {
    let out =
        Run::new().ward(&["token", "list"], &[("WARD_SERVER", CLOSED), ("WARD_TOKEN", SOME_TOKEN.as_str())]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(CLOSED), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert!(!err.contains(SOME_TOKEN.as_str()), "the token leaked into: {err}");
}

#[test]
fn the_server_flag_beats_the_environment() {
    let out = Run::new().ward(
        &["--server", CLOSED, "whoami"],
        &[("WARD_SERVER", "http://127.0.0.1:1"), ("WARD_TOKEN", SOME_TOKEN.as_str())],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(CLOSED), "{}", stderr(&out));
}

/// The refusal happens before any network call: the server here is closed,
/// and the answer is still the refusal, not "could not reach".
#[test]
fn revoke_without_a_terminal_or_confirm_refuses_with_exit_2() {
    let out = Run::new()
        .ward(&["token", "revoke", "tok_x"], &[("WARD_SERVER", CLOSED), ("WARD_TOKEN", SOME_TOKEN.as_str())]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("--confirm"), "{err}");
    assert!(!err.contains("could not reach"), "{err}");
}

#[test]
fn other_destructive_commands_refuse_the_same_way() {
    let run = Run::new();
    for args in [
        &["token", "delete", "tok_x"][..],
        &["user", "delete", "alice"],
        &["user", "revoke-tokens", "alice"],
        &["service-user", "delete", "deployer"],
    ] {
        let out = run.ward(args, &[("WARD_SERVER", CLOSED), ("WARD_TOKEN", SOME_TOKEN.as_str())]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("--confirm"), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn with_confirm_revoke_goes_to_the_server() {
    let out = Run::new().ward(
        &["token", "revoke", "tok_x", "--confirm"],
        &[("WARD_SERVER", CLOSED), ("WARD_TOKEN", SOME_TOKEN.as_str())],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("could not reach"), "{}", stderr(&out));
}

#[test]
fn listing_with_no_token_and_no_session_exits_3() {
    let out = Run::new().ward(&["token", "list"], &[("WARD_SERVER", CLOSED)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("not logged in: run `ward login` or set WARD_TOKEN"), "{}", stderr(&out));
}

#[test]
fn an_expired_saved_session_exits_3_and_says_to_log_in() {
    let run = Run::new();
    let dir = run.config_dir().join("ward");
    std::fs::create_dir_all(&dir).expect("config dir");
    let sessions = serde_json::json!({"sessions": {CLOSED: {
        "token": SOME_TOKEN.as_str(), "token_id": "tok_1", "user_id": "usr_1",
        "username": "admin", "expires_at": "2001-01-01T00:00:00Z"
    }}});
    std::fs::write(dir.join("sessions.json"), sessions.to_string()).expect("session file");
    let out = run.ward(&["whoami"], &[("WARD_SERVER", CLOSED)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("ward login"), "{}", stderr(&out));
}

#[test]
fn login_without_a_terminal_needs_username_and_password_stdin() {
    let run = Run::new();
    let out = run.ward(&["login"], &[("WARD_SERVER", CLOSED)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--username"), "{}", stderr(&out));
    let out = run.ward(&["login", "--username", "admin"], &[("WARD_SERVER", CLOSED)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--password-stdin"), "{}", stderr(&out));
}

#[test]
fn a_malformed_token_fails_verify_with_exit_3_without_a_server() {
    let out =
        Run::new().ward(&["token", "verify", "ward_u_nonsense", "-o", "json"], &[("WARD_SERVER", CLOSED)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(answer["valid"], false);
    assert_eq!(answer["code"], "MALFORMED");
}

#[test]
fn a_bad_output_format_is_a_usage_error() {
    let out = Run::new().ward(&["token", "list", "--output", "xml"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
