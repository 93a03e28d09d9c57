//! `ward auth set-token` and `ward auth status`: the token a profile uses,
//! kept in the secret store per config file, profile and server, and where
//! the token of this run comes from (`--token`, then `WARD_TOKEN`, then
//! the store). `status` also lists every token stored for this config file
//! and profile, and which one this run uses.

use crate::app::{self, App, Source};
use crate::cli::auth::SetTokenArgs;
use crate::exit::{CliError, Exit};
use crate::output;
use crate::output::table::key_values;
use crate::secret_store::read_secret;
use crate::session;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use ward_secrets::SecretString;

pub async fn set_token(app: &App, args: SetTokenArgs) -> anyhow::Result<ExitCode> {
    let token = match args.token.filter(|t| t != "-") {
        Some(t) => read_secret(Some(t), "a token argument", "the token")?,
        None => read_secret(None, "", "the token")?,
    };
    let token = SecretString::new(token.expose().trim());
    if let Err(e) = ward_core::token::inspect(token.expose()) {
        return Err(CliError::usage(
            format!("this is not a ward token ({e})"),
            Some("check that it was copied whole: ward tokens look like ward_u_… with a checksum at the end"),
        )
        .into());
    }
    let mut details: Vec<(&str, String)> = vec![("source", "set-token".into())];
    let mut expires_at = None;
    let mut who = String::new();
    if !args.no_verify {
        let client = app.anonymous_client()?.with_token(Some(token.expose().to_owned()))?;
        let me = match client.whoami().await {
            Ok(me) => me,
            Err(e) if e.is_unauthenticated() => {
                let mut stderr = std::io::stderr().lock();
                writeln!(stderr, "error: the server refused this token ({e}); nothing was stored")?;
                writeln!(stderr, "hint: create a new token, or pass --no-verify to store it anyway")?;
                return Ok(Exit::Unauthenticated.into());
            }
            Err(e) => return Err(e.into()),
        };
        expires_at = me.expires_at;
        who = format!(" as {}", me.username);
        details.extend([("token_id", me.token_id), ("user_id", me.user_id), ("username", me.username)]);
    }
    let details: Vec<(&str, &str)> = details.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let profile = &app.config.profile_name;
    let entry = session::entry(&app.slot(), token, &details, expires_at)?;
    app.create_profile_if_new()?;
    let store = app.store_for_write()?;
    store.put(entry)?;
    output::write_stdout(&format!(
        "✓ Token stored for profile `{profile}` ({}){who} in the {} backend.\n",
        app.server,
        store.kind()
    ))?;
    if app::env_token().is_some() {
        writeln!(std::io::stderr(), "warning: WARD_TOKEN is set and takes precedence over the stored token")?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
struct Status {
    profile: String,
    server: String,
    source: Option<&'static str>,
    backend: String,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    me: Option<ward_api::WhoAmI>,
    /// Every token stored for this config file and profile.
    stored: Vec<StoredToken>,
    warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct StoredToken {
    #[serde(flatten)]
    listed: session::Listed,
    /// Whether this run sends it (its server, and no --token / WARD_TOKEN).
    in_use: bool,
}

pub async fn status(app: &App) -> anyhow::Result<ExitCode> {
    let opened = app.opened()?;
    let backend =
        format!("{}: {} ({})", opened.store.kind(), opened.store.location(), opened.choice.describe());
    let credential = match app.credential() {
        Ok(c) => c,
        Err(e) if matches!(e.downcast_ref(), Some(CliError::SessionExpired { .. })) => None,
        Err(e) => return Err(e),
    };
    let from_store = credential.as_ref().is_some_and(|c| c.source == Source::Store);
    let stored = session::listed(&opened.store, &app.slot())?
        .into_iter()
        .map(|listed| StoredToken { in_use: from_store && listed.server == app.server, listed })
        .collect::<Vec<_>>();
    let mut status = Status {
        profile: app.config.profile_name.clone(),
        server: app.server.clone(),
        source: credential.as_ref().map(|c| c.source.describe()),
        backend,
        valid: false,
        problem: None,
        me: None,
        warnings: Vec::new(),
        stored,
    };
    if let Some(c) = credential.as_ref().filter(|c| c.source != Source::Store)
        && status.stored.iter().any(|s| s.listed.server == app.server)
    {
        status.warnings.push(format!(
            "{} overrides the token stored for profile `{}`; unset it to use the stored one",
            c.source.describe(),
            app.config.profile_name
        ));
    }
    match &credential {
        None => status.problem = Some("no token: run `ward login` or `ward auth set-token`".into()),
        Some(c) => match app.client_for(c)?.whoami().await {
            Ok(me) => {
                status.valid = true;
                status.me = Some(me);
            }
            Err(e) if e.is_unauthenticated() => {
                status.problem = Some(format!("the server refused the token: {e}"))
            }
            Err(e) => return Err(e.into()),
        },
    }
    for warning in &status.warnings {
        writeln!(std::io::stderr(), "warning: {warning}")?;
    }
    output::emit(app.output, &status, || render(&status))?;
    Ok(if status.valid { Exit::Ok } else { Exit::Unauthenticated }.into())
}

fn render(status: &Status) -> String {
    let mut rows = vec![
        ("Profile", status.profile.clone()),
        ("Server", status.server.clone()),
        ("Token from", status.source.unwrap_or("none").to_owned()),
        ("Backend", status.backend.clone()),
        ("Valid", if status.valid { "yes".into() } else { "no".into() }),
    ];
    if let Some(me) = &status.me {
        rows.extend([
            ("User", format!("{} ({})", me.username, me.user_id)),
            ("Token ID", me.token_id.clone()),
            ("Token type", me.token_type.to_string()),
            ("Scopes", output::scopes(&me.scopes)),
            ("Expires", output::time_or_never(me.expires_at.as_ref())),
        ]);
    }
    if let Some(problem) = &status.problem {
        rows.push(("Problem", problem.clone()));
    }
    rows.extend(status.stored.iter().map(|stored| ("Stored", describe(stored))));
    if status.stored.is_empty() {
        rows.push(("Stored", "nothing for this profile".into()));
    }
    key_values(&rows)
}

/// One stored token in a line: `URL  login as admin, expires …  (in use)`.
fn describe(stored: &StoredToken) -> String {
    let l = &stored.listed;
    let mut line = format!("{}  {}", l.server, l.source.as_deref().unwrap_or("token"));
    if let Some(user) = &l.username {
        line.push_str(&format!(" as {user}"));
    }
    line.push_str(&format!(", expires {}", output::time_or_never(l.expires_at.as_ref())));
    if stored.in_use {
        line.push_str("  (in use)");
    }
    line
}
