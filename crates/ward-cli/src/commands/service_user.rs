//! `ward service-user create | list | rotate-key | delete`.

use crate::app::App;
use crate::cli::clean_scopes;
use crate::cli::service_user::{CreateServiceUserArgs, RotateKeyArgs};
use crate::cli::user::DestructiveNameArgs;
use crate::confirm;
use crate::exit::CliError;
use crate::output;
use crate::output::shown_once::{self, ShownOnce, ShownOnceWith};
use crate::output::table::Table;
use crate::output::tokens::{print_rotated, tokens_word};
use serde::Serialize;
use std::process::ExitCode;
use ward_api::{CreateServiceUserRequest, RotateRequest, ServiceUser, TokenStatus, User};
use ward_core::Username;

#[derive(Debug, Serialize)]
struct Owner<'a> {
    service_user: &'a User,
}

pub async fn create(app: &App, args: CreateServiceUserArgs) -> anyhow::Result<ExitCode> {
    let name = Username::parse(&args.name).map_err(|e| CliError::usage(e.to_string(), None))?;
    let scopes = clean_scopes(&args.scopes);
    if scopes.is_empty() {
        return Err(CliError::usage(
            "--scopes is empty",
            Some("name at least one scope, e.g. --scopes read:stacks"),
        )
        .into());
    }
    let request = CreateServiceUserRequest {
        name: name.as_str().to_owned(),
        scopes,
        expires_in_days: None,
        ttl: args.expires_in.map(|ttl| ttl.to_string()),
    };
    let created = app.client()?.create_service_user(&request).await?;
    let value =
        ShownOnceWith { token: ShownOnce::from(&created.key), extra: Owner { service_user: &created.user } };
    let headline = format!("Service user '{}' ({}) created successfully", created.user.name, created.user.id);
    shown_once::print(app.output, &value, &created.key, &headline, &[])?;
    Ok(ExitCode::SUCCESS)
}

pub async fn list(app: &App) -> anyhow::Result<ExitCode> {
    let list = app.client()?.list_service_users().await?;
    output::emit(app.output, &list, || service_user_table(&list.service_users))?;
    Ok(ExitCode::SUCCESS)
}

fn service_user_table(users: &[ServiceUser]) -> String {
    if users.is_empty() {
        return "No service users found.".to_owned();
    }
    let mut table = Table::new(["ID", "Name", "Scopes", "Active Keys", "Last Used", "Created"]);
    for s in users {
        let active = s.keys.iter().filter(|k| k.status == TokenStatus::Active).count();
        let last_used = s.keys.iter().filter_map(|k| k.last_used_at.as_ref()).max();
        table.row(vec![
            s.user.id.clone(),
            s.user.name.clone(),
            output::scopes(&s.user.scopes),
            active.to_string(),
            output::time_or_never(last_used),
            output::time(&s.user.created_at),
        ]);
    }
    table.render()
}

pub async fn rotate_key(app: &App, args: RotateKeyArgs) -> anyhow::Result<ExitCode> {
    let request = RotateRequest { grace: args.grace.map(|g| g.to_string()) };
    let rotated = app.client()?.rotate_service_user_key(&args.name, &request).await?;
    print_rotated(app.output, &rotated, "API key rotated successfully")?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
struct Deleted<'a> {
    service_user: &'a str,
    deleted: bool,
    revoked: u64,
}

/// Refuses before any network call when it cannot ask.
pub async fn delete(app: &App, args: DestructiveNameArgs) -> anyhow::Result<ExitCode> {
    let action = format!("delete service user '{}' and revoke its keys", args.name);
    confirm::ensure_askable(args.confirm, &action)?;
    let client = app.client()?;
    if !args.confirm && !confirm::ask(&format!("Are you sure you want to {action}?"))? {
        return confirm::cancelled();
    }
    let count = client.delete_service_user(&args.name).await?;
    let result = Deleted { service_user: &args.name, deleted: true, revoked: count.revoked };
    output::emit(app.output, &result, || {
        format!("✓ Service user '{}' deleted; {} revoked.", args.name, tokens_word(count.revoked))
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn a_service_user_without_keys_was_never_used() {
        let user = ServiceUser {
            user: User {
                id: "usr_1".into(),
                name: "deployer".into(),
                role: ward_api::UserRole::Service,
                scopes: vec!["write:stacks".into()],
                created_at: Utc::now(),
            },
            keys: vec![],
        };
        let text = service_user_table(&[user]);
        let row = text.lines().nth(1).unwrap_or_default();
        assert!(row.contains("write:stacks  0            Never"), "{text}");
    }
}
