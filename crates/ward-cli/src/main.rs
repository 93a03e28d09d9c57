//! `ward`: the server (`ward server`) and the CLI that talks to it.
//!
//! `main` only reports: `run` parses the command line, hands `ward server` to
//! its own module (which owns its runtime), and runs every other command on a
//! single-threaded runtime. A closed stdout is success, as for any Unix tool.

#![expect(
    clippy::disallowed_methods,
    reason = "the CLI runs on the holder's machine: expiry shown and stored entries are judged on its wall clock"
)]

mod app;
mod cli;
mod commands;
mod confirm;
mod exit;
mod input;
mod output;
mod secret_store;
mod session;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// mimalloc gives memory back to the OS after a burst (argon2 checks hold
/// ~19 MiB each); glibc's per-thread arenas kept it. Measured in
/// `bench/login-burst.sh`, figures in docs/PERFORMANCE.md.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) if secrets_error(&err).is_some() => report_secrets_error(&err),
        Err(err) => {
            let (message, hint) = exit::describe(&err);
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {message}");
            if let Some(hint) = hint {
                let _ = writeln!(stderr, "hint: {hint}");
            }
            exit::code_for(&err).into()
        }
    }
}

fn secrets_error(err: &anyhow::Error) -> Option<&ward_secrets::Error> {
    err.chain().find_map(|e| e.downcast_ref::<ward_secrets::Error>())
}

/// A secret-store error: the context a command added, the error, its hint;
/// exit 5 for a missing secret, 1 otherwise.
fn report_secrets_error(err: &anyhow::Error) -> ExitCode {
    let Some(secrets) = secrets_error(err) else { return exit::Exit::Error.into() };
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {err:#}");
    if let Some(hint) = secrets.hint() {
        let _ = writeln!(stderr, "hint: {hint}");
    }
    if secrets.is_not_found() { exit::Exit::NotFound } else { exit::Exit::Error }.into()
}

fn run() -> anyhow::Result<ExitCode> {
    let args = cli::inject::inject_out_alias(std::env::args_os().collect());
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version land here too, with exit code 0.
            let _ = err.print();
            return Ok(ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2)));
        }
    };
    if let cli::Command::Server(args) = cli.command {
        return commands::server::run(args);
    }
    let app = app::App::new(&cli.global, app::may_create_profile(&cli.command))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(commands::run(&app, cli.command))
}
