//! `ward approvals list [--status S] | approve ID | deny ID [--reason R]`:
//! the human approvals that `human` operations wait for (admins; nobody
//! decides a request of their own, or of an agent they minted).

use crate::app::App;
use crate::cli::approvals::ApprovalListArgs;
use crate::output;
use crate::output::table::Table;
use serde::Serialize;
use std::process::ExitCode;
use ward_api::{Approval, ApprovalQuery, DecideRequest};

/// `{"approvals":[…]}`, as the server sends it.
#[derive(Debug, Serialize)]
struct Listing<'a> {
    approvals: &'a [Approval],
}

/// `ward approvals list [--status pending]`.
pub async fn list(app: &App, args: ApprovalListArgs) -> anyhow::Result<ExitCode> {
    let query = ApprovalQuery { status: args.status };
    let list = app.client()?.list_approvals(&query).await?;
    let approvals = &list.approvals;
    output::emit(app.output, &Listing { approvals }, || approvals_table(approvals))?;
    Ok(ExitCode::SUCCESS)
}

fn approvals_table(approvals: &[Approval]) -> String {
    if approvals.is_empty() {
        return "No approvals found.".to_owned();
    }
    let mut table =
        Table::new(["ID", "Subject", "Operation", "Risk", "Status", "Requested", "Expires", "Decided By"]);
    for a in approvals {
        table.row(vec![
            a.id.clone(),
            a.subject.clone(),
            a.operation.clone(),
            a.risk.to_string(),
            a.status.to_string(),
            output::time(&a.created_at),
            output::time(&a.expires_at),
            a.decided_by.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    table.render()
}

/// `ward approvals approve ID`.
pub async fn approve(app: &App, id: &str) -> anyhow::Result<ExitCode> {
    let approval = app.client()?.approve(id).await?;
    output::emit(app.output, &approval, || {
        format!(
            "✓ Approval {} approved: {} may run {} once, until {}.\n\
             It retries with `ward authorize --operation {} --approval-id {}`.",
            approval.id,
            approval.subject,
            approval.operation,
            output::time(&approval.expires_at),
            approval.operation,
            approval.id
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `ward approvals deny ID [--reason R]`.
pub async fn deny(app: &App, id: &str, reason: Option<String>) -> anyhow::Result<ExitCode> {
    let request = DecideRequest { reason: reason.filter(|r| !r.trim().is_empty()) };
    let approval = app.client()?.deny(id, &request).await?;
    output::emit(app.output, &approval, || {
        let why = approval.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        format!(
            "✓ Approval {} denied{why}: {} may not run {} with it.",
            approval.id, approval.subject, approval.operation
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_approval_table_has_one_row_per_approval() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).single().expect("valid time");
        let a = Approval {
            id: "apr_1".into(),
            token_id: "tok_1".into(),
            subject: "patcher".into(),
            operation: "reboot".into(),
            risk: ward_api::Risk::Critical,
            status: ward_api::ApprovalStatus::Pending,
            created_at: at,
            expires_at: at,
            decided_by: None,
            decided_at: None,
            reason: None,
        };
        let text = approvals_table(&[a]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("ID     Subject  Operation  Risk      Status   Requested"), "{text}");
        assert!(lines[1].starts_with("apr_1  patcher  reboot     critical  pending  2026-11-22 18:30 UTC"));
        assert!(lines[1].ends_with("  -"), "{text}");
        assert_eq!(approvals_table(&[]), "No approvals found.");
    }
}
