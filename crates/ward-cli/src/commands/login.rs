//! `ward login`, `ward logout`, `ward whoami`.
//!
//! `ward logout` ends a login session on the server and forgets it. A
//! long-lived token someone pasted (`ward auth set-token`, `WARD_TOKEN`,
//! `--token`) is only revoked with `--revoke`; without it a stored one is
//! forgotten and one from the environment or a flag is left alone.

use crate::app::{App, Credential, Source};
use crate::cli::session::{LoginArgs, LogoutArgs};
use crate::exit::{CliError, Exit};
use crate::input;
use crate::output;
use crate::output::table::key_values;
use crate::session::Session;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use ward_api::LoginRequest;

pub const LOGGED_OUT: &str = "Token revoked successfully! You have been logged out.";

/// What `ward login --output json` prints. Not the token: it is saved in the
/// secret store, and `ward token create` makes tokens meant for scripts.
#[derive(Debug, Serialize)]
struct LoggedIn<'a> {
    server: &'a str,
    user_id: &'a str,
    username: &'a str,
    token_id: &'a str,
    expires_at: &'a chrono::DateTime<chrono::Utc>,
}

pub async fn login(app: &App, args: LoginArgs) -> anyhow::Result<ExitCode> {
    // A server URL the client refuses fails before a password is asked for.
    let client = app.anonymous_client()?;
    let username = match args.username {
        Some(name) => name,
        None if input::stdin_is_terminal() => input::prompt_line("Username: ")?,
        None => {
            return Err(CliError::usage(
                "no terminal to ask for the user name on",
                Some("pass --username NAME"),
            )
            .into());
        }
    };
    if username.trim().is_empty() {
        return Err(CliError::usage("the user name is empty", Some("pass --username NAME")).into());
    }
    let password = input::password(args.password_stdin, false)?;
    let request = LoginRequest { username: username.trim().to_owned(), password: password.to_string() };
    let response = client.login(&request).await.map_err(|err| match err {
        ward_client::Error::Api { status: 401, message, .. } => CliError::LoginRefused { message }.into(),
        other => anyhow::Error::new(other),
    })?;
    let session = Session {
        token: response.token.clone(),
        token_id: response.token_id.clone(),
        user_id: response.user_id.clone(),
        username: response.username.clone(),
        expires_at: response.expires_at,
    };
    app.create_profile_if_new()?;
    crate::session::save(app.store_for_write()?, &app.slot(), session)?;
    let shown = LoggedIn {
        server: &app.server,
        user_id: &response.user_id,
        username: &response.username,
        token_id: &response.token_id,
        expires_at: &response.expires_at,
    };
    output::emit(app.output, &shown, || {
        format!(
            "✓ Logged in to {} as {}.\nSession {} expires at {}.",
            app.server,
            response.username,
            response.token_id,
            output::time(&response.expires_at)
        )
    })?;
    if std::env::var_os("WARD_TOKEN").is_some_and(|t| !t.is_empty()) {
        writeln!(
            std::io::stderr(),
            "note: WARD_TOKEN is set and takes precedence over this session; unset it to use the session"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(app: &App, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let credential = match app.credential() {
        Err(err) if matches!(err.downcast_ref(), Some(CliError::SessionExpired { .. })) => {
            forget(app)?;
            output::write_stdout(
                "Your session had already expired; it has been removed. You have been logged out.\n",
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        other => other?.ok_or_else(|| CliError::NotLoggedIn { server: app.server.clone() })?,
    };
    if !credential.is_login_session() && !args.revoke {
        return keep_on_server(app, &credential);
    }
    let client = app.client_for(&credential)?;
    let from_session = credential.source == Source::Store;
    let response = match client.logout().await {
        Ok(response) => response,
        Err(err) if err.is_unauthenticated() && from_session => {
            forget(app)?;
            writeln!(
                std::io::stderr(),
                "The server no longer accepted this session; it has been removed. You have been logged out."
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        Err(err) => return Err(err.into()),
    };
    if from_session {
        forget(app)?;
    }
    output::emit(app.output, &response, || LOGGED_OUT.to_owned())?;
    if !from_session {
        writeln!(
            std::io::stderr(),
            "note: the token from {} is revoked now; stop passing it",
            credential.source.describe()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A long-lived token and no `--revoke`: forget a stored one, refuse to
/// touch one from the environment or a flag.
fn keep_on_server(app: &App, credential: &Credential) -> anyhow::Result<ExitCode> {
    if credential.source != Source::Store {
        return Err(CliError::usage(
            format!(
                "the token from {} is a long-lived token, not a login session; logging out would revoke it on the server",
                credential.source.describe()
            ),
            Some("pass --revoke to revoke it, or stop passing it (unset WARD_TOKEN) to stop using it"),
        )
        .into());
    }
    let id = app.stored_token()?.and_then(|s| s.meta.metadata.get("token_id").cloned());
    forget(app)?;
    let revoke = match id {
        Some(id) => format!("`ward token revoke {id}`"),
        None => "`ward token revoke ID`".to_owned(),
    };
    output::write_stdout(&format!(
        "Forgot the token stored for profile `{}` ({}). It is still valid on the server: \
         revoke it with {revoke} if it should stop working.\n",
        app.config.profile_name, app.server
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Removes the token stored for this config file, profile and server.
fn forget(app: &App) -> anyhow::Result<()> {
    crate::session::remove(app.store()?, &app.slot())?;
    Ok(())
}

pub async fn whoami(app: &App) -> anyhow::Result<ExitCode> {
    let (client, credential) = app.client_and_credential()?;
    let me = client.whoami().await?;
    let source = match &credential.source {
        Source::Store => format!("secret store ({})", app.store()?.location()),
        other => other.describe().to_owned(),
    };
    output::emit(app.output, &me, || {
        key_values(&[
            ("User", format!("{} ({})", me.username, me.user_id)),
            ("Role", me.role.to_string()),
            ("Token ID", me.token_id.clone()),
            ("Token type", me.token_type.to_string()),
            ("Scopes", output::scopes(&me.scopes)),
            ("Expires", output::time_or_never(me.expires_at.as_ref())),
            ("Server", app.server.clone()),
            ("Token from", source),
        ])
    })?;
    Ok(Exit::Ok.into())
}
