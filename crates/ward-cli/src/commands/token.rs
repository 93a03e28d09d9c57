//! `ward token create | list | show | revoke | delete | rotate | idle`
//! (`verify` lives in `verify.rs`).

use crate::app::App;
use crate::cli::clean_scopes;
use crate::cli::token::{
    CreateTokenArgs, DestructiveIdArgs, IdentifyArgs, IdleArgs, ListTokensArgs, RotateArgs,
};
use crate::confirm;
use crate::exit::CliError;
use crate::input;
use crate::output;
use crate::output::shown_once::{self, ShownOnce};
use crate::output::table::{Table, key_values};
use crate::output::tokens::{print_idle, print_rotated, print_tokens};
use anyhow::Context;
use serde::Serialize;
use std::process::ExitCode;
use ward_api::{
    ClientInfo, CreateTokenRequest, IdentifyRequest, IdleRequest, RotateRequest, TokenInfo, TokenQuery,
};
use ward_core::TokenName;

pub async fn create(app: &App, args: CreateTokenArgs) -> anyhow::Result<ExitCode> {
    let name = TokenName::parse(&args.name).map_err(|e| CliError::usage(e.to_string(), None))?;
    let scopes = clean_scopes(&args.scopes);
    let request = CreateTokenRequest {
        name: name.as_str().to_owned(),
        token_type: args.token_type,
        scopes: (!scopes.is_empty()).then_some(scopes),
        expires_in_days: None,
        ttl: args.expires_in.map(|ttl| ttl.to_string()),
        user_id: args.user,
        max_uses: args.max_uses,
        rate: args.rate.map(|r| r.to_string()),
    };
    let created = app.client()?.create_token(&request).await?;
    let shown = ShownOnce::from(&created);
    shown_once::print(app.output, &shown, &created, "Token created successfully", &[])?;
    Ok(ExitCode::SUCCESS)
}

pub async fn list(app: &App, args: ListTokensArgs) -> anyhow::Result<ExitCode> {
    let query = TokenQuery {
        token_type: args.token_type,
        status: args.status,
        user_id: args.user,
        limit: None,
        cursor: None,
        expiring: args.expiring.map(|t| t.to_string()),
        unused_for: args.unused_for.map(|t| t.to_string()),
    };
    let tokens = app.client()?.list_all_tokens(&query).await?;
    print_tokens(app.output, &tokens)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn show(app: &App, id: &str) -> anyhow::Result<ExitCode> {
    let token = app.client()?.get_token(id).await?;
    output::emit(app.output, &token, || token_details(&token))?;
    Ok(ExitCode::SUCCESS)
}

fn token_details(t: &TokenInfo) -> String {
    let mut pairs = vec![
        ("ID", t.id.clone()),
        ("Name", t.name.clone()),
        ("Type", t.token_type.to_string()),
        ("Prefix", format!("{}…", t.prefix)),
        ("Owner", format!("{} ({})", t.username, t.user_id)),
        ("Scopes", output::scopes(&t.scopes)),
        ("Status", t.status.to_string()),
        ("Created", output::time(&t.created_at)),
        ("Last Used", output::time_or_never(t.last_used_at.as_ref())),
        ("Expires", output::time_or_never(t.expires_at.as_ref())),
        ("Time Left", output::tokens::time_left(t)),
    ];
    if let Some(at) = &t.revoked_at {
        pairs.push(("Revoked", output::time(at)));
    }
    if let Some(from) = &t.rotated_from {
        pairs.push(("Rotated from", from.clone()));
    }
    if let (Some(max), Some(left)) = (t.max_uses, t.uses_left) {
        pairs.push(("Uses left", format!("{left} of {max}")));
    }
    if let Some(rate) = &t.rate {
        pairs.push(("Rate limit", rate.clone()));
    }
    let mut text = key_values(&pairs);
    if let Some(clients) = &t.recent_clients {
        text.push_str(&recent_clients(clients));
    }
    text
}

/// The newest clients a token was used from, as a table under its details.
fn recent_clients(clients: &[ClientInfo]) -> String {
    if clients.is_empty() {
        return "\nRecent clients: none yet\n".to_owned();
    }
    let mut table = Table::new(["Last Seen", "Address", "User Agent"]);
    for c in clients {
        let agent = if c.user_agent.is_empty() { "-".to_owned() } else { c.user_agent.clone() };
        table.row(vec![output::time(&c.last_seen), c.address.clone(), agent]);
    }
    format!("\nRecent clients (newest first):\n{}", table.render())
}

/// `ward token identify -`: the token is read from stdin, checked for
/// shape and checksum here, and told about by the server without a use.
pub async fn identify(app: &App, _args: IdentifyArgs) -> anyhow::Result<ExitCode> {
    let token = input::raw_token()?;
    let request = IdentifyRequest { token: token.to_string() };
    let info = app.client()?.identify_token(&request).await?;
    output::emit(app.output, &info, || token_details(&info))?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses before any network call when it cannot ask; on a terminal, fetches
/// the token so the question can name it.
pub async fn revoke(app: &App, args: DestructiveIdArgs) -> anyhow::Result<ExitCode> {
    confirm::ensure_askable(args.confirm, &format!("revoke token {}", args.id))?;
    let client = app.client()?;
    if !args.confirm {
        let token = client.get_token(&args.id).await?;
        let question = format!("Are you sure you want to revoke token '{}' ({})?", token.name, token.id);
        if !confirm::ask(&question)? {
            return confirm::cancelled();
        }
    }
    let token = client.revoke_token(&args.id).await?;
    output::emit(app.output, &token, || {
        format!("✓ Token '{}' ({}) revoked. It no longer works.", token.name, token.id)
    })?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
struct Deleted<'a> {
    id: &'a str,
    deleted: bool,
}

/// Same confirmation rule as [`revoke`].
pub async fn delete(app: &App, args: DestructiveIdArgs) -> anyhow::Result<ExitCode> {
    confirm::ensure_askable(args.confirm, &format!("delete token {}", args.id))?;
    let client = app.client()?;
    let mut label = args.id.clone();
    if !args.confirm {
        let token = client.get_token(&args.id).await?;
        label = format!("'{}' ({})", token.name, token.id);
        if !confirm::ask(&format!("Are you sure you want to delete token {label}?"))? {
            return confirm::cancelled();
        }
    }
    client.delete_token(&args.id).await.with_context(|| format!("deleting token {}", args.id))?;
    let deleted = Deleted { id: &args.id, deleted: true };
    output::emit(app.output, &deleted, || format!("✓ Token {label} deleted."))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn rotate(app: &App, args: RotateArgs) -> anyhow::Result<ExitCode> {
    let request = RotateRequest { grace: args.grace.map(|g| g.to_string()) };
    let rotated = app.client()?.rotate_token(&args.id, &request).await?;
    print_rotated(app.output, &rotated, "Token rotated successfully")?;
    Ok(ExitCode::SUCCESS)
}

/// `ward token idle`: the dry run, or with `--apply` (after a `[y/N]` on a
/// terminal that names how many) the revocation of exactly the idle tokens.
pub async fn idle(app: &App, args: IdleArgs) -> anyhow::Result<ExitCode> {
    let request = IdleRequest { unused_for: args.unused_for.map(|t| t.to_string()) };
    let client = app.client()?;
    if !args.apply {
        let found = client.idle_tokens(&request).await?;
        print_idle(app.output, &found)?;
        return Ok(ExitCode::SUCCESS);
    }
    confirm::ensure_askable(args.confirm, "revoke idle tokens")?;
    if !args.confirm {
        let found = client.idle_tokens(&request).await?;
        if found.tokens.is_empty() {
            print_idle(app.output, &found)?;
            return Ok(ExitCode::SUCCESS);
        }
        let question = format!(
            "Revoke {} unused for {}?",
            output::tokens::tokens_word(found.tokens.len() as u64),
            found.unused_for
        );
        if !confirm::ask(&question)? {
            return confirm::cancelled();
        }
    }
    let revoked = client.revoke_idle_tokens(&request).await?;
    print_idle(app.output, &revoked)?;
    Ok(ExitCode::SUCCESS)
}
