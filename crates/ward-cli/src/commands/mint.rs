//! `ward mint` (a signed agent token, shown once) and `ward mint verify |
//! list | revoke`.
//!
//! `mint` prints `Token:`, `Expires:` and the expanded `Scopes:` one per
//! line, like `token create`; `--output json` gives the server's fields
//! (`token`, `jti`, `agent`, `kid`, `scopes`, `issued_at`, `expires_at`) so
//! `jq -r .token` works. `verify` exits 0 for a valid token and 3 otherwise.

use crate::app::App;
use crate::cli::clean_scopes;
use crate::cli::mint::{MintArgs, MintListArgs, MintRevokeArgs, MintVerifyArgs};
use crate::confirm;
use crate::exit::{CliError, Exit};
use crate::input;
use crate::output::table::{Table, key_values};
use crate::output::{self, Format};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use ward_api::{MintRequest, MintRevokeRequest, Minted, MintedInfo, MintedQuery, VerifyRequest};
use ward_core::signed;
use zeroize::Zeroizing;

/// `ward mint --agent A --scopes S --ttl T`.
pub async fn mint(app: &App, args: MintArgs) -> anyhow::Result<ExitCode> {
    let (Some(agent), Some(ttl)) = (args.agent, args.ttl) else {
        return Err(CliError::usage(
            "ward mint needs --agent, --scopes and --expires-in",
            Some("e.g. ward mint --agent grafana --scopes readonly --expires-in 1d"),
        )
        .into());
    };
    let scopes = clean_scopes(&args.scopes);
    if scopes.is_empty() {
        return Err(
            CliError::usage("--scopes is empty", Some("name scopes or meta-scopes, e.g. readonly")).into()
        );
    }
    let request = MintRequest { agent, scopes, ttl: ttl.to_string(), audience: args.audience };
    let minted = app.client()?.mint(&request).await?;
    output::emit(app.output, &minted, || minted_table(&minted))?;
    Ok(ExitCode::SUCCESS)
}

fn minted_table(m: &Minted) -> String {
    [
        "✓ Agent token minted".to_owned(),
        String::new(),
        format!("JTI: {}", m.jti),
        format!("Agent: {}", m.agent),
        format!("Key: {}", m.kid),
        format!("Scopes: {}", output::scopes(&m.scopes)),
        format!("Expires: {}", output::time(&m.expires_at)),
        format!("Token: {}", m.token),
        String::new(),
        "⚠ Copy this token now: it is shown only once and cannot be retrieved later.".to_owned(),
        format!("Revoke it with `ward mint revoke --jti {}`.", m.jti),
    ]
    .join("\n")
}

/// The JSON/YAML answer of `ward mint verify`.
#[derive(Debug, Serialize)]
struct Verdict {
    valid: bool,
    /// `VALID`, `MALFORMED`, `NOT_FOUND`, `EXPIRED` or `REVOKED`.
    code: String,
    /// Why not, in words (absent when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    jti: Option<String>,
    agent: Option<String>,
    scopes: Vec<String>,
    expires_at: Option<DateTime<Utc>>,
}

/// `ward mint verify TOKEN|-`: the shape is checked here first, so a string
/// that is not a JWT is never sent anywhere.
pub async fn verify(app: &App, args: MintVerifyArgs) -> anyhow::Result<ExitCode> {
    let token = read_token(args.token.as_deref())?;
    let token = token.trim();
    let verdict = match signed::decode(token) {
        Err(e) => Verdict {
            valid: false,
            code: "MALFORMED".into(),
            reason: Some(if signed::looks_like_jwt(token) {
                e.to_string()
            } else {
                "not a signed agent token (a JWT); check opaque tokens with `ward token verify`".into()
            }),
            jti: None,
            agent: None,
            scopes: Vec::new(),
            expires_at: None,
        },
        Ok(_) => {
            let answer = app.client()?.verify(&VerifyRequest { token: token.to_owned() }).await?;
            Verdict {
                reason: why_not(&answer.code),
                valid: answer.valid,
                code: answer.code,
                jti: answer.token_id,
                agent: answer.user,
                scopes: answer.scopes,
                expires_at: answer.expires_at,
            }
        }
    };
    output::emit(app.output, &verdict, || verdict_table(&verdict))?;
    Ok(if verdict.valid { Exit::Ok } else { Exit::Unauthenticated }.into())
}

fn read_token(arg: Option<&str>) -> anyhow::Result<Zeroizing<String>> {
    Ok(match arg {
        None | Some("-") if input::stdin_is_terminal() => input::prompt_hidden("Token: ")?,
        None | Some("-") => input::first_stdin_line("the token")?,
        Some(token) => {
            if input::stdin_is_terminal() {
                writeln!(
                    std::io::stderr(),
                    "note: a token on the command line lands in your shell history; pipe it in with `ward mint verify -` instead"
                )?;
            }
            Zeroizing::new(token.to_owned())
        }
    })
}

fn why_not(code: &str) -> Option<String> {
    let why = match code {
        "VALID" => return None,
        "MALFORMED" => "its signature does not match any signing key of this server",
        "NOT_FOUND" => "this server did not issue it",
        "EXPIRED" => "it has expired",
        "REVOKED" => "revoked by jti or by agent, or its signing key was retired",
        _ => "the server refused it",
    };
    Some(why.to_owned())
}

fn verdict_table(v: &Verdict) -> String {
    let headline = match (v.valid, &v.reason) {
        (true, _) => "✓ Agent token is valid".to_owned(),
        (false, Some(reason)) => format!("✗ Agent token is not valid: {} ({reason})", v.code),
        (false, None) => format!("✗ Agent token is not valid: {}", v.code),
    };
    let mut pairs = Vec::new();
    if let Some(jti) = &v.jti {
        pairs.push(("JTI", jti.clone()));
    }
    if let Some(agent) = &v.agent {
        pairs.push(("Agent", agent.clone()));
    }
    if v.valid {
        pairs.push(("Scopes", output::scopes(&v.scopes)));
    }
    if let Some(at) = &v.expires_at {
        pairs.push(("Expires", output::time(at)));
    }
    if pairs.is_empty() { headline } else { format!("{headline}\n{}", key_values(&pairs)) }
}

/// `{"tokens":[…]}`, as the server sends it.
#[derive(Debug, Serialize)]
struct Listing<'a> {
    tokens: &'a [MintedInfo],
}

/// `ward mint list [--agent A]`.
pub async fn list(app: &App, args: MintListArgs) -> anyhow::Result<ExitCode> {
    let query = MintedQuery { agent: args.agent, limit: args.limit };
    let list = app.client()?.list_minted(&query).await?;
    print_list(app.output, &list.tokens)?;
    Ok(ExitCode::SUCCESS)
}

fn print_list(format: Format, tokens: &[MintedInfo]) -> anyhow::Result<()> {
    output::emit(format, &Listing { tokens }, || minted_list_table(tokens))
}

fn minted_list_table(tokens: &[MintedInfo]) -> String {
    if tokens.is_empty() {
        return "No minted tokens found.".to_owned();
    }
    let mut table = Table::new(["JTI", "Agent", "Scopes", "Issued", "Expires", "Status"]);
    for t in tokens {
        table.row(vec![
            t.jti.clone(),
            t.agent.clone(),
            t.scopes.join(","),
            output::time(&t.issued_at),
            output::time(&t.expires_at),
            t.status.to_string(),
        ]);
    }
    table.render()
}

/// `ward mint revoke --jti ID | --agent A [--confirm]`: refuses before any
/// network call when it cannot ask.
pub async fn revoke(app: &App, args: MintRevokeArgs) -> anyhow::Result<ExitCode> {
    let (action, question) = match (&args.jti, &args.agent) {
        (Some(jti), _) => (
            format!("revoke minted token {jti}"),
            format!("Are you sure you want to revoke minted token {jti}?"),
        ),
        (None, Some(agent)) => (
            format!("revoke every token of agent '{agent}'"),
            format!("Are you sure you want to revoke every token of agent '{agent}' issued so far?"),
        ),
        (None, None) => {
            return Err(CliError::usage("give --jti ID or --agent NAME", None).into());
        }
    };
    confirm::ensure_askable(args.confirm, &action)?;
    if !args.confirm && !confirm::ask(&question)? {
        return confirm::cancelled();
    }
    let request =
        MintRevokeRequest { jti: args.jti.clone(), agent: args.agent.clone().filter(|_| args.jti.is_none()) };
    let revoked = app.client()?.revoke_minted(&request).await?;
    output::emit(app.output, &revoked, || match (&args.jti, &args.agent) {
        (Some(jti), _) => format!("✓ Minted token {jti} revoked. It no longer works."),
        (None, agent) => format!(
            "✓ Revoked {} token(s) of agent '{}'. Tokens minted from now on are not affected.",
            revoked.revoked,
            agent.as_deref().unwrap_or_default()
        ),
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).single().expect("valid time")
    }

    fn minted() -> Minted {
        Minted {
            token: "eyJhbGciOiJFZERTQSJ9.e30.sig".into(),
            jti: "tok_1".into(),
            agent: "grafana".into(),
            kid: "key_1".into(),
            scopes: vec!["container:read".into(), "system:read".into()],
            issued_at: at(),
            expires_at: at(),
        }
    }

    #[test]
    fn the_minted_table_has_token_expires_scopes_and_the_warning() {
        let text = minted_table(&minted());
        assert!(text.starts_with("✓ Agent token minted\n"), "{text}");
        assert!(text.contains("\nToken: eyJhbGciOiJFZERTQSJ9.e30.sig\n"), "{text}");
        assert!(text.contains("\nExpires: 2026-11-22 18:30 UTC\n"), "{text}");
        assert!(text.contains("\nScopes: container:read, system:read\n"), "{text}");
        assert!(text.contains("shown only once"), "{text}");
    }

    #[test]
    fn minted_json_has_the_server_fields() {
        let text = output::render(Format::Json, &minted(), String::new).expect("renders");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for field in ["token", "jti", "agent", "kid", "scopes", "issued_at", "expires_at"] {
            assert!(value.get(field).is_some(), "missing {field}");
        }
    }

    #[test]
    fn the_list_has_the_documented_columns() {
        let info = MintedInfo {
            jti: "tok_1".into(),
            agent: "ci".into(),
            kid: "key_1".into(),
            scopes: vec!["a:read".into(), "b:write".into()],
            minted_by: "usr_1".into(),
            issued_at: at(),
            expires_at: at(),
            revoked_at: None,
            status: ward_api::TokenStatus::Active,
        };
        let text = minted_list_table(&[info]);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("JTI    Agent  Scopes          Issued                Expires               Status")
        );
        assert_eq!(
            lines.next(),
            Some("tok_1  ci     a:read,b:write  2026-11-22 18:30 UTC  2026-11-22 18:30 UTC  active")
        );
        assert_eq!(minted_list_table(&[]), "No minted tokens found.");
    }

    #[test]
    fn an_invalid_verdict_says_why() {
        let v = Verdict {
            valid: false,
            code: "REVOKED".into(),
            reason: why_not("REVOKED"),
            jti: Some("tok_1".into()),
            agent: Some("ci".into()),
            scopes: vec![],
            expires_at: None,
        };
        let text = verdict_table(&v);
        assert!(text.starts_with("✗ Agent token is not valid: REVOKED (revoked by jti"), "{text}");
        assert!(text.contains("Agent: ci"), "{text}");
    }
}
