//! `ward run -- CMD`.

use clap::Args;
use std::path::PathBuf;

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
