//! `ward run`: a command run with `${TOKEN:namespace:name}` references in
//! its environment (and in `--env-file` files) resolved from the secret
//! store. An unresolved reference is an error that names it, and then
//! nothing runs.
//!
//! The child does not inherit the variables that unlock ward's own stores
//! and servers ([`SECRET_VARS`]) unless `--keep-env NAME` names them: a
//! command run with one secret should not also get the passphrase to all of
//! them. Variables an `--env-file` sets are passed as written.

use crate::app::App;
use crate::cli::run::RunArgs;
use crate::exit::CliError;
use std::io::Write;
use std::process::ExitCode;
use ward_secrets::{SecretString, template};

/// What ward itself reads to unlock a store, a server or its database: the
/// file store's passphrase, the export passphrase, the CLI's token, Vault's
/// and OpenBao's tokens, the server's master key, first admin password and
/// database URL (which may hold a password).
pub const SECRET_VARS: [&str; 8] = [
    "WARD_PASSPHRASE",
    "WARD_EXPORT_PASSPHRASE",
    "WARD_TOKEN",
    "VAULT_TOKEN",
    "BAO_TOKEN",
    "WARD_MASTER_KEY",
    "WARD_ADMIN_PASSWORD",
    "WARD_DATABASE_URL",
];

/// The [`SECRET_VARS`] not named by `--keep-env`; naming any other variable
/// is a usage error (it would pass anyway, so it is most likely a typo).
fn withheld(keep: &[String]) -> anyhow::Result<Vec<&'static str>> {
    if let Some(other) = keep.iter().find(|k| !SECRET_VARS.contains(&k.as_str())) {
        return Err(CliError::usage(
            format!("--keep-env {other}: ward does not withhold {other}, so there is nothing to keep"),
            Some(&format!("--keep-env takes one of {}", SECRET_VARS.join(", "))),
        )
        .into());
    }
    Ok(SECRET_VARS.into_iter().filter(|v| !keep.iter().any(|k| k == v)).collect())
}

/// `KEY=VALUE` lines: blank lines and `#` comments skipped, an optional
/// `export ` prefix, one pair of matching quotes around the value removed.
fn parse_env_file(text: &str, file: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut vars = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            anyhow::bail!("{} line {}: expected KEY=VALUE", file.display(), n + 1);
        };
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        vars.push((key.trim().to_owned(), unquoted.to_owned()));
    }
    Ok(vars)
}

pub fn run(app: &App, args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut file_vars = Vec::new();
    for file in &args.env_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        file_vars.extend(parse_env_file(&text, file)?);
    }
    let withheld = withheld(&args.keep_env)?;
    let vars = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| !withheld.contains(&k.as_str()))
        .chain(file_vars.iter().cloned());
    let mut resolve = app.resolver();
    let mut missing = Vec::new();
    let mut resolved: Vec<(String, SecretString)> = Vec::new();
    for (key, value) in vars {
        if !value.contains("${TOKEN:") && !value.contains("$${") {
            continue;
        }
        match template::render(&value, &mut resolve) {
            Ok(v) => resolved.push((key, v)),
            Err(ward_secrets::Error::Unresolved(names)) => {
                missing.extend(names.into_iter().map(|n| format!("{n} (in {key})")))
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("resolving {key}"))),
        }
    }
    if !missing.is_empty() {
        return Err(ward_secrets::Error::Unresolved(missing).into());
    }
    let (program, rest) = args.command.split_first().ok_or_else(|| anyhow::anyhow!("no command to run"))?;
    let mut command = std::process::Command::new(program);
    command.args(rest);
    for name in &withheld {
        if std::env::var_os(name).is_some() {
            writeln!(
                std::io::stderr(),
                "note: {name} is not passed to the command (--keep-env {name} passes it)"
            )?;
        }
        command.env_remove(name);
    }
    command.envs(file_vars);
    for (key, value) in &resolved {
        command.env(key, value.expose());
    }
    let status = match command.status() {
        Ok(status) => status,
        Err(e) => {
            writeln!(std::io::stderr(), "error: cannot run `{program}`: {e}")?;
            writeln!(std::io::stderr(), "hint: check the command name and your PATH")?;
            return Ok(ExitCode::from(127));
        }
    };
    Ok(ExitCode::from(exit_status_code(status)))
}

/// The child's exit code; 128 + the signal number when a signal ended it.
fn exit_status_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return u8::try_from((128 + signal) & 0xff).unwrap_or(1);
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_secret_variable_is_withheld_unless_kept() {
        assert_eq!(withheld(&[]).expect("no flags"), SECRET_VARS);
        let kept = withheld(&["VAULT_TOKEN".into()]).expect("a known name");
        assert!(!kept.contains(&"VAULT_TOKEN") && kept.contains(&"WARD_PASSPHRASE"));
        let err = withheld(&["HOME".into()]).expect_err("an unknown name");
        assert!(err.to_string().contains("does not withhold HOME"), "{err}");
    }

    #[test]
    fn env_files_accept_comments_export_and_quotes() {
        let vars = parse_env_file(
            "# c\n\nexport A=1\nB=\"two words\"\nC='${TOKEN:x:y}'\nD=a=b\n",
            std::path::Path::new("f"),
        )
        .expect("parses");
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("A", "1"), ("B", "two words"), ("C", "${TOKEN:x:y}"), ("D", "a=b")]);
    }

    #[test]
    fn a_line_without_equals_is_an_error_with_its_number() {
        let err = parse_env_file("A=1\noops\n", std::path::Path::new("f")).expect_err("fails");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
