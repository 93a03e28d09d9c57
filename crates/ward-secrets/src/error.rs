//! The errors of the credential store.
//!
//! Each variant says what went wrong; [`Error::hint`] says what to do next.
//! No variant carries a secret: values, tokens and passphrases never reach
//! an error, and server answers are quoted only from their `error` fields.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidName { what: &'static str, value: String, reason: &'static str },
    #[error("{0}")]
    Invalid(String),
    #[error("no secret {0}")]
    NotFound(String),
    #[error("`{name}` is in several namespaces: {namespaces}")]
    Ambiguous { name: String, namespaces: String },
    #[error("{what} {}: {source}", path.display())]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("cannot unlock {}: {reason}", path.display())]
    WrongKey { path: PathBuf, reason: String, fix: String },
    #[error("{} is damaged: {detail}; it was left as it was", path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("{} failed its authenticity check: {reason}; it was left as it was", path.display())]
    Forged { path: PathBuf, reason: &'static str },
    #[error("the {backend} backend is not available: {reason}")]
    Unavailable { backend: &'static str, reason: String, fix: String },
    #[error("another ward process has held the lock {} for {secs} s", path.display())]
    LockTimeout { path: PathBuf, secs: u64 },
    #[error("{} is readable by other users (mode {mode:o})", path.display())]
    Permissions { path: PathBuf, mode: u32 },
    #[error("no passphrase: {0}")]
    NoPassphrase(String),
    #[error("unresolved reference{}: {}", if .0.len() == 1 { "" } else { "s" }, .0.join(", "))]
    Unresolved(Vec<String>),
    #[error("{0}")]
    Template(String),
    #[error("Vault answered {status} for {path}: {message}")]
    Vault { status: u16, path: String, message: String },
    #[error("refreshing {id} failed: {reason}")]
    Refresh { id: String, reason: String },
    #[error("config {}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("encryption failed: {0}")]
    Encrypt(String),
}

impl Error {
    pub fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { what, path, source }
    }

    /// Whether this is a missing entry (exit code 5 in the CLI).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }

    /// What the user can do about it, in one line.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotFound(_) => Some("see what is stored with `ward secret list`".into()),
            Self::Ambiguous { .. } => Some("pass --namespace NS, or write NS/NAME".into()),
            Self::WrongKey { fix, .. } | Self::Unavailable { fix, .. } => Some(fix.clone()),
            Self::Damaged { .. } => Some(
                "restore the file from a backup or an export (`ward secret import FILE`); ward will not overwrite it"
                    .into(),
            ),
            Self::Forged { .. } => Some(
                "if you did not change it yourself, someone who can write to it did: restore it from a backup or an export (`ward secret import FILE`) and check who can write there"
                    .into(),
            ),
            Self::LockTimeout { .. } => {
                Some("wait for the other ward command to finish; if none is running, try again".into())
            }
            Self::Permissions { path, .. } => Some(format!("run `chmod 600 {}`", path.display())),
            Self::NoPassphrase(_) => {
                Some("set WARD_PASSPHRASE, or run the command on a terminal to be asked".into())
            }
            Self::Unresolved(_) => Some(
                "store them with `ward secret set NAME --namespace NS`, or escape a literal `${` as `$${`".into(),
            ),
            Self::Vault { status: 403, .. } => {
                Some("check VAULT_TOKEN (or BAO_TOKEN) and that its policy covers the mount and prefix".into())
            }
            Self::Refresh { .. } => Some(
                "sign in again with the provider and store the new tokens with `ward secret set NAME --type oauth`"
                    .into(),
            ),
            Self::Config { .. } => Some("fix or remove that entry in the config file".into()),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
