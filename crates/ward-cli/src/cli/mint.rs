//! `ward mint …`. The lifetime becomes a [`Ttl`] here, so a bad `--ttl` is
//! a usage error (exit 2) before any network call.

use super::parse_ttl;
use clap::{ArgGroup, Args, Subcommand};
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
    /// Lifetime, e.g. 90m, 2h, 1d or 30d (at most the server's mint.max_ttl).
    #[arg(long = "expires-in", visible_alias = "ttl", required = true, value_name = "DURATION",
          value_parser = parse_ttl)]
    pub ttl: Option<Ttl>,
    /// Who the token is meant for: its `aud` claim (e.g. `https://api.example.com`),
    /// which a JWT verifier can require.
    #[arg(long, value_name = "AUDIENCE")]
    pub audience: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, parse};

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
}
