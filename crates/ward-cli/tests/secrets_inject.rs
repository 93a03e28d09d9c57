//! `ward inject` and `ward run`: references resolved inside strings, `$${`
//! escapes, unresolved references named with nothing written or run, the
//! child's exit code passed through.

#[path = "secrets_common/mod.rs"]
mod common;

use common::{Home, assert_ok, text};

fn home_with_secrets() -> Home {
    let home = Home::new();
    home.set("openai", "sk-live-1", &["--type", "api-key"]);
    home.set("gh", "ghp_2", &[]);
    home
}

#[test]
fn inject_renders_references_inside_strings_into_a_private_file() {
    let home = home_with_secrets();
    let input = home.path().join("app.yaml.tpl");
    std::fs::write(
        &input,
        "openai_key: \"${TOKEN:api-key:openai}\"\nauth: Bearer ${TOKEN:bearer:gh}!\nliteral: $${TOKEN:bearer:gh}\nhome: ${HOME}\n",
    )
    .expect("template");
    let out = home.path().join("app.yaml");
    home.ok(&["inject", "-i", input.to_str().expect("utf-8"), "-o", out.to_str().expect("utf-8")]);
    assert_eq!(
        std::fs::read_to_string(&out).expect("rendered"),
        "openai_key: \"sk-live-1\"\nauth: Bearer ghp_2!\nliteral: ${TOKEN:bearer:gh}\nhome: ${HOME}\n"
    );
    #[cfg(unix)]
    assert_eq!(common::mode(&out), 0o600);
}

#[test]
fn inject_without_an_output_file_prints_to_stdout() {
    let home = home_with_secrets();
    let input = home.path().join("t");
    std::fs::write(&input, "k=${TOKEN:api-key:openai}").expect("template");
    assert_eq!(home.ok(&["inject", "-i", input.to_str().expect("utf-8")]), "k=sk-live-1");
}

#[test]
fn an_unresolved_reference_is_named_and_nothing_is_written() {
    let home = home_with_secrets();
    let input = home.path().join("t");
    std::fs::write(&input, "a=${TOKEN:api-key:openai}\nb=${TOKEN:api-key:missing}\n").expect("template");
    let out_file = home.path().join("out");
    std::fs::write(&out_file, "previous").expect("old output");
    let out =
        home.ward(&["inject", "-i", input.to_str().expect("utf-8"), "-o", out_file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("${TOKEN:api-key:missing}"), "{err}");
    assert!(!err.contains("sk-live-1"), "a secret leaked into the error: {err}");
    assert_eq!(std::fs::read_to_string(&out_file).expect("old output"), "previous");
}

#[test]
fn a_template_without_references_needs_no_store() {
    let home = Home::bare();
    let input = home.path().join("t");
    std::fs::write(&input, "plain $${TOKEN:x:y} text").expect("template");
    assert_eq!(home.ok(&["inject", "-i", input.to_str().expect("utf-8")]), "plain ${TOKEN:x:y} text");
    assert!(!home.config_dir().join("config.toml").exists());
}

#[test]
fn run_resolves_the_environment_and_the_env_file() {
    let home = home_with_secrets();
    let env_file = home.path().join(".env");
    std::fs::write(&env_file, "# comment\nGH=token ${TOKEN:bearer:gh}\nPLAIN=$${TOKEN:x:y}\n")
        .expect("env file");
    let out = home.run(
        &[
            "run",
            "--env-file",
            env_file.to_str().expect("utf-8"),
            "--",
            "sh",
            "-c",
            "echo \"$KEY|$GH|$PLAIN\"",
        ],
        "",
        &[("KEY", "Bearer ${TOKEN:api-key:openai}")],
    );
    assert_ok(&out, &["run"]);
    assert_eq!(text(&out.stdout), "Bearer sk-live-1|token ghp_2|${TOKEN:x:y}\n");
}

#[test]
fn run_passes_the_exit_code_through() {
    let home = home_with_secrets();
    let out = home.ward(&["run", "--", "sh", "-c", "exit 42"]);
    assert_eq!(out.status.code(), Some(42));
    let out = home.ward(&["run", "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.status.code(), Some(128 + 15));
}

#[test]
fn run_with_an_unresolved_reference_does_not_start_the_command() {
    let home = home_with_secrets();
    let marker = home.path().join("ran");
    let script = format!("touch {}", marker.display());
    let out = home.run(&["run", "--", "sh", "-c", &script], "", &[("X", "${TOKEN:nope:nothing}")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("${TOKEN:nope:nothing} (in X)"), "{}", text(&out.stderr));
    assert!(!marker.exists(), "the command ran");
}
