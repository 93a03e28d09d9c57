//! `ward audit [filters]` and `ward audit verify`. The time bounds are
//! checked here (a usage error, exit 2) before anything is sent.

use super::one_of;
use chrono::Utc;
use clap::{Args, Subcommand};
use ward_api::Risk;

const RISKS: [Risk; 4] = [Risk::Low, Risk::Moderate, Risk::High, Risk::Critical];

/// `ward audit [filters]`, or `ward audit verify`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    /// Only events about this user, service user or agent.
    #[arg(long, value_name = "NAME")]
    pub subject: Option<String>,
    /// Only events of this token (`tok_…`, or a minted token's id).
    #[arg(long, value_name = "ID")]
    pub token_id: Option<String>,
    /// `-`: only events of the raw token read from stdin (found by its
    /// hash, as GitHub's hashed_token; yours, or anyone's for admins).
    #[arg(long, value_name = "-", conflicts_with = "token_id",
          value_parser = clap::builder::PossibleValuesParser::new(["-"]))]
    pub token: Option<String>,
    /// Only this action, e.g. login.failure, token.create, authorize.
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// Only this decision, e.g. allow, deny, approval_required.
    #[arg(long, value_name = "DECISION")]
    pub decision: Option<String>,
    /// Only events of this risk level.
    #[arg(long, value_parser = one_of(&RISKS, Risk::as_str))]
    pub risk: Option<Risk>,
    /// From this time: RFC 3339, or a duration ago such as 24h or 7d.
    #[arg(long, value_name = "TIME", value_parser = time_bound)]
    pub since: Option<String>,
    /// Up to this time: RFC 3339, or a duration ago such as 1h.
    #[arg(long, value_name = "TIME", value_parser = time_bound)]
    pub until: Option<String>,
    /// At most this many events (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: exit 0 when intact, 1 when an event was
    /// changed, removed or reordered (the first one is named).
    Verify,
}

/// Checks the form here (a usage error, exit 2); the server resolves a
/// duration against its own clock.
fn time_bound(text: &str) -> Result<String, ward_core::audit::InvalidTimeBound> {
    ward_core::audit::parse_time_bound(text, Utc::now()).map(|_| text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_parses_into_the_core_risk_level() {
        use crate::cli::{Command, parse};
        let risk = |level: &str| match parse(&["audit", "--risk", level]).map(|cli| cli.command) {
            Ok(Command::Audit(args)) => args.risk,
            _ => None,
        };
        assert_eq!(risk("critical"), Some(Risk::Critical));
        assert_eq!(risk("severe"), None);
    }

    #[test]
    fn time_bounds_are_checked_before_anything_is_sent() {
        assert_eq!(time_bound(" 24h").ok().as_deref(), Some("24h"));
        assert!(time_bound("2026-01-01T00:00:00Z").is_ok());
        assert!(time_bound("last tuesday").is_err());
    }
}
