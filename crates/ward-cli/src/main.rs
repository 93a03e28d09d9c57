//! `ward`: the server (`ward server`) and the CLI that talks to it.
//!
//! `main` parses the command line and reports failures (`report`: stderr,
//! and with `-o json` an error object on stdout); `run` hands `ward server`
//! to its own module (which owns its runtime), prints completions and man
//! pages without touching any profile, and runs every other command on a
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
mod report;
mod secret_store;
mod session;

use std::process::ExitCode;

/// mimalloc gives memory back to the OS after a burst (argon2 checks hold
/// ~19 MiB each); glibc's per-thread arenas kept it. Measured in
/// `bench/login-burst.sh`, figures in docs/PERFORMANCE.md.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::inject::inject_out_alias(std::env::args_os().collect());
    let cli = match cli::parse_from(&args) {
        Ok(cli) => cli,
        // --help and --version land here too, with exit code 0.
        Err(err) => return report::report_usage(&err, cli::requested_output(&args)),
    };
    let format = cli.global.output;
    match run(cli) {
        Ok(code) => code,
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => report::report(&err, format),
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        cli::Command::Server(args) => return commands::server::run(args),
        cli::Command::Completions(args) => return commands::manual::completions(&args),
        cli::Command::Man(args) => return commands::manual::man(&args),
        _ => {}
    }
    let app = app::App::new(&cli.global, app::may_create_profile(&cli.command))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(commands::run(&app, cli.command))
}
