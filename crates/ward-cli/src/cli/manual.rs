//! `ward completions SHELL` and `ward man [--dir DIR]`: shell completions
//! and man pages, both generated from the one clap definition
//! ([`super::command`]), so they cannot drift from what `ward` parses.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for; source the output from its startup file.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (ward.1, ward-token.1, ward-token-create.1 …)
    /// into this directory instead of printing ward.1 on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
