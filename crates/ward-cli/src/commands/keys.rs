//! `ward keys list | rotate | retire KID`: the Ed25519 keys that sign agent
//! tokens. Rotating adds a key for new tokens while older ones keep
//! verifying; retiring a key invalidates every token it signed, so it asks
//! first (same rule as `token revoke`).

use crate::app::App;
use crate::cli::keys::RetireKeyArgs;
use crate::confirm;
use crate::output;
use crate::output::table::Table;
use serde::Serialize;
use std::process::ExitCode;
use ward_api::SigningKeyInfo;

/// `{"keys":[…]}`, as the server sends it.
#[derive(Debug, Serialize)]
struct Listing<'a> {
    keys: &'a [SigningKeyInfo],
}

/// `ward keys list`.
pub async fn list(app: &App) -> anyhow::Result<ExitCode> {
    let list = app.client()?.list_keys().await?;
    output::emit(app.output, &Listing { keys: &list.keys }, || keys_table(&list.keys))?;
    Ok(ExitCode::SUCCESS)
}

fn keys_table(keys: &[SigningKeyInfo]) -> String {
    if keys.is_empty() {
        return "No signing keys yet.".to_owned();
    }
    let mut table = Table::new(["KID", "Status", "Created", "Retired"]);
    for k in keys {
        table.row(vec![
            k.kid.clone(),
            k.status.to_string(),
            output::time(&k.created_at),
            k.retired_at.as_ref().map_or_else(|| "-".to_owned(), output::time),
        ]);
    }
    table.render()
}

/// `ward keys rotate`.
pub async fn rotate(app: &App) -> anyhow::Result<ExitCode> {
    let key = app.client()?.rotate_key().await?;
    output::emit(app.output, &key, || {
        format!(
            "✓ New signing key {} is active: new tokens are signed with it.\n\
             Tokens signed by older keys keep verifying until you run `ward keys retire KID`.",
            key.kid
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `ward keys retire KID [--confirm]`.
pub async fn retire(app: &App, args: RetireKeyArgs) -> anyhow::Result<ExitCode> {
    confirm::ensure_askable(args.confirm, &format!("retire signing key {}", args.kid))?;
    if !args.confirm {
        let question = format!(
            "Are you sure you want to retire key {}? Every token it signed stops working, for good.",
            args.kid
        );
        if !confirm::ask(&question)? {
            return confirm::cancelled();
        }
    }
    let key = app.client()?.retire_key(&args.kid).await?;
    output::emit(app.output, &key, || {
        format!("✓ Signing key {} retired. Every token it signed no longer verifies.", key.kid)
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_key_table_has_the_documented_columns() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).single().expect("valid time");
        let keys = [
            SigningKeyInfo {
                kid: "key_1".into(),
                created_at: at,
                retired_at: Some(at),
                status: ward_api::KeyStatus::Retired,
            },
            SigningKeyInfo {
                kid: "key_22".into(),
                created_at: at,
                retired_at: None,
                status: ward_api::KeyStatus::Active,
            },
        ];
        let text = keys_table(&keys);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "KID     Status   Created               Retired",
                "key_1   retired  2026-11-22 18:30 UTC  2026-11-22 18:30 UTC",
                "key_22  active   2026-11-22 18:30 UTC  -",
            ]
        );
    }
}
