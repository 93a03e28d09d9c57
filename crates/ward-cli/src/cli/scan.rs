//! `ward scan [PATH…] [--git] [--revoke]`.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to search (default: the current directory).
    /// Directories are searched recursively, skipping `.git`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also search the git history of each PATH: every blob of every
    /// commit on every branch and tag (`git log --all -p`), deleted ones
    /// included.
    #[arg(long)]
    pub git: bool,
    /// Report every token found to the server (`POST /v1/leaks`), which
    /// revokes it and tells its owner. No login needed: holding a token is
    /// the authority to end it.
    #[arg(long)]
    pub revoke: bool,
}
