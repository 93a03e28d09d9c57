//! `ward user …`.

use super::one_of;
use clap::{Args, Subcommand};
use ward_api::Role;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is prompted for twice, or read from stdin.
    Create(CreateUserArgs),
    /// List users.
    List,
    /// List a user's tokens.
    Tokens {
        /// The user, by name or id.
        name: String,
    },
    /// Revoke every token of a user.
    RevokeTokens(DestructiveNameArgs),
    /// Delete a user and revoke all their tokens.
    Delete(DestructiveNameArgs),
    /// Set another user's password (admins); all their sessions end.
    SetPassword(SetPasswordArgs),
}

#[derive(Debug, Args)]
pub struct SetPasswordArgs {
    /// The user, by name or id.
    pub name: String,
    /// Read the new password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    /// The user name: a-z, 0-9, '.', '_' or '-'.
    pub name: String,
    #[arg(long, value_parser = one_of(&[Role::Admin, Role::User], Role::as_str), default_value_t = Role::User)]
    pub role: Role,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

/// A user name (or id) and the flag that skips the `[y/N]` question.
#[derive(Debug, Args)]
pub struct DestructiveNameArgs {
    /// The name or id (`usr_…`).
    pub name: String,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, visible_alias = "force")]
    pub confirm: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, parse};

    #[test]
    fn the_role_defaults_to_user_and_takes_admin() {
        let role = |args: &[&str]| match parse(args).map(|cli| cli.command) {
            Ok(Command::User(UserCommand::Create(args))) => Some(args.role),
            _ => None,
        };
        assert_eq!(role(&["user", "create", "ann"]), Some(Role::User));
        assert_eq!(role(&["user", "create", "ann", "--role", "admin"]), Some(Role::Admin));
        assert_eq!(role(&["user", "create", "ann", "--role", "service"]), None);
    }
}
