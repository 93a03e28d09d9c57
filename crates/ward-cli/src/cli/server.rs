//! `ward server` and `ward server recover-admin`.

use clap::{Args, Subcommand};
use std::path::PathBuf;
pub use ward_server::observe::LogFormat;

/// Arguments of `ward server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
    /// Address to listen on: HOST:PORT, or unix:/path/to/socket (mode 0660).
    #[arg(long, default_value = "127.0.0.1:8420", global = true)]
    pub listen: String,
    /// Serve HTTPS with this certificate chain (PEM); reloaded on SIGHUP.
    #[arg(long, env = "WARD_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert; reloaded on SIGHUP.
    #[arg(long, env = "WARD_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Where the SQLite database lives (default: the user's data dir).
    #[arg(long, env = "WARD_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// A database URL instead of the embedded SQLite file.
    #[arg(long, env = "WARD_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Server config file (TOML): scopes, meta-scopes, roles, login limits.
    #[arg(long, env = "WARD_SERVER_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Also append every audit event to FILE as one JSON object per line
    /// (created with mode 0600), for grep and jq.
    #[arg(long, env = "WARD_AUDIT_LOG", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// How the server logs to stderr: `text` (coloured only on a terminal
    /// and without NO_COLOR) or `json` (one JSON object per line).
    #[arg(long, env = "WARD_LOG_FORMAT", value_name = "FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Reset the admin user's password from the local database.
    RecoverAdmin {
        /// Read the new password from stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// The global options of the client commands, by clap id and flag: the
/// server takes none of them (it has `--config`, `--data-dir` … of its own).
const CLIENT_OPTIONS: [(&str, &str); 7] = [
    ("server", "server"),
    ("profile", "profile"),
    ("token", "token"),
    ("backend", "backend"),
    ("ca_cert", "ca-cert"),
    ("allow_http", "allow-http"),
    ("output", "output"),
];

/// `ward server` as clap builds it, without the client's global options:
/// each is declared here, hidden, under the global one's id, so clap does
/// not copy the global one in (it skips ids a subcommand already has) and
/// `ward server --help` lists only what the server reads.
pub fn without_client_options(server: clap::Command) -> clap::Command {
    CLIENT_OPTIONS.iter().fold(server, |cmd, (id, long)| {
        let arg = clap::Arg::new(*id).long(*long).hide(true);
        let arg = match *id {
            "allow_http" => arg.action(clap::ArgAction::SetTrue),
            "output" => arg.short('o').action(clap::ArgAction::Set),
            _ => arg.action(clap::ArgAction::Set),
        };
        cmd.arg(arg)
    })
}

/// A usage error when `ward server` was given a client option, before or
/// after `server`: it would be ignored, and an operator who typed it meant
/// something by it.
pub fn refuse_client_options(matches: &clap::ArgMatches) -> Result<(), String> {
    let Some(("server", server)) = matches.subcommand() else { return Ok(()) };
    let given = |m: &clap::ArgMatches, id: &str| {
        m.try_contains_id(id).unwrap_or(false)
            && m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
    };
    match CLIENT_OPTIONS.iter().find(|(id, _)| given(matches, id) || given(server, id)) {
        Some((_, long)) => Err(format!(
            "--{long} is an option of ward's client commands; `ward server` does not take it \
             (see `ward server --help` for its own)"
        )),
        None => Ok(()),
    }
}
