//! The one output that shows a new token: `token create`, `token rotate`,
//! `service-user create` and `service-user rotate-key`.
//!
//! JSON/YAML: `{"id","token","name","type","prefix","scopes","created_at",
//! "expires_at"}` (plus what the command adds), so `jq -r .token` works for
//! all four. Table: one `Key: value` line each, a single space after the
//! colon, so `Token: …` can be cut out of the text by scripts too.

use crate::output::{self, Format};
use chrono::{DateTime, Utc};
use serde::Serialize;
use ward_api::{CreatedToken, TokenKind};

/// The fields of a new token that are printed, in their stable order.
#[derive(Debug, Serialize)]
pub struct ShownOnce<'a> {
    pub id: &'a str,
    pub token: &'a str,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub token_type: TokenKind,
    pub prefix: &'a str,
    pub scopes: &'a [String],
    pub created_at: &'a DateTime<Utc>,
    pub expires_at: Option<&'a DateTime<Utc>>,
}

impl<'a> From<&'a CreatedToken> for ShownOnce<'a> {
    fn from(t: &'a CreatedToken) -> Self {
        Self {
            id: &t.id,
            token: &t.token,
            name: &t.name,
            token_type: t.token_type,
            prefix: &t.prefix,
            scopes: &t.scopes,
            created_at: &t.created_at,
            expires_at: t.expires_at.as_ref(),
        }
    }
}

/// `ShownOnce` with one more field, e.g. `previous` after a rotation.
#[derive(Debug, Serialize)]
pub struct ShownOnceWith<'a, T: Serialize> {
    #[serde(flatten)]
    pub token: ShownOnce<'a>,
    #[serde(flatten)]
    pub extra: T,
}

/// Prints a new token: `value` for JSON/YAML, else the table form with
/// `headline` ("Token created successfully") and `notes` after the warning.
pub fn print<T: Serialize>(
    format: Format,
    value: &T,
    created: &CreatedToken,
    headline: &str,
    notes: &[String],
) -> anyhow::Result<()> {
    output::emit(format, value, || table(created, headline, notes))
}

fn table(t: &CreatedToken, headline: &str, notes: &[String]) -> String {
    let mut lines = vec![
        format!("✓ {headline}"),
        String::new(),
        format!("Token ID: {}", t.id),
        format!("Name: {}", t.name),
        format!("Type: {}", t.token_type),
        format!("Scopes: {}", output::scopes(&t.scopes)),
        format!("Expires: {}", output::time_or_never(t.expires_at.as_ref())),
        format!("Token: {}", t.token),
        String::new(),
        "⚠ Copy this token now: it is shown only once and cannot be retrieved later.".to_owned(),
    ];
    lines.extend(notes.iter().cloned());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created() -> CreatedToken {
        CreatedToken {
            id: "tok_1".into(),
            token: "ward_p_secret".into(),
            name: "ci".into(),
            token_type: TokenKind::Pipeline,
            prefix: "ward_p_secr".into(),
            scopes: vec!["read:stacks".into()],
            user_id: "usr_1".into(),
            created_at: Utc::now(),
            expires_at: None,
        }
    }

    #[test]
    fn json_has_exactly_the_documented_fields_in_order() {
        let t = created();
        let text = output::render(Format::Json, &ShownOnce::from(&t), String::new).expect("renders");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let keys: Vec<&str> = value.as_object().expect("object").keys().map(String::as_str).collect();
        let mut expected = ["id", "token", "name", "type", "prefix", "scopes", "created_at", "expires_at"];
        expected.sort_unstable();
        assert_eq!(keys, expected, "serde_json sorts keys");
        assert_eq!(value["token"], "ward_p_secret");
        assert!(text.find("\"id\"") < text.find("\"token\""), "{text}");
    }

    #[test]
    fn yaml_has_the_same_fields_and_extras_flatten_in() {
        let t = created();
        let value =
            ShownOnceWith { token: ShownOnce::from(&t), extra: serde_json::json!({"previous": "tok_0"}) };
        let text = output::render(Format::Yaml, &value, String::new).expect("renders");
        let parsed: serde_json::Value = serde_norway::from_str(&text).expect("YAML");
        assert_eq!(parsed["token"], "ward_p_secret");
        assert_eq!(parsed["type"], "pipeline");
        assert_eq!(parsed["previous"], "tok_0");
        assert_eq!(parsed["expires_at"], serde_json::Value::Null);
    }

    #[test]
    fn the_table_has_the_success_line_the_id_the_token_and_the_warning() {
        let text = table(&created(), "Token created successfully", &[]);
        assert!(text.starts_with("✓ Token created successfully\n"), "{text}");
        assert!(text.contains("\nToken ID: tok_1\n"), "{text}");
        assert!(text.contains("\nToken: ward_p_secret\n"), "{text}");
        assert!(text.contains("shown only once"), "{text}");
        assert!(text.contains("Expires: Never"), "{text}");
    }
}
