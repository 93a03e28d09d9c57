//! `ward inject` and `ward run`: `${TOKEN:namespace:name}` references
//! resolved from the secret store into a file or a command's environment.
//! The store is opened only when there is a reference to resolve; an
//! unresolved reference is an error that names it, and then nothing is
//! written and nothing is run.

use super::secret_args::{InjectArgs, RunArgs};
use crate::app::App;
use chrono::Utc;
use std::io::Write;
use std::process::ExitCode;
use ward_secrets::oauth::HttpRefresher;
use ward_secrets::{EntryId, SecretString, template};

/// Resolves references through the store, warning once per expired entry.
fn resolver(app: &App) -> impl FnMut(&EntryId) -> ward_secrets::Result<Option<SecretString>> + '_ {
    let refresher = HttpRefresher::default();
    move |id| {
        let store = app.store().map_err(|e| ward_secrets::Error::Invalid(format!("{e:#}")))?;
        let Some(entry) = store.get_fresh(id, &refresher)? else { return Ok(None) };
        if let Some(at) = entry.meta.expires_at.filter(|at| *at <= Utc::now()) {
            let _ = writeln!(std::io::stderr(), "warning: {id} expired at {at}");
        }
        Ok(Some(entry.secret.value))
    }
}

pub fn inject(app: &App, args: InjectArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.input)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.input.display()))?;
    let rendered = template::render(&text, resolver(app))
        .map_err(|e| anyhow::Error::new(e).context(format!("rendering {}", args.input.display())))?;
    match &args.out {
        Some(out) => {
            ward_secrets::atomic::write(out, rendered.expose().as_bytes())?;
            writeln!(std::io::stderr(), "Wrote {} (mode 0600).", out.display())?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(rendered.expose().as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
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
    let vars = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .chain(file_vars.iter().cloned());
    let mut resolve = resolver(app);
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
