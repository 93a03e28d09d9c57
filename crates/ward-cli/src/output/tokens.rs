//! How tokens are printed by every command that shows them: a listing
//! (`token list`, `user tokens`), a rotation's new and old token
//! (`token rotate`, `service-user rotate-key`), and counts of tokens.

use super::table::Table;
use super::{self as output, Format};
use crate::output::shown_once::{self, ShownOnce, ShownOnceWith};
use serde::Serialize;
use ward_api::{IdleTokens, Rotated, TokenInfo, TokenStatus};

/// `{"tokens":[…]}`, the JSON/YAML form of every token listing.
#[derive(Debug, Serialize)]
pub struct TokenListing<'a> {
    pub tokens: &'a [TokenInfo],
}

/// A token listing: `{"tokens":[…]}` or the table.
pub fn print_tokens(format: Format, tokens: &[TokenInfo]) -> anyhow::Result<()> {
    output::emit(format, &TokenListing { tokens }, || token_table(tokens))
}

fn token_table(tokens: &[TokenInfo]) -> String {
    if tokens.is_empty() {
        return "No tokens found.".to_owned();
    }
    let mut table = Table::new(["ID", "Name", "Type", "Created", "Last Used", "Expires", "Left", "Status"]);
    for t in tokens {
        table.row(vec![
            t.id.clone(),
            t.name.clone(),
            t.token_type.to_string(),
            output::time(&t.created_at),
            output::time_or_never(t.last_used_at.as_ref()),
            output::time_or_never(t.expires_at.as_ref()),
            time_left(t),
            t.status.to_string(),
        ]);
    }
    table.render()
}

/// How long an active token has left, in its two largest units (`6d 23h`,
/// `45m 10s`); `-` when it does not expire or has ended.
pub fn time_left(t: &TokenInfo) -> String {
    let Some(left) = t.expires_in_seconds else { return "-".to_owned() };
    let mut parts = Vec::new();
    let mut rest = left.max(0);
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if rest >= size || !parts.is_empty() || size == 1 {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

/// `ward token idle`: the idle tokens, and whether they were revoked.
pub fn print_idle(format: Format, idle: &IdleTokens) -> anyhow::Result<()> {
    output::emit(format, idle, || {
        let head = match (idle.applied, idle.tokens.len()) {
            (_, 0) => format!("No tokens unused for {}.", idle.unused_for),
            (false, n) => format!(
                "{} unused for {} would be revoked (dry run; --apply revokes them):",
                tokens_word(n as u64),
                idle.unused_for
            ),
            (true, n) => format!("✓ Revoked {} unused for {}:", tokens_word(n as u64), idle.unused_for),
        };
        if idle.tokens.is_empty() { head } else { format!("{head}\n{}", token_table(&idle.tokens)) }
    })
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
    let note = match (old.status, &old.expires_at) {
        (TokenStatus::Active, Some(until)) => {
            format!("The previous token {} keeps working until {}.", old.id, output::time(until))
        }
        _ => format!("The previous token {} no longer works.", old.id),
    };
    shown_once::print(format, &value, &rotated.token, headline, &[note])
}

/// `1 token`, `3 tokens`.
pub fn tokens_word(n: u64) -> String {
    if n == 1 { "1 token".to_owned() } else { format!("{n} tokens") }
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
            token_type: ward_api::TokenKind::Pipeline,
            prefix: "ward_p_Ab3x".into(),
            scopes: vec![],
            user_id: "usr_1".into(),
            username: "admin".into(),
            created_at: at,
            last_used_at: last_used.then_some(at),
            status: TokenStatus::Active,
            expires_at: None,
            revoked_at: None,
            rotated_from: None,
            expires_in_seconds: None,
            max_uses: None,
            uses_left: None,
            rate: None,
            recent_clients: None,
        }
    }

    #[test]
    fn the_token_table_has_the_documented_columns_and_never_for_unused() {
        let text = token_table(&[info("tok_1", "✓ deploy…", false), info("tok_22", "ci", true)]);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "ID      Name       Type      Created               Last Used             Expires  Left  Status"
            )
        );
        assert_eq!(
            lines.next(),
            Some(
                "tok_1   ✓ deploy…  pipeline  2026-11-22 18:30 UTC  Never                 Never    -     active"
            )
        );
        assert_eq!(
            lines.next(),
            Some(
                "tok_22  ci         pipeline  2026-11-22 18:30 UTC  2026-11-22 18:30 UTC  Never    -     active"
            )
        );
    }

    #[test]
    fn time_left_shows_the_two_largest_units_and_a_dash_without_an_end() {
        let left =
            |s: Option<i64>| time_left(&TokenInfo { expires_in_seconds: s, ..info("tok_1", "ci", false) });
        assert_eq!(left(None), "-");
        assert_eq!(left(Some(6 * 86_400 + 23 * 3600 + 59)), "6d 23h");
        assert_eq!(left(Some(2 * 86_400 + 30)), "2d 0h");
        assert_eq!(left(Some(45 * 60 + 10)), "45m 10s");
        assert_eq!(left(Some(0)), "0s");
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
