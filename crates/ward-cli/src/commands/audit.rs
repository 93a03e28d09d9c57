//! `ward audit` (search the trail) and `ward audit verify` (check its hash
//! chain). Both need a token with `ward:audit` (admins have it).
//!
//! `ward audit` prints one page, newest first: a table, or with `--output
//! json` the server's `{"events": […]}`. `ward audit verify` exits 0 when
//! the chain is intact and 1 when it is broken, naming the first event that
//! was changed, removed or reordered.

use crate::app::App;
use crate::cli::audit::{AuditArgs, AuditCommand};
use crate::exit::Exit;
use crate::output;
use crate::output::table::Table;
use chrono::{DateTime, Utc};
use std::process::ExitCode;
use ward_api::{AuditList, AuditQuery, AuditRecord, AuditVerifyResponse, IdentifyRequest};

/// `ward audit …`.
pub async fn run(app: &App, args: AuditArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(AuditCommand::Verify) => verify(app).await,
        None => search(app, args).await,
    }
}

async fn search(app: &App, args: AuditArgs) -> anyhow::Result<ExitCode> {
    let client = app.client()?;
    let token_id = match args.token {
        // `--token -`: from the raw token to its id, by its hash.
        Some(_) => {
            let token = crate::input::raw_token()?;
            Some(client.identify_token(&IdentifyRequest { token: token.to_string() }).await?.id)
        }
        None => args.token_id,
    };
    let query = AuditQuery {
        subject: args.subject,
        token_id,
        action: args.action,
        decision: args.decision,
        risk: args.risk.map(|r| r.as_str().to_owned()),
        since: args.since,
        until: args.until,
        limit: Some(args.limit),
        order: None,
        cursor: None,
    };
    let list = client.audit(&query).await?;
    output::emit(app.output, &list, || events_table(&list))?;
    Ok(ExitCode::SUCCESS)
}

fn events_table(list: &AuditList) -> String {
    if list.events.is_empty() {
        return "No audit events found.".to_owned();
    }
    let mut table = Table::new([
        "Seq", "Time", "Action", "Subject", "Token", "Decision", "Count", "Risk", "Client", "Request",
    ]);
    for e in &list.events {
        table.row(vec![
            e.seq.to_string(),
            seconds(&e.time),
            e.action.clone(),
            dash(&e.subject),
            dash(&e.token_id),
            decision(e),
            e.count.to_string(),
            dash(&e.risk_level),
            dash(&e.client_ip),
            dash(&e.request_id),
        ]);
    }
    table.render()
}

/// The decision, or the error when there is only that.
fn decision(e: &AuditRecord) -> String {
    match (&e.decision, &e.error) {
        (Some(d), _) => d.clone(),
        (None, Some(error)) => format!("error: {error}"),
        (None, None) => "-".to_owned(),
    }
}

fn dash(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "-".to_owned())
}

/// A time to the second: `2026-11-22 18:30:05 UTC`.
fn seconds(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

async fn verify(app: &App) -> anyhow::Result<ExitCode> {
    let verdict = app.client()?.verify_audit().await?;
    output::emit(app.output, &verdict, || verdict_text(&verdict))?;
    Ok(if verdict.ok { ExitCode::SUCCESS } else { Exit::Error.into() })
}

fn verdict_text(v: &AuditVerifyResponse) -> String {
    match &v.first_bad {
        None if v.unkeyed > 0 => format!(
            "✓ The audit chain is intact: {} events checked.\n  The first {} were chained before the audit key existed: \
             their order and fields are as when the keyed chain began, but they are not forgery-proof.",
            v.checked, v.unkeyed
        ),
        None => format!("✓ The audit chain is intact and keyed: {} events checked.", v.checked),
        Some(bad) => {
            let event = match &bad.id {
                Some(id) => format!("event {} ({id})", bad.seq),
                None => format!("event {}", bad.seq),
            };
            format!(
                "✗ The audit chain is broken: {event} was {}.\n  {}\n  {} events checked.",
                bad.problem, bad.detail, v.checked
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_api::AuditBadEvent;

    #[test]
    fn a_broken_chain_names_the_event_and_what_happened_to_it() {
        let v = AuditVerifyResponse {
            ok: false,
            checked: 9,
            unkeyed: 0,
            first_bad: Some(AuditBadEvent {
                seq: 4,
                id: Some("evt_x".into()),
                problem: "changed".into(),
                detail: "its stored fields no longer match its hash".into(),
            }),
        };
        let text = verdict_text(&v);
        assert!(text.starts_with("✗ The audit chain is broken: event 4 (evt_x) was changed."), "{text}");
        let intact = AuditVerifyResponse { ok: true, checked: 3, unkeyed: 0, first_bad: None };
        assert_eq!(verdict_text(&intact), "✓ The audit chain is intact and keyed: 3 events checked.");
        let upgraded = AuditVerifyResponse { ok: true, checked: 9, unkeyed: 4, first_bad: None };
        assert!(verdict_text(&upgraded).contains("The first 4 were chained before the audit key existed"));
    }
}
