//! `ward auth …`: the token this profile uses.

use clap::{Args, Subcommand};

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
