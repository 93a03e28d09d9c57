//! `ward secret set | get | list | delete | clear` (backends, export and
//! import live in `secret_admin.rs`).

use crate::app::App;
use crate::cli::secret::{ClearArgs, DeleteArgs, GetArgs, ListArgs, SetArgs};
use crate::confirm;
use crate::exit::CliError;
use crate::output;
use crate::output::table::{Table, key_values};
use crate::secret_store::read_secret;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use ward_secrets::oauth::HttpRefresher;
use ward_secrets::{Entry, EntryId, EntryMeta, Kind, SecretValue};

/// One secret's metadata as `--output json` shows it.
#[derive(Debug, Serialize)]
pub struct Shown<'a> {
    #[serde(flatten)]
    pub meta: &'a EntryMeta,
    pub expired: bool,
}

#[derive(Debug, Serialize)]
struct Listing<'a> {
    secrets: Vec<Shown<'a>>,
}

pub fn set(app: &App, args: SetArgs) -> anyhow::Result<ExitCode> {
    let kind = args.kind;
    let (namespace, name) = match (&args.namespace, args.name.split_once('/')) {
        (Some(ns), _) => (ns.clone(), args.name.clone()),
        (None, Some((ns, name))) => (ns.to_owned(), name.to_owned()),
        (None, None) => (kind.default_namespace().to_owned(), args.name.clone()),
    };
    let id = EntryId::new(&namespace, &name)?;
    let now = Utc::now();
    let mut meta = EntryMeta::new(&id, kind, now);
    meta.provider = args.provider.clone();
    meta.username = args.username.clone();
    meta.expires_at = args.expires_at.as_deref().map(|t| parse_time(t, now)).transpose()?;
    for pair in &args.meta {
        let (k, v) = pair
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| CliError::usage(format!("--meta `{pair}` is not KEY=VALUE"), None))?;
        meta.metadata.insert(k.trim().to_owned(), v.to_owned());
    }
    let secret = if kind == Kind::OAuth {
        oauth_secret(&args, &mut meta, now)?
    } else {
        if args.access_token.is_some() || args.refresh_token.is_some() || args.token_url.is_some() {
            return Err(CliError::usage(
                "--access-token, --refresh-token and --token-url are for --type oauth",
                None,
            )
            .into());
        }
        SecretValue::new(read_secret(args.value, "--value", "the secret value")?)
    };
    let entry = Entry { meta: meta.clone(), secret };
    if namespace == ward_secrets::git::NAMESPACE {
        ward_secrets::git::check_entry(&entry).map_err(|e| CliError::usage(e.to_string(), None))?;
    }
    let store = app.store_for_write()?;
    store.put(entry)?;
    output::emit(app.output, &Shown { meta: &meta, expired: meta.is_expired(now) }, || {
        format!("✓ Stored {id} ({kind}) in the {} backend.", store.kind())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn oauth_secret(args: &SetArgs, meta: &mut EntryMeta, now: DateTime<Utc>) -> anyhow::Result<SecretValue> {
    let access = args.access_token.clone().or_else(|| args.value.clone());
    let mut secret = SecretValue::new(read_secret(access, "--access-token", "the access token")?);
    if let Some(refresh) = &args.refresh_token {
        writeln!(std::io::stderr(), "warning: --refresh-token puts the token in your shell history")?;
        secret.refresh_token = Some(refresh.clone().into());
    }
    if let Some(lifetime) = &args.expires_in {
        let seconds = match lifetime.parse::<i64>() {
            Ok(s) if s >= 0 => s,
            _ => ward_core::Ttl::parse(lifetime)
                .map_err(|e| CliError::usage(format!("--expires-in: {e}"), Some("give seconds, or 1h, 30m")))?
                .as_duration()
                .num_seconds(),
        };
        meta.expires_at = Some(ward_secrets::oauth::expiry(now, seconds));
    }
    meta.token_url = args.token_url.clone();
    meta.client_id = args.client_id.clone();
    meta.refreshable = secret.refresh_token.is_some() && meta.token_url.is_some();
    if secret.refresh_token.is_some() && meta.token_url.is_none() {
        writeln!(std::io::stderr(), "warning: without --token-url the entry cannot refresh itself")?;
    }
    Ok(secret)
}

/// RFC 3339, or a lifetime from now (`30d`, `12h`).
fn parse_time(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.to_utc());
    }
    let ttl = ward_core::Ttl::parse(text).map_err(|_| {
        CliError::usage(
            format!("--expires-at `{text}` is neither a time nor a lifetime"),
            Some("write 2027-01-01T00:00:00Z, or a lifetime such as 30d or 12h"),
        )
    })?;
    Ok(now + ttl.as_duration())
}

pub fn get(app: &App, args: GetArgs) -> anyhow::Result<ExitCode> {
    let store = app.store()?;
    let id = store.resolve(args.namespace.as_deref(), &args.name)?;
    let listed = store.list()?.into_iter().find(|m| m.id() == id);
    let Some(mut meta) = listed else { return Err(ward_secrets::Error::NotFound(id.to_string()).into()) };
    let now = Utc::now();
    if args.show_value || meta.needs_refresh(now) {
        let entry = store
            .get_fresh(&id, &HttpRefresher::default())?
            .ok_or_else(|| ward_secrets::Error::NotFound(id.to_string()))?;
        meta = entry.meta.clone();
        if args.show_value {
            if let Some(at) = meta.expires_at.filter(|at| *at <= now) {
                writeln!(std::io::stderr(), "warning: {id} expired at {}", output::time(&at))?;
            }
            output::write_stdout(&format!("{}\n", entry.secret.value.expose()))?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let shown = Shown { meta: &meta, expired: meta.is_expired(now) };
    output::emit(app.output, &shown, || describe(&meta, now))?;
    Ok(ExitCode::SUCCESS)
}

fn describe(meta: &EntryMeta, now: DateTime<Utc>) -> String {
    let mut rows = vec![
        ("Name", meta.id().to_string()),
        ("Type", meta.kind.to_string()),
        ("Provider", meta.provider.clone().unwrap_or_else(|| "-".into())),
        ("Created", output::time(&meta.created_at)),
        ("Updated", output::time(&meta.updated_at)),
        ("Expires", expiry(meta, now)),
    ];
    if let Some(u) = &meta.username {
        rows.push(("Username", u.clone()));
    }
    if let Some(url) = &meta.token_url {
        rows.push(("Token URL", url.clone()));
        rows.push(("Refreshable", if meta.refreshable { "yes" } else { "no" }.into()));
    }
    let meta_rows: Vec<(String, String)> =
        meta.metadata.iter().map(|(k, v)| (format!("meta.{k}"), v.clone())).collect();
    let mut pairs: Vec<(&str, String)> = rows;
    pairs.extend(meta_rows.iter().map(|(k, v)| (k.as_str(), v.clone())));
    key_values(&pairs)
}

fn expiry(meta: &EntryMeta, now: DateTime<Utc>) -> String {
    match meta.expires_at {
        Some(at) if at <= now => format!("⚠ {} (expired)", output::time(&at)),
        other => output::time_or_never(other.as_ref()),
    }
}

pub fn list(app: &App, args: ListArgs) -> anyhow::Result<ExitCode> {
    let kinds = args.kinds;
    let metas: Vec<EntryMeta> = app
        .store()?
        .list()?
        .into_iter()
        .filter(|m| args.namespace.as_ref().is_none_or(|ns| m.namespace == *ns))
        .filter(|m| kinds.is_empty() || kinds.contains(&m.kind))
        .collect();
    let now = Utc::now();
    let listing =
        Listing { secrets: metas.iter().map(|m| Shown { meta: m, expired: m.is_expired(now) }).collect() };
    output::emit(app.output, &listing, || {
        if metas.is_empty() {
            return "No secrets stored.".into();
        }
        let mut table = Table::new(["Namespace", "Name", "Type", "Provider", "Created", "Expires"]);
        for m in &metas {
            table.row(vec![
                m.namespace.clone(),
                m.name.clone(),
                m.kind.to_string(),
                m.provider.clone().unwrap_or_else(|| "-".into()),
                output::time(&m.created_at),
                expiry(m, now),
            ]);
        }
        table.render()
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn delete(app: &App, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    confirm::ensure_askable(args.confirm, &format!("delete secret {}", args.name))?;
    let store = app.store()?;
    let id = store.resolve(args.namespace.as_deref(), &args.name)?;
    if !args.confirm && !confirm::ask(&format!("Delete secret {id}?"))? {
        return confirm::cancelled();
    }
    if !store.delete(&id)? {
        return Err(ward_secrets::Error::NotFound(id.to_string()).into());
    }
    output::write_stdout(&format!("Deleted {id}.\n"))?;
    Ok(ExitCode::SUCCESS)
}

pub fn clear(app: &App, args: ClearArgs) -> anyhow::Result<ExitCode> {
    let sessions = crate::session::NAMESPACE;
    if args.namespace.as_deref() == Some(sessions) && !args.sessions {
        return Err(CliError::usage(
            format!("{sessions} holds the CLI's login sessions and tokens"),
            Some("`ward logout` ends one; add --sessions to delete them all"),
        )
        .into());
    }
    let scope = match &args.namespace {
        Some(ns) => format!("every secret in namespace {ns}"),
        None if args.sessions => "every secret and every login session".to_owned(),
        None => "every secret (login sessions stay)".to_owned(),
    };
    confirm::ensure_askable(args.force, &format!("delete {scope}"))?;
    let store = app.store()?;
    if !args.force && !confirm::ask(&format!("Delete {scope} in the {} backend?", store.kind()))? {
        return confirm::cancelled();
    }
    let chosen = |m: &EntryMeta| args.namespace.as_ref().is_none_or(|ns| m.namespace == *ns);
    let removed = store.clear_where(|m| chosen(m) && (args.sessions || m.namespace != sessions))?;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    output::write_stdout(&format!("Deleted {removed} secret{}.\n", plural(removed)))?;
    let kept =
        if args.sessions { 0 } else { store.list()?.iter().filter(|m| m.namespace == sessions).count() };
    if kept > 0 && args.namespace.is_none() {
        writeln!(
            std::io::stderr(),
            "note: kept {kept} login session{} (`ward logout` ends one; --sessions deletes them too)",
            plural(kept)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
