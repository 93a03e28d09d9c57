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
