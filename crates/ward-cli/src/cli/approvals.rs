//! `ward approvals …`.

use super::one_of;
use clap::{Args, Subcommand};
use ward_api::ApprovalStatus;

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// List approvals, newest first (admins).
    List(ApprovalListArgs),
    /// Approve a pending request; the requester may retry it once (admins, not your own).
    Approve {
        /// The approval id (`apr_…`).
        id: String,
    },
    /// Deny a pending request (admins, not your own).
    Deny {
        /// The approval id (`apr_…`).
        id: String,
        /// Why; shown to whoever looks at the approval and in the audit trail.
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ApprovalListArgs {
    /// Only approvals in this state.
    #[arg(long, value_parser = one_of(&ApprovalStatus::LISTABLE, ApprovalStatus::as_str))]
    pub status: Option<ApprovalStatus>,
}
