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
pub mod manual;
pub mod mint;
pub mod run;
pub mod scan;
pub mod secret;
pub mod server;
pub mod service_user;
pub mod session;
pub mod token;
pub mod user;

use crate::output::Format;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
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

/// The help heading of [`Global`]'s flags: kept apart from each command's own.
const GLOBAL: &str = "Global options";
/// Options every command takes, shown under their own heading. Their
/// environment variables are read after clap has parsed ([`parse_from`]),
/// not by clap: clap counts a value from the environment as given and would
/// print such a flag in the usage line of every error as if it were required.
#[derive(Debug, Args)]
pub struct Global {
    /// The ward server to talk to [env: WARD_SERVER] [default: the profile's, else http://127.0.0.1:8420].
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL")]
    pub server: Option<String>,
    /// The profile (environment) in config.toml to use [env: WARD_PROFILE] [default: `profile` in it, else default].
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "NAME")]
    pub profile: Option<String>,
    /// The config file [env: WARD_CONFIG] [default: ~/.config/ward/config.toml].
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// The token to send, overriding WARD_TOKEN and the stored one (lands in shell history).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The secret-store backend: keyring, file or vault [env: WARD_BACKEND] [default: the profile's].
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "BACKEND")]
    pub backend: Option<String>,
    /// Also trust this CA certificate (PEM) for the server's certificate [env: WARD_CA_CERT].
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Allow plain http:// to a server that is not this machine (passwords and tokens travel unencrypted) [env: WARD_ALLOW_HTTP].
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub allow_http: bool,
    /// How to print results [env: WARD_OUTPUT] [default: table].
    #[arg(id = "output", long = "output", short = 'o', global = true, help_heading = GLOBAL, value_enum,
          value_name = "FORMAT")]
    output_flag: Option<Format>,
    /// `--output`, else `WARD_OUTPUT`, else a table.
    #[arg(skip = Format::Table)]
    pub output: Format,
}

impl Global {
    /// Fills what no flag gave from the environment; an unknown
    /// `WARD_OUTPUT` is a usage error, as an unknown `--output` is.
    fn fill_from_env(&mut self) -> Result<(), clap::Error> {
        fn env(name: &str) -> Option<String> {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        }
        self.server = self.server.take().or_else(|| env("WARD_SERVER"));
        self.profile = self.profile.take().or_else(|| env("WARD_PROFILE"));
        self.config = self.config.take().or_else(|| env("WARD_CONFIG").map(Into::into));
        self.backend = self.backend.take().or_else(|| env("WARD_BACKEND"));
        self.ca_cert = self.ca_cert.take().or_else(|| env("WARD_CA_CERT").map(Into::into));
        if !self.allow_http {
            // As clap's FalseyValueParser: unset, empty, 0, false, no, off, n, f are false.
            self.allow_http = env("WARD_ALLOW_HTTP").is_some_and(|v| {
                !["0", "false", "no", "off", "n", "f"].contains(&v.to_ascii_lowercase().as_str())
            });
        }
        self.output = match (self.output_flag, env("WARD_OUTPUT")) {
            (Some(format), _) => format,
            (None, Some(value)) => Format::from_str(&value, true).map_err(|_| {
                command().error(
                    clap::error::ErrorKind::InvalidValue,
                    format!("WARD_OUTPUT={value} is not an output format: use table, json or yaml"),
                )
            })?,
            (None, None) => Format::Table,
        };
        Ok(())
    }
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
    /// Find ward tokens in files (and with --git in history); --revoke reports them to be ended.
    Scan(scan::ScanArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions(manual::CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --dir.
    Man(manual::ManArgs),
}

/// The whole command line definition: what `ward` parses, and what
/// `ward completions` and `ward man` are generated from.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommand("server", server::without_client_options)
}

/// Parses `ward`'s arguments (`args[0]` is the program), then reads the
/// environment variables of the global flags that were not given.
pub fn parse_from(args: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
    let matches = matches_of(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    raw_token_is_no_credential(&mut cli);
    cli.global.fill_from_env()?;
    Ok(cli)
}

/// `ward audit --token -` names the raw token to search for (read from
/// stdin). Its arg shares the id `token` with the global credential flag,
/// so clap copies the `-` into the global one as well: drop it there, and
/// the credential comes from `WARD_TOKEN` or the profile.
fn raw_token_is_no_credential(cli: &mut Cli) {
    if let Command::Audit(args) = &cli.command
        && args.token.is_some()
        && cli.global.token.as_deref() == Some("-")
    {
        cli.global.token = None;
    }
}

/// `args` matched against [`command`], with what clap cannot say refused.
fn matches_of<I, T>(args: I) -> Result<clap::ArgMatches, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command().try_get_matches_from(args)?;
    server::refuse_client_options(&matches)
        .map_err(|message| command().error(clap::error::ErrorKind::ArgumentConflict, message))?;
    Ok(matches)
}

/// The `--output` asked for, read from raw arguments (and `WARD_OUTPUT`)
/// for when clap refused them: so that a script that asked for JSON gets
/// its usage error as JSON too.
pub fn requested_output(args: &[std::ffi::OsString]) -> Format {
    let mut asked = std::env::var("WARD_OUTPUT").ok();
    let mut args = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if let Some(value) = arg.strip_prefix("--output=").or_else(|| arg.strip_prefix("-o=")) {
            asked = Some(value.to_owned());
        } else if arg == "--output" || arg == "-o" {
            asked = args.next().map(|v| v.into_owned());
        } else if let Some(value) = arg.strip_prefix("-o").filter(|v| !v.is_empty()) {
            asked = Some(value.to_owned());
        }
    }
    asked.and_then(|a| Format::from_str(&a, true).ok()).unwrap_or(Format::Table)
}

pub(crate) fn parse_ttl(s: &str) -> Result<Ttl, ward_core::duration::InvalidDuration> {
    Ttl::parse(s)
}

/// A lifetime for `--expires-in` (alias `--ttl`): a duration with units
/// (`30d`, `12h`, `90m`, `1h30m`), or — where the flag used to take days,
/// on `token create` and `service-user create` — a bare number of days
/// (`30` is `30d`), kept so existing scripts go on working.
pub(crate) fn parse_lifetime_or_days(s: &str) -> Result<Ttl, String> {
    let text = s.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(days @ 1..=36_500) => Ttl::days(days).map_err(|e| e.to_string()),
            _ => Err(format!("{text} days is out of range: use 1 to 36500 days, or a duration such as 12h")),
        };
    }
    Ttl::parse(text).map_err(|e| e.to_string())
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
    let mut cli = Cli::from_arg_matches(&matches_of(std::iter::once("ward").chain(args.iter().copied()))?)?;
    raw_token_is_no_credential(&mut cli);
    Ok(cli)
}

#[cfg(test)]
mod tests {
    use super::token::TokenCommand;
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn audit_token_dash_is_the_token_searched_for_not_the_credential_sent() {
        let cli = parse(&["audit", "--token", "-"]).expect("parses");
        assert_eq!(cli.global.token, None, "`-` is not sent as the credential");
        assert!(matches!(&cli.command, Command::Audit(a) if a.token.as_deref() == Some("-")));
        let cli = parse(&["whoami", "--token", "ward_p_x"]).expect("parses");
        assert_eq!(cli.global.token.as_deref(), Some("ward_p_x"), "elsewhere --token is the credential");
    }

    #[test]
    fn the_server_takes_none_of_the_clients_options() {
        // Built, so that the global options are copied where clap copies them.
        let mut ward = command();
        ward.build();
        let server = ward.find_subcommand_mut("server").expect("server");
        let help = server.render_long_help().to_string();
        for flag in
            ["--token", "--profile", "--backend", "--ca-cert", "--allow-http", "--output", "Global options"]
        {
            assert!(!help.contains(flag), "ward server --help lists {flag}:\n{help}");
        }
        assert!(help.contains("--data-dir") && help.contains("--listen"), "{help}");
        for given in [&["server", "--token", "t"][..], &["--token", "t", "server"], &["server", "-o", "json"]]
        {
            let err = parse(given).expect_err("refused");
            assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict, "{given:?}");
            assert!(err.to_string().contains("`ward server` does not take it"), "{err}");
        }
        assert!(parse(&["server", "--listen", "127.0.0.1:0", "--config", "ward.toml"]).is_ok());
        assert!(parse(&["token", "list", "--token", "t", "-o", "json"]).is_ok(), "clients keep them");
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
    fn lifetimes_take_units_and_bare_days_where_days_were_taken() {
        let days = |s: &str| parse_lifetime_or_days(s).map(|t| t.to_string());
        assert_eq!(days("12h").as_deref(), Ok("12h"));
        assert_eq!(days("30").ok(), Ttl::days(30).ok().map(|t| t.to_string()));
        assert!(days("0").is_err());
        assert!(days("36501").is_err_and(|e| e.contains("36500")));
        assert!(days("3y").is_err());
    }

    #[test]
    fn expires_in_and_its_ttl_alias_parse_on_create_service_users_and_mint() {
        let Command::Token(TokenCommand::Create(args)) =
            parse(&["token", "create", "--name", "n", "--type", "pipeline", "--ttl", "90m"])
                .expect("parses")
                .command
        else {
            panic!("not token create");
        };
        assert_eq!(args.expires_in.map(|t| t.to_string()).as_deref(), Some("1h30m"));
        let cli =
            parse(&["service-user", "create", "s", "--scopes", "a", "--expires-in", "12h"]).expect("parses");
        let Command::ServiceUser(service_user::ServiceUserCommand::Create(args)) = cli.command else {
            panic!("not service-user create");
        };
        assert_eq!(args.expires_in.map(|t| t.to_string()).as_deref(), Some("12h"));
        assert!(parse(&["mint", "--agent", "a", "--scopes", "s", "--expires-in", "2h"]).is_ok());
        assert!(
            parse(&["mint", "--agent", "a", "--scopes", "s", "--expires-in", "2"]).is_err(),
            "no bare days on mint"
        );
    }

    #[test]
    fn the_output_asked_for_is_read_from_raw_arguments() {
        let args = |a: &[&str]| -> Vec<std::ffi::OsString> {
            std::iter::once("ward").chain(a.iter().copied()).map(Into::into).collect()
        };
        assert_eq!(requested_output(&args(&["token", "create", "-o", "json"])), Format::Json);
        assert_eq!(requested_output(&args(&["--output=yaml", "token"])), Format::Yaml);
        assert_eq!(requested_output(&args(&["-ojson", "x"])), Format::Json);
        assert_eq!(requested_output(&args(&["run", "--", "-o", "json"])), Format::Table);
    }

    #[test]
    fn global_flags_have_their_own_help_heading() {
        let mut command = command();
        let help = command.render_long_help().to_string();
        let (own, global) = help.split_once("Global options:").expect("a Global options heading");
        assert!(global.contains("--server") && !own.contains("--server"), "{help}");
    }

    #[test]
    fn a_bad_duration_is_a_usage_error() {
        let err = Cli::try_parse_from(["ward", "token", "rotate", "tok_x", "--grace", "3y"]).err();
        assert_eq!(err.map(|e| e.exit_code()), Some(2));
    }
}
