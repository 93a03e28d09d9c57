//! The arguments of `ward mint …`, `ward keys …`, `ward authorize` and
//! `ward approvals …`, as clap parses them. Durations become a [`Ttl`] here,
//! so a bad `--ttl` is a usage error (exit 2) before any network call.

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use ward_core::Ttl;

// `ward mint --agent A --scopes S --ttl T`, or one of its subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct MintArgs {
    #[command(subcommand)]
    pub command: Option<MintCommand>,
    /// The agent the token is for (its `sub`), e.g. grafana-datasource.
    #[arg(long, required = true, value_name = "NAME")]
    pub agent: Option<String>,
    /// Scopes or meta-scopes (readonly, admin), comma separated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "SCOPES")]
    pub scopes: Vec<String>,
    /// Lifetime, e.g. 1h, 2h, 1d, 7d or 30d (at most the server's mint.max_ttl).
    #[arg(long, required = true, value_name = "DURATION", value_parser = parse_ttl)]
    pub ttl: Option<Ttl>,
}

#[derive(Debug, Subcommand)]
pub enum MintCommand {
    /// Check a signed agent token: exit 0 when valid, 3 otherwise.
    Verify(MintVerifyArgs),
    /// List minted tokens (metadata only), newest first.
    List(MintListArgs),
    /// Revoke one minted token by id, or every token of an agent issued so far.
    Revoke(MintRevokeArgs),
}

#[derive(Debug, Args)]
pub struct MintVerifyArgs {
    /// The token, or `-` (or nothing) to read it from stdin.
    // Its own id: `token` is the global `--token`, which would take the value.
    #[arg(id = "checked_token", value_name = "TOKEN")]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct MintListArgs {
    /// Only this agent's tokens.
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// At most this many tokens.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["jti", "agent"])))]
pub struct MintRevokeArgs {
    /// The token's id (`jti`, `tok_…`), from `ward mint list`.
    #[arg(long, value_name = "ID")]
    pub jti: Option<String>,
    /// Revoke every token of this agent issued so far (later ones stay valid).
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, visible_alias = "force")]
    pub confirm: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the signing keys and their status.
    List,
    /// Add a new signing key for new tokens; older keys keep verifying (admins).
    Rotate,
    /// Retire a key: every token it signed stops verifying, for good (admins).
    Retire(RetireKeyArgs),
}

#[derive(Debug, Args)]
pub struct RetireKeyArgs {
    /// The key id (`key_…`), from `ward keys list`.
    pub kid: String,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, visible_alias = "force")]
    pub confirm: bool,
}

// `ward authorize`. The token checked is the one sent: `--token TOKEN`,
// `--token -` (read from stdin), else WARD_TOKEN or your session.
#[derive(Debug, Args)]
#[command(after_help = "The token checked is the one ward sends: --token TOKEN, or --token - to read it \
from stdin, else WARD_TOKEN, else your `ward login` session.\n\nExit codes: 0 allow; 4 deny, \
approval_required or insufficient scope (403); 3 a missing, malformed, unknown, expired or revoked \
token (401). With --output json the answer's `decision` tells deny from approval_required.")]
pub struct AuthorizeArgs {
    /// The operation, as named in the server's [operations.NAME] config.
    #[arg(long, value_name = "OP")]
    pub operation: String,
    /// Confirm an `auto_approve` operation (it is allowed only when asked like this).
    #[arg(long)]
    pub auto_approve: bool,
    /// Retry a `human` operation with an approval an admin approved (single use).
    #[arg(long, value_name = "ID")]
    pub approval_id: Option<String>,
}

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

fn parse_ttl(s: &str) -> Result<Ttl, ward_core::duration::InvalidDuration> {
    Ttl::parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("ward").chain(args.iter().copied()))
    }

    #[test]
    fn the_token_to_verify_is_not_taken_for_the_token_to_send() {
        let cli = parse(&["mint", "verify", "eyJa.b.c"]).expect("parses");
        assert!(cli.global.token.is_none(), "the checked token must not become the bearer");
        let Command::Mint(MintArgs { command: Some(MintCommand::Verify(args)), .. }) = cli.command else {
            panic!("not mint verify");
        };
        assert_eq!(args.token.as_deref(), Some("eyJa.b.c"));
    }

    #[test]
    fn mint_needs_agent_scopes_and_ttl_but_its_subcommands_do_not() {
        let cli =
            parse(&["mint", "--agent", "ci", "--scopes", "a:read, b:write", "--ttl", "2h"]).expect("parses");
        let Command::Mint(args) = cli.command else { panic!("not mint") };
        assert_eq!(args.agent.as_deref(), Some("ci"));
        assert_eq!(args.ttl.map(|t| t.to_string()).as_deref(), Some("2h"));
        for missing in
            [&["mint", "--agent", "ci", "--ttl", "2h"][..], &["mint", "--scopes", "a", "--ttl", "2h"]]
        {
            assert_eq!(parse(missing).err().map(|e| e.exit_code()), Some(2), "{missing:?}");
        }
        assert!(parse(&["mint", "list"]).is_ok());
        assert_eq!(
            parse(&["mint", "--agent", "a", "--scopes", "s", "--ttl", "3y"]).err().map(|e| e.exit_code()),
            Some(2)
        );
    }

    #[test]
    fn mint_revoke_takes_exactly_one_of_jti_and_agent() {
        assert!(parse(&["mint", "revoke", "--jti", "tok_1"]).is_ok());
        assert!(parse(&["mint", "revoke", "--agent", "ci", "--force"]).is_ok());
        assert!(parse(&["mint", "revoke"]).is_err());
        assert!(parse(&["mint", "revoke", "--jti", "tok_1", "--agent", "ci"]).is_err());
    }

    #[test]
    fn authorize_takes_the_global_token_flag() {
        let cli =
            parse(&["authorize", "--operation", "reboot", "--token", "-", "--auto-approve"]).expect("parses");
        assert_eq!(cli.global.token.as_deref(), Some("-"));
        let Command::Authorize(args) = cli.command else { panic!("not authorize") };
        assert!(args.auto_approve && args.approval_id.is_none());
    }
}
