//! `ward authorize --operation OP [--auto-approve] [--approval-id ID]`: may
//! the token ward sends run an operation now?
//!
//! The token checked is the one sent: `--token TOKEN`, or `--token -` to read
//! it from stdin (a hidden prompt on a terminal), else `WARD_TOKEN` or the
//! session. Exit codes, for scripts: 0 allow; 4 deny, approval_required or a
//! missing scope (HTTP 403); 3 a missing, malformed, unknown, expired or
//! revoked token (HTTP 401). `--output json` prints the server's answer, whose
//! `decision` tells deny from approval_required.

use crate::app::App;
use crate::cli::authorize::AuthorizeArgs;
use crate::exit::Exit;
use crate::input;
use crate::output;
use crate::output::table::key_values;
use std::process::ExitCode;
use ward_api::{AuthorizeRequest, AuthorizeResponse};
use ward_client::Client;

pub async fn authorize(app: &App, args: AuthorizeArgs) -> anyhow::Result<ExitCode> {
    let client = checked_client(app)?;
    let request = AuthorizeRequest {
        token: None,
        operation: args.operation,
        auto_approve: args.auto_approve,
        approval_id: args.approval_id,
    };
    let answer = client.authorize(&request).await?;
    output::emit(app.output, &answer, || answer_table(&answer))?;
    Ok(exit_for(&answer.decision).into())
}

/// A client that sends the token to check: the one on stdin for
/// `--token -`, else the caller's.
fn checked_client(app: &App) -> anyhow::Result<Client> {
    if !app.token_flag_is_stdin() {
        return app.client();
    }
    let token = if input::stdin_is_terminal() {
        input::prompt_hidden("Token: ")?
    } else {
        input::first_stdin_line("the token to check")?
    };
    Ok(app.anonymous_client()?.with_token(Some(token.trim().to_owned()))?)
}

fn exit_for(decision: &str) -> Exit {
    if decision == "allow" { Exit::Ok } else { Exit::Forbidden }
}

fn answer_table(a: &AuthorizeResponse) -> String {
    let headline = match a.decision.as_str() {
        "allow" => format!("✓ allow: {}", a.operation),
        "approval_required" => format!("… approval_required: {}", a.operation),
        other => format!("✗ {other}: {}", a.operation),
    };
    let mut pairs = vec![
        ("Decision", a.decision.clone()),
        ("Reason", a.reason.clone()),
        ("Operation", a.operation.clone()),
        ("Risk", a.risk.to_string()),
        ("Subject", a.subject.clone()),
        ("Token ID", a.token_id.clone()),
    ];
    if let Some(id) = &a.approval_id {
        pairs.push(("Approval ID", id.clone()));
    }
    let mut text = format!("{headline}\n{}", key_values(&pairs));
    match (a.decision.as_str(), &a.approval_id) {
        ("approval_required", Some(id)) => text.push_str(&format!(
            "\nNext: another admin runs `ward approvals approve {id}`; then retry once with --approval-id {id}.\n"
        )),
        ("approval_required", None) => {
            text.push_str("\nNext: retry with --auto-approve to confirm it.\n");
        }
        _ => {}
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(decision: &str, approval_id: Option<&str>) -> AuthorizeResponse {
        AuthorizeResponse {
            decision: decision.into(),
            reason: "because".into(),
            operation: "reboot".into(),
            risk: ward_api::Risk::Critical,
            subject: "patcher".into(),
            token_id: "tok_1".into(),
            approval_id: approval_id.map(str::to_owned),
        }
    }

    #[test]
    fn only_allow_exits_zero() {
        assert_eq!(exit_for("allow"), Exit::Ok);
        assert_eq!(exit_for("deny"), Exit::Forbidden);
        assert_eq!(exit_for("approval_required"), Exit::Forbidden);
    }

    #[test]
    fn the_table_shows_decision_reason_risk_and_approval_id() {
        let text = answer_table(&answer("approval_required", Some("apr_1")));
        assert!(text.starts_with("… approval_required: reboot\n"), "{text}");
        assert!(text.contains("Decision:    approval_required\n"), "{text}");
        assert!(text.contains("Reason:      because\n"), "{text}");
        assert!(text.contains("Risk:        critical\n"), "{text}");
        assert!(text.contains("Approval ID: apr_1\n"), "{text}");
        assert!(text.contains("ward approvals approve apr_1"), "{text}");
    }

    #[test]
    fn an_auto_approve_operation_says_how_to_confirm_it() {
        let text = answer_table(&answer("approval_required", None));
        assert!(text.contains("--auto-approve"), "{text}");
        assert!(!answer_table(&answer("allow", None)).contains("Next:"));
    }
}
