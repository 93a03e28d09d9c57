//! The arguments of `ward secret …`, `ward inject`, `ward run`, `ward auth
//! …` and `ward git-credential`, as clap parses them.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use ward_secrets::Kind;

// Parsed once per run; boxing `SetArgs` would only add noise.
#[allow(clippy::large_enum_variant)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Bearer,
    ApiKey,
    #[value(name = "oauth")]
    OAuth,
    Basic,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Bearer => Kind::Bearer,
            KindArg::ApiKey => Kind::ApiKey,
            KindArg::OAuth => Kind::OAuth,
            KindArg::Basic => Kind::Basic,
        }
    }
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The secret's name (or NAMESPACE/NAME).
    pub name: String,
    /// The type of secret.
    #[arg(long = "type", value_enum, default_value_t = KindArg::Bearer)]
    pub kind: KindArg,
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
    #[arg(long = "type", value_enum)]
    pub kinds: Vec<KindArg>,
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

#[derive(Debug, Args)]
pub struct InjectArgs {
    /// The template to render.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write it (mode 0600); default stdout. `-o FILE` works too
    /// (see [`inject_out_alias`]).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How to escape each value for where it lands; default from the
    /// template's name (app.json.tpl is json), else raw.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

/// `ward inject --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Inside a string: escaped; elsewhere: a whole JSON string.
    Json,
    /// Quoted, escaped or indented for its place; refused where it cannot fit.
    Yaml,
    /// Inside a "…" string: escaped; elsewhere: a whole "…" string.
    Toml,
    /// POSIX sh quoting, for `. ./file.env`.
    Env,
    /// Values as they are: NOT escaped, the output may not parse.
    Raw,
}

impl From<FormatArg> for ward_secrets::template::Format {
    fn from(f: FormatArg) -> Self {
        use ward_secrets::template::Format;
        match f {
            FormatArg::Json => Format::Json,
            FormatArg::Yaml => Format::Yaml,
            FormatArg::Toml => Format::Toml,
            FormatArg::Env => Format::Env,
            FormatArg::Raw => Format::Raw,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// KEY=VALUE lines added to the environment (references resolved).
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Pass one of ward's own secret variables (WARD_PASSPHRASE, WARD_TOKEN,
    /// VAULT_TOKEN, …) to the command; without it they are removed. Repeatable.
    #[arg(long, value_name = "VAR")]
    pub keep_env: Vec<String>,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Store a token for this profile (checked with the server unless --no-verify).
    SetToken(SetTokenArgs),
    /// Which token is used, where it came from, and whether it is valid.
    Status,
}

#[derive(Debug, Args)]
pub struct SetTokenArgs {
    /// The token, or `-` (or nothing) to read it from stdin or a prompt.
    pub token: Option<String>,
    /// Store it without asking the server.
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Args)]
pub struct GitCredentialArgs {
    /// get, store or erase (git passes it; others are ignored).
    pub operation: String,
}

/// `ward inject -o FILE` names the output file, as `-o` does for most file
/// tools; everywhere else `-o` is the global `--output` format. clap cannot
/// give one short flag two meanings, so before parsing, a `-o` after the
/// `inject` subcommand is rewritten to `--out`.
pub fn inject_out_alias(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const GLOBAL_WITH_VALUE: [&str; 7] =
        ["--server", "--profile", "--config", "--token", "--backend", "--output", "-o"];
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        if GLOBAL_WITH_VALUE.contains(&arg.as_ref()) {
            i += 2;
        } else if arg.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    if args.get(i).is_none_or(|a| a != "inject") {
        return args;
    }
    let mut out = args;
    for arg in out.iter_mut().skip(i + 1) {
        if arg == "--" {
            break;
        }
        if arg == "-o" {
            *arg = "--out".into();
        } else if let Some(file) = arg.to_str().and_then(|a| a.strip_prefix("-o")).map(str::to_owned) {
            *arg = format!("--out={file}").into();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(args: &[&str]) -> Vec<String> {
        inject_out_alias(args.iter().map(Into::into).collect())
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn dash_o_after_inject_is_the_output_file() {
        assert_eq!(
            rewrite(&["ward", "inject", "-i", "t", "-o", "f"]),
            ["ward", "inject", "-i", "t", "--out", "f"]
        );
        assert_eq!(
            rewrite(&["ward", "--profile", "p", "inject", "-of"]),
            ["ward", "--profile", "p", "inject", "--out=f"]
        );
    }

    #[test]
    fn dash_o_elsewhere_is_left_alone() {
        for args in [
            &["ward", "-o", "json", "secret", "list"][..],
            &["ward", "secret", "set", "inject", "-o", "json"],
        ] {
            assert_eq!(rewrite(args), args);
        }
    }
}
