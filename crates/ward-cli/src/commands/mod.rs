//! One module per command group; each command takes the [`App`] and its
//! parsed arguments, prints its result, and returns the exit code.

mod login;
mod service_user;
mod shown_once;
mod token;
mod user;
mod verify;

use crate::app::App;
use crate::cli::{Command, ServiceUserCommand, TokenCommand, UserCommand};
use std::process::ExitCode;

/// Runs a client command (everything but `ward server`).
pub async fn run(app: &App, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Login(args) => login::login(app, args).await,
        Command::Logout => login::logout(app).await,
        Command::Whoami => login::whoami(app).await,
        Command::Token(command) => match command {
            TokenCommand::Create(args) => token::create(app, args).await,
            TokenCommand::List(args) => token::list(app, args).await,
            TokenCommand::Show { id } => token::show(app, &id).await,
            TokenCommand::Revoke(args) => token::revoke(app, args).await,
            TokenCommand::Delete(args) => token::delete(app, args).await,
            TokenCommand::Rotate(args) => token::rotate(app, args).await,
            TokenCommand::Verify(args) => verify::verify(app, args).await,
        },
        Command::User(command) => match command {
            UserCommand::Create(args) => user::create(app, args).await,
            UserCommand::List => user::list(app).await,
            UserCommand::Tokens { name } => user::tokens(app, &name).await,
            UserCommand::RevokeTokens(args) => user::revoke_tokens(app, args).await,
            UserCommand::Delete(args) => user::delete(app, args).await,
        },
        Command::ServiceUser(command) => match command {
            ServiceUserCommand::Create(args) => service_user::create(app, args).await,
            ServiceUserCommand::List => service_user::list(app).await,
            ServiceUserCommand::RotateKey(args) => service_user::rotate_key(app, args).await,
            ServiceUserCommand::Delete(args) => service_user::delete(app, args).await,
        },
        Command::Server(_) => anyhow::bail!("`ward server` runs outside the client runtime"),
    }
}
