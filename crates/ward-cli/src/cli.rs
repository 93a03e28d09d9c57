//! The command line, as clap parses it. Values that have a domain type are
//! parsed into it here (`Ttl`), so commands receive checked input; clap turns
//! every parse failure into a usage error (exit 2).

use crate::output::Format;
use crate::server_cmd::ServerArgs;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ward_core::Ttl;

/// ward: a self-hosted API token authority.
#[derive(Debug, Parser)]
#[command(name = "ward", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The ward server to talk to [default: the profile's, else http://127.0.0.1:8420].
    #[arg(long, global = true, env = "WARD_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// The profile (environment) in config.toml to use [default: `profile` in it, else default].
    #[arg(long, global = true, env = "WARD_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// The config file [default: ~/.config/ward/config.toml].
    #[arg(long, global = true, env = "WARD_CONFIG", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// The token to send, overriding WARD_TOKEN and the stored one (lands in shell history).
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The secret-store backend: keyring, file or vault [default: the profile's].
    #[arg(long, global = true, env = "WARD_BACKEND", value_name = "BACKEND")]
    pub backend: Option<String>,
    /// How to print results.
    #[arg(long, short = 'o', global = true, env = "WARD_OUTPUT", value_enum,
          default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in with a user name and password; the session is saved for this server.
    Login(LoginArgs),
    /// Revoke the current login session and forget it (a pasted token: forget it, or --revoke).
    Logout(LogoutArgs),
    /// Show who the current token belongs to.
    Whoami,
    /// Change your password (asks for the current one); your other sessions end.
    Passwd(PasswdArgs),
    /// Create, list, show, revoke, delete, rotate and verify tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage users (admins).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage service users and their API keys (admins).
    #[command(subcommand)]
    ServiceUser(ServiceUserCommand),
    /// Run the ward server.
    Server(ServerArgs),
    /// Search the audit trail (--subject, --risk, --since 24h …), or check its hash chain (verify).
    Audit(crate::commands::audit::AuditArgs),
    /// Keep bearer tokens, API keys and OAuth tokens in the local secret store.
    #[command(subcommand)]
    Secret(crate::commands::secret_args::SecretCommand),
    /// Render a file with ${TOKEN:namespace:name} references resolved.
    Inject(crate::commands::secret_args::InjectArgs),
    /// Run a command with ${TOKEN:namespace:name} references in its environment resolved.
    Run(crate::commands::secret_args::RunArgs),
    /// The token this profile uses: store one, or see where it comes from.
    #[command(subcommand)]
    Auth(crate::commands::secret_args::AuthCommand),
    /// git's credential helper: credential.helper = "!ward git-credential".
    GitCredential(crate::commands::secret_args::GitCredentialArgs),
    /// Mint a short-lived signed token for an agent (shown once); verify, list, revoke them.
    Mint(crate::commands::agent_args::MintArgs),
    /// List, rotate and retire the keys that sign agent tokens.
    #[command(subcommand)]
    Keys(crate::commands::agent_args::KeysCommand),
    /// May a token run an operation now? allow (exit 0), deny or approval_required (exit 4).
    Authorize(crate::commands::agent_args::AuthorizeArgs),
    /// List, approve and deny requests for operations that need a human approval (admins).
    #[command(subcommand)]
    Approvals(crate::commands::agent_args::ApprovalsCommand),
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The user name (prompted for on a terminal when absent).
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Also revoke a long-lived token (auth set-token, WARD_TOKEN, --token) on the server.
    #[arg(long)]
    pub revoke: bool,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the current password from the first line of stdin and the new one from the second.
    #[arg(long)]
    pub password_stdin: bool,
}

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
}

#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// A label for the token.
    #[arg(long)]
    pub name: String,
    /// The kind of token.
    #[arg(long = "type", value_enum)]
    pub token_type: TokenType,
    /// Lifetime in days.
    #[arg(long, value_name = "DAYS", conflicts_with = "ttl",
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub expires_in: Option<u32>,
    /// Lifetime as a duration, e.g. 2h, 30d, 1h30m.
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub ttl: Option<Ttl>,
    /// Scopes or meta-scopes, comma separated (default: a personal token gets
    /// its owner's permissions, other types none).
    #[arg(long, value_delimiter = ',', value_name = "SCOPES")]
    pub scopes: Vec<String>,
    /// The owner, by name or id (admins; default: yourself).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListTokensArgs {
    /// Only tokens of this kind.
    #[arg(long = "type", value_enum)]
    pub token_type: Option<TokenType>,
    /// Only tokens in this state.
    #[arg(long, value_enum)]
    pub status: Option<TokenStatus>,
    /// Whose tokens, by name or id (admins may name anyone).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
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

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is prompted for twice, or read from stdin.
    Create(CreateUserArgs),
    /// List users.
    List,
    /// List a user's tokens.
    Tokens {
        /// The user, by name or id.
        name: String,
    },
    /// Revoke every token of a user.
    RevokeTokens(DestructiveNameArgs),
    /// Delete a user and revoke all their tokens.
    Delete(DestructiveNameArgs),
    /// Set another user's password (admins); all their sessions end.
    SetPassword(SetPasswordArgs),
}

#[derive(Debug, Args)]
pub struct SetPasswordArgs {
    /// The user, by name or id.
    pub name: String,
    /// Read the new password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    /// The user name: a-z, 0-9, '.', '_' or '-'.
    pub name: String,
    #[arg(long, value_enum, default_value_t = Role::User)]
    pub role: Role,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

/// A user name (or id) and the flag that skips the `[y/N]` question.
#[derive(Debug, Args)]
pub struct DestructiveNameArgs {
    /// The name or id (`usr_…`).
    pub name: String,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, visible_alias = "force")]
    pub confirm: bool,
}

#[derive(Debug, Subcommand)]
pub enum ServiceUserCommand {
    /// Create a service user; its first API key is printed once.
    Create(CreateServiceUserArgs),
    /// List service users and their keys.
    List,
    /// Issue a new API key; the old one may live for a grace period.
    RotateKey(RotateKeyArgs),
    /// Delete a service user and revoke its keys.
    Delete(DestructiveNameArgs),
}

#[derive(Debug, Args)]
pub struct CreateServiceUserArgs {
    /// The service user's name: a-z, 0-9, '.', '_' or '-'.
    pub name: String,
    /// Scopes of its keys, comma separated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "SCOPES")]
    pub scopes: Vec<String>,
    /// Lifetime of the first key, in days.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub expires_in: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    /// The service user, by name or id.
    pub name: String,
    /// How long the old key keeps working, e.g. 1h (default: it stops at once).
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub grace: Option<Ttl>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenType {
    Personal,
    Pipeline,
    Service,
    Registry,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Personal => "personal",
            Self::Pipeline => "pipeline",
            Self::Service => "service",
            Self::Registry => "registry",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenStatus {
    Active,
    Revoked,
    Expired,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
        }
    }
}

fn parse_ttl(s: &str) -> Result<Ttl, ward_core::duration::InvalidDuration> {
    Ttl::parse(s)
}

/// Scopes from a `--scopes a,b` flag, without blanks.
pub fn clean_scopes(scopes: &[String]) -> Vec<String> {
    scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn expires_in_and_ttl_cannot_be_combined() {
        let parsed = Cli::try_parse_from([
            "ward",
            "token",
            "create",
            "--name",
            "n",
            "--type",
            "personal",
            "--expires-in",
            "3",
            "--ttl",
            "2h",
        ]);
        assert!(parsed.is_err());
    }

    #[test]
    fn scopes_split_on_commas_and_drop_blanks() {
        let cli = Cli::try_parse_from([
            "ward",
            "token",
            "create",
            "--name",
            "n",
            "--type",
            "pipeline",
            "--scopes",
            "a:read, b:write,",
        ])
        .expect("parses");
        let Command::Token(TokenCommand::Create(args)) = cli.command else {
            panic!("not token create");
        };
        assert_eq!(clean_scopes(&args.scopes), ["a:read", "b:write"]);
    }

    #[test]
    fn a_bad_duration_is_a_usage_error() {
        let err = Cli::try_parse_from(["ward", "token", "rotate", "tok_x", "--grace", "3y"]).err();
        assert_eq!(err.map(|e| e.exit_code()), Some(2));
    }
}
