//! One module per command group; each command takes the [`App`] and its
//! parsed arguments, prints its result, and returns the exit code.

mod approvals;
mod audit;
mod auth;
mod authorize;
mod git_credential;
mod health;
mod inject;
mod keys;
mod login;
pub mod manual;
mod mint;
mod password;
mod run;
mod scan;
mod secret;
mod secret_admin;
pub mod server;
mod service_user;
mod token;
mod user;
mod verify;

use crate::app::App;
use crate::cli::Command;
use crate::cli::approvals::ApprovalsCommand;
use crate::cli::auth::AuthCommand;
use crate::cli::keys::KeysCommand;
use crate::cli::mint::MintCommand;
use crate::cli::secret::SecretCommand;
use crate::cli::service_user::ServiceUserCommand;
use crate::cli::token::TokenCommand;
use crate::cli::user::UserCommand;
use std::process::ExitCode;

/// Runs a client command (everything but `ward server`).
pub async fn run(app: &App, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Login(args) => login::login(app, args).await,
        Command::Logout(args) => login::logout(app, args).await,
        Command::Whoami => login::whoami(app).await,
        Command::Health => health::health(app).await,
        Command::Passwd(args) => password::passwd(app, args).await,
        Command::Token(command) => match command {
            TokenCommand::Create(args) => token::create(app, args).await,
            TokenCommand::List(args) => token::list(app, args).await,
            TokenCommand::Show { id } => token::show(app, &id).await,
            TokenCommand::Revoke(args) => token::revoke(app, args).await,
            TokenCommand::Delete(args) => token::delete(app, args).await,
            TokenCommand::Rotate(args) => token::rotate(app, args).await,
            TokenCommand::Verify(args) => verify::verify(app, args).await,
            TokenCommand::Idle(args) => token::idle(app, args).await,
            TokenCommand::Identify(args) => token::identify(app, args).await,
        },
        Command::User(command) => match command {
            UserCommand::Create(args) => user::create(app, args).await,
            UserCommand::List => user::list(app).await,
            UserCommand::Tokens { name } => user::tokens(app, &name).await,
            UserCommand::RevokeTokens(args) => user::revoke_tokens(app, args).await,
            UserCommand::Delete(args) => user::delete(app, args).await,
            UserCommand::SetPassword(args) => password::set_password(app, args).await,
        },
        Command::ServiceUser(command) => match command {
            ServiceUserCommand::Create(args) => service_user::create(app, args).await,
            ServiceUserCommand::List => service_user::list(app).await,
            ServiceUserCommand::RotateKey(args) => service_user::rotate_key(app, args).await,
            ServiceUserCommand::Delete(args) => service_user::delete(app, args).await,
        },
        Command::Server(_) => anyhow::bail!("`ward server` runs outside the client runtime"),
        Command::Completions(args) => manual::completions(&args),
        Command::Man(args) => manual::man(&args),
        Command::Audit(args) => audit::run(app, args).await,
        Command::Scan(args) => scan::scan(app, args).await,
        Command::Secret(command) => match command {
            SecretCommand::Set(args) => secret::set(app, args),
            SecretCommand::Get(args) => secret::get(app, args),
            SecretCommand::List(args) => secret::list(app, args),
            SecretCommand::Delete(args) => secret::delete(app, args),
            SecretCommand::Clear(args) => secret::clear(app, args),
            SecretCommand::Backends => secret_admin::backends(app),
            SecretCommand::Export(args) => secret_admin::export(app, args),
            SecretCommand::Import(args) => secret_admin::import(app, args),
        },
        Command::Inject(args) => inject::inject(app, args),
        Command::Run(args) => run::run(app, args),
        Command::Auth(AuthCommand::SetToken(args)) => auth::set_token(app, args).await,
        Command::Auth(AuthCommand::Status) => auth::status(app).await,
        Command::GitCredential(args) => git_credential::run(app, args),
        Command::Mint(args) => match args.command {
            None => mint::mint(app, args).await,
            Some(MintCommand::Verify(args)) => mint::verify(app, args).await,
            Some(MintCommand::List(args)) => mint::list(app, args).await,
            Some(MintCommand::Revoke(args)) => mint::revoke(app, args).await,
        },
        Command::Keys(command) => match command {
            KeysCommand::List => keys::list(app).await,
            KeysCommand::Rotate => keys::rotate(app).await,
            KeysCommand::Retire(args) => keys::retire(app, args).await,
        },
        Command::Authorize(args) => authorize::authorize(app, args).await,
        Command::Approvals(command) => match command {
            ApprovalsCommand::List(args) => approvals::list(app, args).await,
            ApprovalsCommand::Approve { id } => approvals::approve(app, &id).await,
            ApprovalsCommand::Deny { id, reason } => approvals::deny(app, &id, reason).await,
        },
    }
}
