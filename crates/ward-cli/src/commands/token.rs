//! `ward token create | list | show | revoke | delete | rotate`
//! (`verify` lives in `verify.rs`).

use super::shown_once::{self, ShownOnce, ShownOnceWith};
use crate::app::App;
use crate::cli::{CreateTokenArgs, DestructiveIdArgs, ListTokensArgs, RotateArgs, clean_scopes};
use crate::confirm;
use crate::exit::CliError;
use crate::output::{self, Format};
use crate::table::{Table, key_values};
use anyhow::Context;
use serde::Serialize;
use std::process::ExitCode;
use ward_api::{CreateTokenRequest, RotateRequest, Rotated, TokenInfo, TokenQuery};
use ward_core::TokenName;

/// `{"tokens":[…]}`, the JSON/YAML form of every token listing.
#[derive(Debug, Serialize)]
pub struct TokenListing<'a> {
    pub tokens: &'a [TokenInfo],
}

pub async fn create(app: &App, args: CreateTokenArgs) -> anyhow::Result<ExitCode> {
    let name = TokenName::parse(&args.name).map_err(|e| CliError::usage(e.to_string(), None))?;
    let scopes = clean_scopes(&args.scopes);
    let request = CreateTokenRequest {
        name: name.as_str().to_owned(),
        token_type: args.token_type.as_str().to_owned(),
        scopes: (!scopes.is_empty()).then_some(scopes),
        expires_in_days: args.expires_in,
        ttl: args.ttl.map(|ttl| ttl.to_string()),
        user_id: args.user,
    };
    let created = app.client()?.create_token(&request).await?;
    let shown = ShownOnce::from(&created);
    shown_once::print(app.output, &shown, &created, "Token created successfully", &[])?;
    Ok(ExitCode::SUCCESS)
}

pub async fn list(app: &App, args: ListTokensArgs) -> anyhow::Result<ExitCode> {
    let query = TokenQuery {
        token_type: args.token_type.map(|t| t.as_str().to_owned()),
        status: args.status.map(|s| s.as_str().to_owned()),
        user_id: args.user,
        limit: None,
        cursor: None,
    };
    let tokens = app.client()?.list_all_tokens(&query).await?;
    print_tokens(app.output, &tokens)?;
    Ok(ExitCode::SUCCESS)
}

/// A token listing: `{"tokens":[…]}` or the table.
pub fn print_tokens(format: Format, tokens: &[TokenInfo]) -> anyhow::Result<()> {
    output::emit(format, &TokenListing { tokens }, || token_table(tokens))
}

fn token_table(tokens: &[TokenInfo]) -> String {
    if tokens.is_empty() {
        return "No tokens found.".to_owned();
    }
    let mut table = Table::new(["ID", "Name", "Type", "Created", "Last Used", "Expires", "Status"]);
    for t in tokens {
        table.row(vec![
            t.id.clone(),
            t.name.clone(),
            t.token_type.clone(),
            output::time(&t.created_at),
            output::time_or_never(t.last_used_at.as_ref()),
            output::time_or_never(t.expires_at.as_ref()),
            t.status.clone(),
        ]);
    }
    table.render()
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
        ("Type", t.token_type.clone()),
        ("Prefix", format!("{}…", t.prefix)),
        ("Owner", format!("{} ({})", t.username, t.user_id)),
        ("Scopes", output::scopes(&t.scopes)),
        ("Status", t.status.clone()),
        ("Created", output::time(&t.created_at)),
        ("Last Used", output::time_or_never(t.last_used_at.as_ref())),
        ("Expires", output::time_or_never(t.expires_at.as_ref())),
    ];
    if let Some(at) = &t.revoked_at {
        pairs.push(("Revoked", output::time(at)));
    }
    if let Some(from) = &t.rotated_from {
        pairs.push(("Rotated from", from.clone()));
    }
    key_values(&pairs)
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

#[derive(Debug, Serialize)]
struct Previous<'a> {
    previous: &'a TokenInfo,
}

/// The new token of a rotation, shown once, and what became of the old one.
pub fn print_rotated(format: Format, rotated: &Rotated, headline: &str) -> anyhow::Result<()> {
    let value = ShownOnceWith {
        token: ShownOnce::from(&rotated.token),
        extra: Previous { previous: &rotated.previous },
    };
    let old = &rotated.previous;
    let note = match (old.status.as_str(), &old.expires_at) {
        ("active", Some(until)) => {
            format!("The previous token {} keeps working until {}.", old.id, output::time(until))
        }
        _ => format!("The previous token {} no longer works.", old.id),
    };
    shown_once::print(format, &value, &rotated.token, headline, &[note])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn info(id: &str, name: &str, last_used: bool) -> TokenInfo {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).single().expect("valid time");
        TokenInfo {
            id: id.into(),
            name: name.into(),
            token_type: "pipeline".into(),
            prefix: "ward_p_Ab3x".into(),
            scopes: vec![],
            user_id: "usr_1".into(),
            username: "admin".into(),
            created_at: at,
            last_used_at: last_used.then_some(at),
            status: "active".into(),
            expires_at: None,
            revoked_at: None,
            rotated_from: None,
        }
    }

    #[test]
    fn the_token_table_has_the_documented_columns_and_never_for_unused() {
        let text = token_table(&[info("tok_1", "✓ deploy…", false), info("tok_22", "ci", true)]);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("ID      Name       Type      Created               Last Used             Expires  Status")
        );
        assert_eq!(
            lines.next(),
            Some("tok_1   ✓ deploy…  pipeline  2026-11-22 18:30 UTC  Never                 Never    active")
        );
        assert_eq!(
            lines.next(),
            Some("tok_22  ci         pipeline  2026-11-22 18:30 UTC  2026-11-22 18:30 UTC  Never    active")
        );
    }

    #[test]
    fn the_json_listing_is_an_object_with_a_tokens_array() {
        let tokens = [info("tok_1", "ci", false)];
        let text =
            output::render(Format::Json, &TokenListing { tokens: &tokens }, String::new).expect("renders");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let first = &value["tokens"][0];
        for field in ["id", "name", "type", "prefix", "created_at", "last_used_at", "status", "expires_at"] {
            assert!(first.get(field).is_some(), "missing {field}");
        }
        assert_eq!(first["last_used_at"], serde_json::Value::Null);
        assert_eq!(first["created_at"], "2026-11-22T18:30:00Z");
    }

    #[test]
    fn an_empty_listing_says_so() {
        assert_eq!(token_table(&[]), "No tokens found.");
    }
}
