//! `ward token verify [TOKEN|-]`: exit 0 when the token is valid, 3 otherwise.
//!
//! The token comes from the argument, or from stdin (`-` or no argument), or
//! from a hidden prompt when stdin is a terminal. A string that fails the
//! shape/checksum check answers `MALFORMED` here, with the same check the
//! server runs, so a mistyped or foreign secret is never sent anywhere.

use crate::app::App;
use crate::cli::token::VerifyArgs;
use crate::exit::Exit;
use crate::input;
use crate::output;
use crate::output::table::key_values;
use std::io::Write;
use std::process::ExitCode;
use ward_api::{VerifyRequest, VerifyResponse};
use zeroize::Zeroizing;

pub async fn verify(app: &App, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let token = match args.token.as_deref() {
        None | Some("-") if input::stdin_is_terminal() => input::prompt_hidden("Token: ")?,
        None | Some("-") => input::first_stdin_line("the token")?,
        Some(token) => {
            if input::stdin_is_terminal() {
                writeln!(
                    std::io::stderr(),
                    "note: a token on the command line lands in your shell history; pipe it in with `ward token verify -` instead"
                )?;
            }
            Zeroizing::new(token.to_owned())
        }
    };
    let token = token.trim();
    // Signed agent tokens (JWTs) have no local checksum: the server checks them.
    let local = if ward_core::signed::looks_like_jwt(token) {
        Ok(())
    } else {
        ward_core::token::inspect(token).map(drop)
    };
    let (answer, reason) = match local {
        Err(malformed) => (malformed_answer(), Some(malformed.to_string())),
        Ok(()) => {
            let request = VerifyRequest { token: token.to_owned() };
            (app.client_with_optional_token()?.verify(&request).await?, None)
        }
    };
    output::emit(app.output, &answer, || table(&answer, reason.as_deref()))?;
    Ok(if answer.valid { Exit::Ok } else { Exit::Unauthenticated }.into())
}

fn malformed_answer() -> VerifyResponse {
    VerifyResponse {
        valid: false,
        code: "MALFORMED".to_owned(),
        token_id: None,
        token_type: None,
        user: None,
        scopes: Vec::new(),
        expires_at: None,
    }
}

fn table(answer: &VerifyResponse, reason: Option<&str>) -> String {
    let headline = match (answer.valid, reason) {
        (true, _) => "✓ Token is valid".to_owned(),
        (false, Some(reason)) => format!("✗ Token is not valid: {} ({reason})", answer.code),
        (false, None) => format!("✗ Token is not valid: {}", answer.code),
    };
    let mut pairs = Vec::new();
    if let Some(id) = &answer.token_id {
        pairs.push(("Token ID", id.clone()));
    }
    if let Some(kind) = &answer.token_type {
        pairs.push(("Type", kind.to_string()));
    }
    if let Some(user) = &answer.user {
        pairs.push(("User", user.clone()));
    }
    if answer.valid {
        pairs.push(("Scopes", output::scopes(&answer.scopes)));
        pairs.push(("Expires", output::time_or_never(answer.expires_at.as_ref())));
    }
    if pairs.is_empty() { headline } else { format!("{headline}\n{}", key_values(&pairs)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_answer_says_why() {
        let text = table(&malformed_answer(), Some("the checksum does not match"));
        assert_eq!(text, "✗ Token is not valid: MALFORMED (the checksum does not match)");
    }

    #[test]
    fn a_valid_answer_lists_the_token() {
        let answer = VerifyResponse {
            valid: true,
            code: "VALID".into(),
            token_id: Some("tok_1".into()),
            token_type: Some(ward_api::TokenKind::Pipeline),
            user: Some("admin".into()),
            scopes: vec!["read:stacks".into()],
            expires_at: None,
        };
        let text = table(&answer, None);
        assert!(text.starts_with("✓ Token is valid\nToken ID: tok_1\n"), "{text}");
        assert!(text.contains("Expires:  Never"), "{text}");
    }
}
