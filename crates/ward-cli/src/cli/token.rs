//! `ward token …`.

use super::{one_of, parse_lifetime_or_days, parse_ttl};
use clap::{Args, Subcommand};
use ward_api::{TokenKind, TokenStatus};
use ward_core::Ttl;
use ward_core::limits::UseRate;

/// The kinds `ward token create --type` makes (login sessions come from
/// `ward login`, agent tokens from `ward mint`).
const CREATABLE: [TokenKind; 4] =
    [TokenKind::Personal, TokenKind::Pipeline, TokenKind::Service, TokenKind::Registry];

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once.
    Create(CreateTokenArgs),
    /// List tokens (yours, or a user's with --user).
    List(ListTokensArgs),
    /// Show one token's metadata.
    Show {
        /// The token id (`tok_…`).
        id: String,
    },
    /// Revoke a token; it stops working at once, for good.
    Revoke(DestructiveIdArgs),
    /// Delete a token's record (admins).
    Delete(DestructiveIdArgs),
    /// Replace a token by a new one; the old one may live for a grace period.
    Rotate(RotateArgs),
    /// Check a token: exit 0 when valid, 3 otherwise.
    Verify(VerifyArgs),
    /// Tokens unused for a while (admins): list them, or revoke them with --apply.
    Idle(IdleArgs),
    /// Tell what a raw token is (id, type, owner, status, created) without
    /// using it: yours, or anyone's for admins. Reads it from stdin with `-`.
    Identify(IdentifyArgs),
}

#[derive(Debug, Args)]
pub struct IdleArgs {
    /// How long unused makes a token idle, e.g. 90d (default: the server's
    /// lifecycle.revoke_unused_after).
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub unused_for: Option<Ttl>,
    /// Revoke them; without it, only list what would be revoked.
    #[arg(long)]
    pub apply: bool,
    /// With --apply: do not ask; required when stdin is not a terminal.
    #[arg(long, visible_alias = "force", requires = "apply")]
    pub confirm: bool,
}

#[derive(Debug, Args)]
pub struct IdentifyArgs {
    /// `-`: read the token from stdin (a token on the command line would
    /// land in your shell history).
    #[arg(value_name = "-", value_parser = clap::builder::PossibleValuesParser::new(["-"]))]
    pub stdin: String,
}

#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// A label for the token.
    #[arg(long)]
    pub name: String,
    /// The kind of token.
    #[arg(long = "type", value_parser = one_of(&CREATABLE, TokenKind::as_str))]
    pub token_type: TokenKind,
    /// Lifetime, e.g. 30d, 12h, 90m or 1h30m (a bare number is days).
    #[arg(long = "expires-in", visible_alias = "ttl", value_name = "DURATION",
          value_parser = parse_lifetime_or_days)]
    pub expires_in: Option<Ttl>,
    /// Scopes or meta-scopes, comma separated (default: a personal token gets
    /// its owner's permissions, other types none).
    #[arg(long, value_delimiter = ',', value_name = "SCOPES")]
    pub scopes: Vec<String>,
    /// The owner, by name or id (admins; default: yourself).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// How many times it may be used in all; the N-th use is the last that verifies.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000_000))]
    pub max_uses: Option<u32>,
    /// At most this many uses per window, e.g. 10/s, 100/min, 5000/h, 1000/d;
    /// beyond it a use is answered 429 with Retry-After.
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub rate: Option<UseRate>,
}

fn parse_rate(text: &str) -> Result<UseRate, ward_core::limits::InvalidRate> {
    text.parse()
}

#[derive(Debug, Args)]
pub struct ListTokensArgs {
    /// Only tokens of this kind.
    #[arg(long = "type", value_parser = one_of(&CREATABLE, TokenKind::as_str))]
    pub token_type: Option<TokenKind>,
    /// Only tokens in this state.
    #[arg(long, value_parser = one_of(&TokenStatus::ALL, TokenStatus::as_str))]
    pub status: Option<TokenStatus>,
    /// Whose tokens, by name or id (admins may name anyone).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Only active tokens that expire within this, e.g. 7d.
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub expiring: Option<Ttl>,
    /// Only active tokens not used for this long, e.g. 90d (never used
    /// counts from creation).
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub unused_for: Option<Ttl>,
}

/// A token id and the flag that skips the `[y/N]` question.
#[derive(Debug, Args)]
pub struct DestructiveIdArgs {
    /// The token id (`tok_…`).
    pub id: String,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, visible_alias = "force")]
    pub confirm: bool,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The token id (`tok_…`).
    pub id: String,
    /// How long the old token keeps working, e.g. 1h (default: it stops at once).
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub grace: Option<Ttl>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The token, or `-` (or nothing) to read it from stdin.
    #[arg(id = "checked_token", value_name = "TOKEN")]
    pub token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, parse};

    #[test]
    fn type_and_status_parse_into_the_api_enums_and_login_is_not_a_type_to_create() {
        let cli = parse(&["token", "list", "--type", "registry", "--status", "expired"]).expect("parses");
        let Command::Token(TokenCommand::List(args)) = cli.command else { panic!("not token list") };
        assert_eq!((args.token_type, args.status), (Some(TokenKind::Registry), Some(TokenStatus::Expired)));
        let cli = parse(&["token", "list", "--expiring", "7d", "--unused-for", "90d"]).expect("parses");
        let Command::Token(TokenCommand::List(args)) = cli.command else { panic!("not token list") };
        assert_eq!((args.expiring, args.unused_for), (Ttl::parse("7d").ok(), Ttl::parse("90d").ok()));
        for bad in [
            &["token", "list", "--status", "sleeping"][..],
            &["token", "list", "--expiring", "soon"],
            &["token", "idle", "--confirm"],
            &["token", "create", "--name", "n", "--type", "login"],
        ] {
            assert_eq!(parse(bad).err().map(|e| e.exit_code()), Some(2), "{bad:?}");
        }
    }
}
