//! `ward approvals …`.

use clap::{Args, Subcommand, ValueEnum};

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
    #[arg(long, value_enum)]
    pub status: Option<ApprovalStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    Used,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Used => "used",
        }
    }
}
