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

/// What ward reads to unlock its own stores and servers, with values.
const WARD_SECRETS: [(&str, &str); 8] = [
    ("WARD_PASSPHRASE", "pass-phrase-1"),
    ("WARD_EXPORT_PASSPHRASE", "export-phrase-2"),
    ("WARD_TOKEN", "ward_u_notarealtoken3"),
    ("VAULT_TOKEN", "hvs.vault-token-4"),
    ("BAO_TOKEN", "bao-token-5"),
    ("WARD_MASTER_KEY", "master-key-6"),
    ("WARD_ADMIN_PASSWORD", "admin-password-7"),
    ("WARD_DATABASE_URL", "postgres://u:db-password-8@h/db"),
];

#[test]
fn run_does_not_pass_wards_own_secret_variables_to_the_command() {
    let home = home_with_secrets();
    let mut env: Vec<(&str, &str)> = WARD_SECRETS.to_vec();
    env.push(("KEY", "Bearer ${TOKEN:api-key:openai}"));
    let out = home.run(&["run", "--", "sh", "-c", "env"], "", &env);
    assert_ok(&out, &["run"]);
    let child_env = text(&out.stdout);
    assert!(child_env.lines().any(|l| l == "KEY=Bearer sk-live-1"), "{child_env}");
    for (name, value) in WARD_SECRETS {
        assert!(!child_env.contains(&format!("{name}=")), "{name} reached the child:\n{child_env}");
        assert!(!child_env.contains(value), "{name}'s value reached the child");
    }
    let notes = text(&out.stderr);
    assert!(notes.contains("WARD_PASSPHRASE is not passed") && notes.contains("--keep-env"), "{notes}");
    assert!(WARD_SECRETS.iter().all(|(_, value)| !notes.contains(value)), "a value in the notes: {notes}");
}

#[test]
fn run_passes_a_secret_variable_the_user_names() {
    let home = home_with_secrets();
    let args = ["run", "--keep-env", "VAULT_TOKEN", "--keep-env", "WARD_TOKEN", "--", "sh", "-c", "env"];
    let out = home.run(&args, "", &WARD_SECRETS);
    assert_ok(&out, &args);
    let child_env = text(&out.stdout);
    assert!(child_env.lines().any(|l| l == "VAULT_TOKEN=hvs.vault-token-4"), "{child_env}");
    assert!(child_env.lines().any(|l| l == "WARD_TOKEN=ward_u_notarealtoken3"), "{child_env}");
    assert!(!child_env.contains("WARD_PASSPHRASE="), "{child_env}");

    let typo = home.run(&["run", "--keep-env", "VAULT_TOKN", "--", "true"], "", &[]);
    assert_eq!(typo.status.code(), Some(2), "{}", text(&typo.stderr));
    assert!(text(&typo.stderr).contains("VAULT_TOKN"), "{}", text(&typo.stderr));
}
