//! `ward secret backends | export | import`.

use crate::app::App;
use crate::cli::secret::{ExportArgs, ImportArgs};
use crate::exit::CliError;
use crate::input;
use crate::output;
use crate::output::table::Table;
use age::secrecy::SecretString as AgeSecret;
use serde::{Deserialize, Serialize};
use std::process::ExitCode;
use ward_secrets::open::{self, Choice};
use ward_secrets::{BackendKind, Entry, SecretString};

#[derive(Debug, Serialize)]
struct BackendStatus {
    name: &'static str,
    available: bool,
    active: bool,
    location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

#[derive(Debug, Serialize)]
struct Backends {
    profile: String,
    config: String,
    active: &'static str,
    choice: &'static str,
    backends: Vec<BackendStatus>,
}

pub fn backends(app: &App) -> anyhow::Result<ExitCode> {
    let (active, choice) = open::choose(&app.config, app.requested_backend);
    let mut statuses = Vec::new();
    for kind in BackendKind::ALL {
        let store = open::open_kind(&app.config, kind, Box::new(crate::secret_store::CliPassphrase));
        let probe = match (&store, kind) {
            (Err(e), _) => Err(e.to_string()),
            (Ok(_), BackendKind::Keyring) => {
                open::keyring_client(&app.config).probe().map_err(|e| e.to_string())
            }
            (Ok(s), BackendKind::Vault) => s.list().map(|_| ()).map_err(|e| e.to_string()),
            (Ok(_), BackendKind::File) => Ok(()),
        };
        statuses.push(BackendStatus {
            name: kind.as_str(),
            available: probe.is_ok(),
            active: kind == active,
            location: store.map(|s| s.location()).unwrap_or_else(|_| "-".into()),
            problem: probe.err(),
        });
    }
    let report = Backends {
        profile: app.config.profile_name.clone(),
        config: app.config.paths.config_file.display().to_string(),
        active: active.as_str(),
        choice: choice_name(choice),
        backends: statuses,
    };
    output::emit(app.output, &report, || {
        let mut table = Table::new(["Backend", "Active", "Available", "Location"]);
        for b in &report.backends {
            let available = match &b.problem {
                None => "yes".to_owned(),
                Some(p) => format!("no: {p}"),
            };
            table.row(vec![
                b.name.into(),
                if b.active { "*" } else { "" }.into(),
                available,
                b.location.clone(),
            ]);
        }
        format!(
            "{}\nProfile `{}` uses the {} backend ({}; config: {}).",
            table.render().trim_end(),
            report.profile,
            report.active,
            choice.describe(),
            report.config
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

fn choice_name(choice: Choice) -> &'static str {
    match choice {
        Choice::Requested => "requested",
        Choice::Pinned => "pinned",
        Choice::Automatic => "automatic",
    }
}

#[derive(Serialize, Deserialize)]
struct Export {
    format: String,
    entries: Vec<Entry>,
}

const EXPORT_FORMAT: &str = "ward-secrets-export v1";

/// `WARD_EXPORT_PASSPHRASE`, else a hidden prompt (twice when `twice`).
fn export_passphrase(twice: bool) -> anyhow::Result<SecretString> {
    if let Some(p) = std::env::var("WARD_EXPORT_PASSPHRASE").ok().filter(|p| !p.is_empty()) {
        return Ok(SecretString::from(p));
    }
    if !input::stdin_is_terminal() {
        return Err(CliError::usage(
            "no passphrase for the export file",
            Some("set WARD_EXPORT_PASSPHRASE, or run the command on a terminal to be asked"),
        )
        .into());
    }
    let first = input::prompt_hidden("Passphrase for the export file: ")?;
    if twice && *input::prompt_hidden("Repeat the passphrase: ")? != *first {
        return Err(CliError::usage("the two passphrases differ", Some("run the command again")).into());
    }
    Ok(SecretString::new(first.as_str()))
}

pub fn export(app: &App, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let passphrase = export_passphrase(true)?;
    let store = app.store()?;
    let mut entries = Vec::new();
    for meta in store.list()? {
        if let Some(entry) = store.get(&meta.id())? {
            entries.push(entry);
        }
    }
    let plain =
        zeroize::Zeroizing::new(serde_json::to_vec(&Export { format: EXPORT_FORMAT.into(), entries })?);
    let recipient = age::scrypt::Recipient::new(AgeSecret::from(passphrase.expose().to_owned()));
    let sealed = age::encrypt(&recipient, &plain)?;
    ward_secrets::atomic::write(&args.to, &sealed)?;
    let count = serde_json::from_slice::<Export>(&plain).map(|e| e.entries.len()).unwrap_or_default();
    eprintln!("Exported {count} secrets to {} (age, passphrase-encrypted).", args.to.display());
    Ok(ExitCode::SUCCESS)
}

pub fn import(app: &App, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let sealed =
        std::fs::read(&args.file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    let passphrase = export_passphrase(false)?;
    let identity = age::scrypt::Identity::new(AgeSecret::from(passphrase.expose().to_owned()));
    let plain = zeroize::Zeroizing::new(age::decrypt(&identity, &sealed).map_err(|e| {
        CliError::usage(
            format!("cannot decrypt {}: {e}", args.file.display()),
            Some(
                "check the passphrase (WARD_EXPORT_PASSPHRASE); a file changed after `ward secret export` wrote it, or written without the passphrase, never decrypts",
            ),
        )
    })?);
    let export: Export =
        serde_json::from_slice(&plain)
            .ok()
            .filter(|e: &Export| e.format == EXPORT_FORMAT)
            .ok_or_else(|| anyhow::anyhow!("{} is not a ward secret export", args.file.display()))?;
    let count = export.entries.len();
    app.store_for_write()?.put_many(export.entries)?;
    eprintln!("Imported {count} secrets (existing ones with the same names were replaced).");
    Ok(ExitCode::SUCCESS)
}
