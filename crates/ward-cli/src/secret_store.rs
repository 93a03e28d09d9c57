//! What the secret commands share: the passphrase prompt, pinning the
//! backend on first use (with a note on stderr), and reading a secret from
//! a flag, a hidden prompt or stdin.

use crate::exit::CliError;
use crate::input;
use std::io::Write;
use ward_secrets::backend::file::key::{EnvPassphrase, PassphraseSource, Purpose};
use ward_secrets::config::Config;
use ward_secrets::{SecretStore, SecretString};

/// `WARD_PASSPHRASE`, else a hidden prompt on a terminal (twice for a new
/// store), else an error that says to set the variable.
#[derive(Debug)]
pub struct CliPassphrase;

impl PassphraseSource for CliPassphrase {
    fn passphrase(&self, purpose: Purpose) -> ward_secrets::Result<SecretString> {
        if let Ok(p) = EnvPassphrase.passphrase(purpose) {
            return Ok(p);
        }
        if !input::stdin_is_terminal() {
            return EnvPassphrase.passphrase(purpose);
        }
        let ask = |prompt: &str| {
            input::prompt_hidden(prompt)
                .map(|p| SecretString::new(p.as_str()))
                .map_err(|e| ward_secrets::Error::NoPassphrase(e.to_string()))
        };
        match purpose {
            Purpose::Unlock => ask("Passphrase for the ward secret store: "),
            Purpose::Create => {
                let first = ask("New passphrase for the ward secret store: ")?;
                if first.is_empty() {
                    return Err(ward_secrets::Error::NoPassphrase("the passphrase is empty".into()));
                }
                if ask("Repeat the passphrase: ")? != first {
                    return Err(ward_secrets::Error::NoPassphrase("the two passphrases differ".into()));
                }
                Ok(first)
            }
        }
    }
}

/// Pins the backend in the profile if nothing is pinned yet, and says so.
pub fn pin(config: &Config, store: &SecretStore) -> anyhow::Result<()> {
    if ward_secrets::open::pin(config, store)? {
        writeln!(
            std::io::stderr(),
            "note: profile `{}` now keeps its secrets in the {} backend: {} (pinned in {})",
            config.profile_name,
            store.kind(),
            store.location(),
            config.paths.config_file.display()
        )?;
    }
    Ok(())
}

/// A secret from `--value` (with a warning), else a hidden prompt on a
/// terminal, else the first line of stdin.
pub fn read_secret(flag: Option<String>, flag_name: &str, what: &str) -> anyhow::Result<SecretString> {
    if let Some(value) = flag {
        writeln!(
            std::io::stderr(),
            "warning: {flag_name} puts the secret in your shell history; pipe it in on stdin instead"
        )?;
        return non_empty(SecretString::from(value), what);
    }
    if input::stdin_is_terminal() {
        let value = input::prompt_hidden(&format!("{what}: "))?;
        return non_empty(SecretString::new(value.as_str()), what);
    }
    let line = input::first_stdin_line(what)?;
    non_empty(SecretString::new(line.as_str()), what)
}

fn non_empty(value: SecretString, what: &str) -> anyhow::Result<SecretString> {
    if value.expose().trim().is_empty() {
        return Err(CliError::usage(format!("{what} is empty"), None).into());
    }
    Ok(value)
}
