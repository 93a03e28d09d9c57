//! `ward keys …`: the keys that sign agent tokens.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the signing keys and their status.
    List,
    /// Add a new signing key for new tokens; older keys keep verifying (admins).
    Rotate,
    /// Retire a key: every token it signed stops verifying, for good (admins).
    Retire(RetireKeyArgs),
}

#[derive(Debug, Args)]
pub struct RetireKeyArgs {
    /// The key id (`key_…`), from `ward keys list`.
    pub kid: String,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, visible_alias = "force")]
    pub confirm: bool,
}
