//! `ward secret …`.

use super::one_of;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use ward_secrets::Kind;

#[expect(clippy::large_enum_variant, reason = "parsed once per run; boxing `SetArgs` would only add noise")]
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret; the value comes from a hidden prompt or stdin.
    Set(SetArgs),
    /// Show a secret's metadata, or with --show-value only its value.
    Get(GetArgs),
    /// List stored secrets (metadata only; nothing is unlocked).
    List(ListArgs),
    /// Delete one secret.
    Delete(DeleteArgs),
    /// Delete every secret (of one namespace with --namespace); login sessions only with --sessions.
    Clear(ClearArgs),
    /// Which backends are available, which one is active, where it keeps data.
    Backends,
    /// Write every secret to an age file encrypted with a passphrase.
    Export(ExportArgs),
    /// Read secrets from a file written by `ward secret export`.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The secret's name (or NAMESPACE/NAME).
    pub name: String,
    /// The type of secret.
    #[arg(long = "type", value_parser = one_of(&Kind::ALL, Kind::as_str), default_value_t = Kind::Bearer)]
    pub kind: Kind,
    /// Who issued it, e.g. openai, github.
    #[arg(long)]
    pub provider: Option<String>,
    /// Default: the type's own (bearer, api-key, oauth, generic).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// The value (lands in shell history: prefer the prompt or stdin).
    #[arg(long)]
    pub value: Option<String>,
    /// When it expires: RFC 3339 (2027-01-01T00:00:00Z) or a lifetime (30d, 12h).
    #[arg(long, value_name = "TIME")]
    pub expires_at: Option<String>,
    /// Free metadata, repeatable.
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    pub meta: Vec<String>,
    /// basic: the user name.
    #[arg(long)]
    pub username: Option<String>,
    /// oauth: the access token (else the prompt or stdin).
    #[arg(long)]
    pub access_token: Option<String>,
    /// oauth: the refresh token (lands in shell history).
    #[arg(long)]
    pub refresh_token: Option<String>,
    /// oauth: where the refresh token is exchanged.
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,
    /// oauth: the client id sent with a refresh.
    #[arg(long)]
    pub client_id: Option<String>,
    /// oauth: the access token's lifetime, in seconds or as 1h, 30m.
    #[arg(long, value_name = "SECONDS")]
    pub expires_in: Option<String>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The secret's name (or NAMESPACE/NAME).
    pub name: String,
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Print only the value, for `$(…)`.
    #[arg(long)]
    pub show_value: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Only these types (repeatable).
    #[arg(long = "type", value_parser = one_of(&Kind::ALL, Kind::as_str))]
    pub kinds: Vec<Kind>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The secret's name (or NAMESPACE/NAME).
    pub name: String,
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, visible_alias = "force")]
    pub confirm: bool,
}

#[derive(Debug, Args)]
pub struct ClearArgs {
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, visible_alias = "confirm")]
    pub force: bool,
    /// Also delete the stored login sessions and tokens (`ward-login/…`); they stay valid on their servers.
    #[arg(long)]
    pub sessions: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file to write (0600). Passphrase: WARD_EXPORT_PASSPHRASE or a prompt.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A file written by `ward secret export`.
    pub file: PathBuf,
}
