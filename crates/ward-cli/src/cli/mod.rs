//! The command line, as clap parses it: every clap type of `ward` lives in
//! this module tree, one file per command group; `commands` runs them.
//! Values that have a domain type are parsed into it here (`Ttl`), so
//! commands receive checked input; clap turns every parse failure into a
//! usage error (exit 2).

pub mod approvals;
pub mod audit;
pub mod auth;
pub mod authorize;
pub mod git_credential;
pub mod inject;
pub mod keys;
pub mod mint;
pub mod run;
pub mod secret;
pub mod server;
pub mod service_user;
pub mod session;
pub mod token;
pub mod user;

use crate::output::Format;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use ward_core::Ttl;

/// `ward --version`: the version and the commit it was built from (`build.rs`).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("WARD_BUILD_COMMIT"), ")");

/// ward: a self-hosted API token authority.
#[derive(Debug, Parser)]
#[command(name = "ward", version = VERSION, propagate_version = true, max_term_width = 100)]
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
    /// Also trust this CA certificate (PEM) for the server's certificate.
    #[arg(long, global = true, env = "WARD_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Allow plain http:// to a server that is not this machine (passwords and tokens travel unencrypted).
    #[arg(long, global = true, env = "WARD_ALLOW_HTTP", value_parser = clap::builder::FalseyValueParser::new())]
    pub allow_http: bool,
    /// How to print results.
    #[arg(long, short = 'o', global = true, env = "WARD_OUTPUT", value_enum,
          default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in with a user name and password; the session is saved for this server.
    Login(session::LoginArgs),
    /// Revoke the current login session and forget it (a pasted token: forget it, or --revoke).
    Logout(session::LogoutArgs),
    /// Show who the current token belongs to.
    Whoami,
    /// Ask the server's /healthz (no token needed): exit 0 when it answers ok.
    Health,
    /// Change your password (asks for the current one); your other sessions end.
    Passwd(session::PasswdArgs),
    /// Create, list, show, revoke, delete, rotate and verify tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Manage users (admins).
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage service users and their API keys (admins).
    #[command(subcommand)]
    ServiceUser(service_user::ServiceUserCommand),
    /// Run the ward server.
    Server(server::ServerArgs),
    /// Search the audit trail (--subject, --risk, --since 24h …), or check its hash chain (verify).
    Audit(audit::AuditArgs),
    /// Keep bearer tokens, API keys and OAuth tokens in the local secret store.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Render a file with ${TOKEN:namespace:name} references resolved.
    Inject(inject::InjectArgs),
    /// Run a command with ${TOKEN:namespace:name} references in its environment resolved.
    Run(run::RunArgs),
    /// The token this profile uses: store one, or see where it comes from.
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// git's credential helper: credential.helper = "!ward git-credential".
    GitCredential(git_credential::GitCredentialArgs),
    /// Mint a short-lived signed token for an agent (shown once); verify, list, revoke them.
    Mint(mint::MintArgs),
    /// List, rotate and retire the keys that sign agent tokens.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// May a token run an operation now? allow (exit 0), deny or approval_required (exit 4).
    Authorize(authorize::AuthorizeArgs),
    /// List, approve and deny requests for operations that need a human approval (admins).
    #[command(subcommand)]
    Approvals(approvals::ApprovalsCommand),
}

pub(crate) fn parse_ttl(s: &str) -> Result<Ttl, ward_core::duration::InvalidDuration> {
    Ttl::parse(s)
}

/// A flag value that is one of `values`, by the name the API uses for it;
/// `--help` lists them and anything else is a usage error.
pub(crate) fn one_of<T>(values: &[T], name: fn(T) -> &'static str) -> impl TypedValueParser<Value = T>
where
    T: Copy + Send + Sync + 'static,
{
    let values = values.to_vec();
    let names: Vec<&'static str> = values.iter().map(|v| name(*v)).collect();
    PossibleValuesParser::new(names).try_map(move |given: String| {
        values.iter().copied().find(|v| name(*v) == given).ok_or_else(|| format!("unknown value '{given}'"))
    })
}

/// Scopes from a `--scopes a,b` flag, without blanks.
pub fn clean_scopes(scopes: &[String]) -> Vec<String> {
    scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Parses `ward ARGS…`, for the tests of each command group.
#[cfg(test)]
pub(crate) fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("ward").chain(args.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::token::TokenCommand;
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
    fn allow_http_and_ca_cert_are_global_flags() {
        let cli =
            Cli::try_parse_from(["ward", "whoami", "--allow-http", "--ca-cert", "ca.pem"]).expect("parses");
        assert!(cli.global.allow_http);
        assert_eq!(cli.global.ca_cert.as_deref(), Some(std::path::Path::new("ca.pem")));
        let cli = Cli::try_parse_from(["ward", "whoami"]).expect("parses");
        assert!(!cli.global.allow_http);
    }

    #[test]
    fn a_bad_duration_is_a_usage_error() {
        let err = Cli::try_parse_from(["ward", "token", "rotate", "tok_x", "--grace", "3y"]).err();
        assert_eq!(err.map(|e| e.exit_code()), Some(2));
    }
}
