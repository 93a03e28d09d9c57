//! What ships: `ward --version` names the commit, the systemd unit passes
//! `systemd-analyze`, the Dockerfile builds (where a container engine
//! answers) or passes a structural lint (where none does), its health check
//! (`ward health`) answers as a health check must, and the SQLite backup
//! command of docs/deploy.md restores a running server's data.
//!
//! A tool these tests need (`systemd-analyze`, `sqlite3`, `git`) that is
//! missing is a failure under CI (`CI=true`; `.ci/run` installs them) and a
//! note on stderr elsewhere.

#[path = "e2e/harness.rs"]
#[allow(dead_code, reason = "the e2e harness, shared; this binary uses part of it")]
mod harness;

use harness::{ADMIN_PASSWORD, Server, User, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `tool` runs; if not, panics under CI and says so elsewhere.
fn have(tool: &str, probe: &[&str]) -> bool {
    let runs = Command::new(tool).args(probe).output().is_ok_and(|o| o.status.success());
    if !runs {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is needed under CI (.ci/run installs it)"
        );
        eprintln!("note: {tool} not found; this test checks nothing here");
    }
    runs
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

#[test]
fn ward_version_names_the_commit_it_was_built_from() {
    let out = run(Command::new(env!("CARGO_BIN_EXE_ward")).arg("--version"));
    assert!(out.status.success());
    let version = text(&out.stdout);
    let built = env!("WARD_BUILD_COMMIT");
    assert_eq!(version.trim(), format!("ward {} (commit {built})", env!("CARGO_PKG_VERSION")));
    if !have("git", &["--version"]) {
        return;
    }
    let head = run(Command::new("git").args(["rev-parse", "--short", "HEAD"]).current_dir(repo()));
    if head.status.success() && std::env::var("WARD_BUILD_COMMIT").is_err() {
        assert_eq!(built, text(&head.stdout).trim(), "the binary's commit is HEAD's");
    }
}

/// The unit as shipped, with ExecStart pointing at this build's binary
/// (systemd-analyze checks that the command exists).
fn unit_for_this_build(dir: &Path) -> PathBuf {
    let unit =
        std::fs::read_to_string(repo().join("packaging/ward.service")).expect("packaging/ward.service");
    assert!(
        unit.contains("ExecStart=/usr/local/bin/ward server"),
        "ExecStart runs /usr/local/bin/ward server"
    );
    let path = dir.join("ward.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/ward", env!("CARGO_BIN_EXE_ward")))
        .expect("write unit");
    path
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify_without_a_warning() {
    if !have("systemd-analyze", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = unit_for_this_build(dir.path());
    let out = run(Command::new("systemd-analyze").arg("verify").arg(&unit));
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "systemd-analyze verify failed:\n{said}");
    // Unknown or misspelt keys are only warnings, exit 0: none is allowed.
    assert_eq!(said.trim(), "", "systemd-analyze verify warned");
}

#[test]
fn the_systemd_unit_is_hardened() {
    if !have("systemd-analyze", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = unit_for_this_build(dir.path());
    // Exposure on systemd's 0-100 scale ("1.2 OK" is 12); 20 leaves room for nothing big.
    let out = run(Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=20", "--no-pager"])
        .arg(&unit));
    assert!(out.status.success(), "exposure above 2.0:\n{}", text(&out.stdout));
    let unit = std::fs::read_to_string(&unit).expect("read unit");
    for line in ["DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n"]
    {
        assert!(unit.contains(line), "the unit has {line:?}");
    }
}

/// `docker build` where a daemon answers; the structural lint always.
#[test]
fn the_dockerfile_is_multi_stage_non_root_with_a_volume_and_a_shell_free_health_check() {
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let lint = lint_dockerfile(&dockerfile);
    assert!(lint.is_empty(), "Dockerfile:\n{}", lint.join("\n"));
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).expect(".dockerignore");
    for entry in [".git", "target"] {
        assert!(ignore.lines().any(|l| l.trim() == entry), ".dockerignore leaves out {entry}");
    }
    let daemon = Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]).output();
    if daemon.is_ok_and(|o| o.status.success()) {
        let out = run(Command::new("docker")
            .args(["build", "-q", "-t", "ward:packaging-test", "."])
            .current_dir(repo()));
        assert!(out.status.success(), "docker build failed:\n{}", text(&out.stderr));
    } else {
        eprintln!("note: no container engine answers; the Dockerfile was linted, not built");
    }
}

/// What the runtime stage must have; each problem found, in words.
fn lint_dockerfile(text: &str) -> Vec<String> {
    // Join continuation lines, drop comments and blanks.
    let joined = text.replace("\\\n", " ");
    let lines: Vec<&str> =
        joined.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let froms: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].starts_with("FROM ")).collect();
    let mut problems = Vec::new();
    if froms.len() < 2 {
        problems.push("not multi-stage: one FROM".to_owned());
        return problems;
    }
    let toolchain = std::fs::read_to_string(repo().join("rust-toolchain.toml")).expect("rust-toolchain.toml");
    let pinned = toolchain
        .lines()
        .find_map(|l| l.trim().strip_prefix("channel = "))
        .map(|c| c.trim_matches('"').to_owned())
        .unwrap_or_default();
    if !lines.iter().any(|l| *l == format!("ARG RUST_VERSION={pinned}")) {
        problems.push(format!("the build stage does not use the pinned toolchain {pinned}"));
    }
    let last = &lines[froms[froms.len() - 1]..];
    let base = last[0].split_whitespace().nth(1).unwrap_or_default();
    if !(base.starts_with("gcr.io/distroless/") || base == "scratch") {
        problems.push(format!("the runtime image {base} is not shell-free (distroless or scratch)"));
    }
    let users: Vec<&str> = last.iter().filter_map(|l| l.strip_prefix("USER ")).collect();
    match users.last() {
        Some(user) if !["root", "0"].contains(&user.split(':').next().unwrap_or_default()) => {}
        _ => problems.push("the runtime stage does not set a non-root USER".to_owned()),
    }
    if !last.iter().any(|l| l.starts_with("VOLUME ")) {
        problems.push("no VOLUME for the data".to_owned());
    }
    match last.iter().find(|l| l.starts_with("HEALTHCHECK ")) {
        Some(check) => {
            let cmd = check.split(" CMD ").nth(1).unwrap_or_default().trim();
            if !cmd.starts_with("[\"/usr/local/bin/ward\", \"health\"") {
                problems.push(format!("HEALTHCHECK must run the ward binary in exec form (no shell): {cmd}"));
            }
        }
        None => problems.push("no HEALTHCHECK".to_owned()),
    }
    for instruction in ["ENTRYPOINT", "CMD"] {
        let exec_form =
            last.iter().any(|l| l.strip_prefix(instruction).is_some_and(|r| r.trim().starts_with('[')));
        if !exec_form {
            problems.push(format!("{instruction} is missing or in shell form"));
        }
    }
    problems
}

#[test]
fn the_dockerfile_lint_finds_what_is_missing() {
    let good = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    assert!(lint_dockerfile(&good).is_empty());
    let as_root = good.replace("USER nonroot:nonroot", "USER root");
    assert_eq!(lint_dockerfile(&as_root), ["the runtime stage does not set a non-root USER"]);
    let shell_check = good
        .replace("CMD [\"/usr/local/bin/ward\", \"health\"]", "CMD curl -f http://127.0.0.1:8420/healthz");
    assert_eq!(lint_dockerfile(&shell_check).len(), 1, "a shell-form health check is found");
    let one_stage: String =
        good.lines().skip_while(|l| !l.starts_with("FROM gcr.io")).collect::<Vec<_>>().join("\n");
    assert_eq!(lint_dockerfile(&one_stage), ["not multi-stage: one FROM"]);
}

#[test]
fn ward_health_exits_0_when_the_server_answers_and_1_when_nothing_does() {
    let server = Server::start("");
    let user = User::new(&server);
    let out = user.ward(&["health"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("{}: ok", server.url));

    let out = user.ward(&["--server", "http://127.0.0.1:9", "health"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("http://127.0.0.1:9 did not answer /healthz"),
        "{}",
        text(&out.stderr)
    );
}

/// docs/deploy.md, "Backups": `sqlite3 ward.db ".backup FILE"` on the live
/// database, plus master.key, is a data dir a new server starts from.
#[test]
fn an_online_sqlite_backup_of_a_running_server_restores_its_tokens() {
    if !have("sqlite3", &["-version"]) {
        return;
    }
    let server = Server::start("");
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    let kept = admin.json(&[
        "token",
        "create",
        "--name",
        "kept",
        "--type",
        "pipeline",
        "--scopes",
        "ward:introspect",
    ]);
    let kept = kept["token"].as_str().expect("the new token").to_owned();

    let backup = tempfile::tempdir().expect("tempdir");
    let copy = backup.path().join("ward.db");
    let out = run(Command::new("sqlite3")
        .arg(server.data_dir.join("ward.db"))
        .arg(format!(".backup '{}'", copy.display())));
    assert!(out.status.success(), "sqlite3 .backup failed: {}", text(&out.stderr));
    let later = admin.json(&[
        "token",
        "create",
        "--name",
        "later",
        "--type",
        "pipeline",
        "--scopes",
        "ward:introspect",
    ]);
    let later = later["token"].as_str().expect("the new token").to_owned();

    // A second server on a data dir made of the backup and the master key.
    let mut restored = Server::start("");
    assert!(restored.stop());
    for name in ["ward.db", "ward.db-wal", "ward.db-shm"] {
        let _ = std::fs::remove_file(restored.data_dir.join(name));
    }
    std::fs::copy(&copy, restored.data_dir.join("ward.db")).expect("restore ward.db");
    std::fs::copy(server.data_dir.join("master.key"), restored.data_dir.join("master.key"))
        .expect("master.key");
    restored.spawn(&restored.config_path(), None);

    let user = User::new(&restored);
    user.login("admin", ADMIN_PASSWORD);
    let code = |token: &str| {
        let out = user.run(&["token", "verify", "-", "--output", "json"], &format!("{token}\n"));
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
        answer["code"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(code(&kept), "VALID", "a token made before the backup");
    assert_eq!(code(&later), "NOT_FOUND", "a token made after it");
}
