//! `ward git-credential`.

use clap::Args;

#[derive(Debug, Args)]
pub struct GitCredentialArgs {
    /// get, store or erase (git passes it; others are ignored).
    pub operation: String,
}
