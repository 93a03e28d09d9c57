//! `ward user create | list | tokens | revoke-tokens | delete`.

use crate::app::App;
use crate::cli::user::{CreateUserArgs, DestructiveNameArgs};
use crate::confirm;
use crate::exit::CliError;
use crate::input;
use crate::output;
use crate::output::table::Table;
use crate::output::tokens::{print_tokens, tokens_word};
use serde::Serialize;
use std::process::ExitCode;
use ward_api::{CreateUserRequest, User};
use ward_core::{Password, Username};

pub async fn create(app: &App, args: CreateUserArgs) -> anyhow::Result<ExitCode> {
    let name = Username::parse(&args.name).map_err(|e| CliError::usage(e.to_string(), None))?;
    // Checked before the password is asked for, so a typo costs no prompt.
    let client = app.client()?;
    let password = input::password(args.password_stdin, true)?;
    let password =
        Password::new_checked(password.to_string()).map_err(|e| CliError::usage(e.to_string(), None))?;
    let request = CreateUserRequest {
        name: name.as_str().to_owned(),
        role: Some(args.role),
        password: password.expose().to_owned(),
    };
    let user = client.create_user(&request).await?;
    output::emit(app.output, &user, || {
        format!("✓ User '{}' ({}) created with role {}.", user.name, user.id, user.role)
    })?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
struct Users<'a> {
    users: &'a [User],
}

pub async fn list(app: &App) -> anyhow::Result<ExitCode> {
    let list = app.client()?.list_users().await?;
    output::emit(app.output, &Users { users: &list.users }, || user_table(&list.users))?;
    Ok(ExitCode::SUCCESS)
}

fn user_table(users: &[User]) -> String {
    if users.is_empty() {
        return "No users found.".to_owned();
    }
    let mut table = Table::new(["ID", "Name", "Role", "Scopes", "Created"]);
    for u in users {
        table.row(vec![
            u.id.clone(),
            u.name.clone(),
            u.role.to_string(),
            output::scopes(&u.scopes),
            output::time(&u.created_at),
        ]);
    }
    table.render()
}

pub async fn tokens(app: &App, name: &str) -> anyhow::Result<ExitCode> {
    let tokens = app.client()?.all_user_tokens(name).await?;
    print_tokens(app.output, &tokens)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
struct Revoked<'a> {
    user: &'a str,
    revoked: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
}

/// Refuses before any network call when it cannot ask.
pub async fn revoke_tokens(app: &App, args: DestructiveNameArgs) -> anyhow::Result<ExitCode> {
    let action = format!("revoke every token of user '{}'", args.name);
    confirm::ensure_askable(args.confirm, &action)?;
    let client = app.client()?;
    if !args.confirm && !confirm::ask(&format!("Are you sure you want to {action}?"))? {
        return confirm::cancelled();
    }
    let count = client.revoke_user_tokens(&args.name).await?;
    let result = Revoked { user: &args.name, revoked: count.revoked, deleted: false };
    output::emit(app.output, &result, || {
        format!("✓ Revoked {} of user '{}'.", tokens_word(count.revoked), args.name)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses before any network call when it cannot ask.
pub async fn delete(app: &App, args: DestructiveNameArgs) -> anyhow::Result<ExitCode> {
    let action = format!("delete user '{}' and revoke all their tokens", args.name);
    confirm::ensure_askable(args.confirm, &action)?;
    let client = app.client()?;
    if !args.confirm && !confirm::ask(&format!("Are you sure you want to {action}?"))? {
        return confirm::cancelled();
    }
    let count = client.delete_user(&args.name).await?;
    let result = Revoked { user: &args.name, revoked: count.revoked, deleted: true };
    output::emit(app.output, &result, || {
        format!("✓ User '{}' deleted; {} revoked.", args.name, tokens_word(count.revoked))
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn counts_read_naturally() {
        assert_eq!(tokens_word(0), "0 tokens");
        assert_eq!(tokens_word(1), "1 token");
        assert_eq!(tokens_word(2), "2 tokens");
    }

    #[test]
    fn the_user_table_lines_up() {
        let user = |id: &str, name: &str| User {
            id: id.into(),
            name: name.into(),
            role: ward_api::UserRole::Human(ward_api::Role::User),
            scopes: vec![],
            created_at: Utc::now(),
        };
        let text = user_table(&[user("usr_1", "alice"), user("usr_22", "bo")]);
        let starts: Vec<_> = text.lines().map(|l| l.find("user").or_else(|| l.find("Role"))).collect();
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "{text}");
    }
}
