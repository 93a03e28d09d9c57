//! `ward passwd` (your own password) and `ward user set-password NAME`
//! (admins). Passwords come from hidden prompts, or from stdin with
//! `--password-stdin` (for `passwd`: the current one on the first line, the
//! new one on the second).

use crate::app::App;
use crate::cli::session::PasswdArgs;
use crate::cli::user::SetPasswordArgs;
use crate::exit::CliError;
use crate::input;
use crate::output;
use std::process::ExitCode;
use ward_api::{ChangePasswordRequest, PasswordChanged, ResetPasswordRequest};
use ward_core::Password;
use zeroize::Zeroizing;

/// A new password, checked here so a short one costs no round trip.
fn new_password(from_stdin: bool) -> anyhow::Result<Zeroizing<String>> {
    let password = if from_stdin {
        input::first_stdin_line("the new password")?
    } else {
        input::password_prompt("New password: ", true)?
    };
    Password::new_checked(password.to_string()).map_err(|e| CliError::usage(e.to_string(), None))?;
    Ok(password)
}

pub async fn passwd(app: &App, args: PasswdArgs) -> anyhow::Result<ExitCode> {
    let client = app.client()?;
    let current = if args.password_stdin {
        input::first_stdin_line("the current password")?
    } else {
        input::password_prompt("Current password: ", false)?
    };
    let new = new_password(args.password_stdin)?;
    let request =
        ChangePasswordRequest { current_password: current.to_string(), new_password: new.to_string() };
    let changed = client.change_password(&request).await?;
    report(app, &changed, "your other sessions")
}

pub async fn set_password(app: &App, args: SetPasswordArgs) -> anyhow::Result<ExitCode> {
    let client = app.client()?;
    let new = new_password(args.password_stdin)?;
    let request = ResetPasswordRequest { new_password: new.to_string() };
    let changed = client.reset_password(&args.name, &request).await?;
    report(app, &changed, "their sessions")
}

fn report(app: &App, changed: &PasswordChanged, whose: &str) -> anyhow::Result<ExitCode> {
    output::emit(app.output, changed, || {
        format!("✓ Password of '{}' changed; {} of {whose} ended.", changed.username, changed.sessions_ended)
    })?;
    Ok(ExitCode::SUCCESS)
}
