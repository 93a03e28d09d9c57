//! `ward login`, `ward logout` and `ward passwd`.

use clap::Args;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The user name (prompted for on a terminal when absent).
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Also revoke a long-lived token (auth set-token, WARD_TOKEN, --token) on the server.
    #[arg(long)]
    pub revoke: bool,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the current password from the first line of stdin and the new one from the second.
    #[arg(long)]
    pub password_stdin: bool,
}
