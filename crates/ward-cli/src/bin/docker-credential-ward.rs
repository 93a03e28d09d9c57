//! `docker-credential-ward`: docker's credential-helper protocol over the
//! ward secret store (see `ward_secrets::docker`). Put it on PATH and set
//! `"credsStore": "ward"` in `~/.docker/config.json`.
//!
//! Docker runs helpers without a terminal, so the store is opened with
//! what the environment gives: `WARD_PROFILE`, `WARD_CONFIG`,
//! `WARD_BACKEND`, `WARD_PASSPHRASE`. Errors are printed on stdout, where
//! docker reads them, and exit 1.

use std::io::{Read, Write};
use std::process::ExitCode;
use ward_secrets::backend::file::key::EnvPassphrase;
use ward_secrets::config::{Config, Paths};
use ward_secrets::{BackendKind, docker, open};

fn main() -> ExitCode {
    let operation = std::env::args().nth(1).unwrap_or_default();
    if operation.is_empty() || operation == "--help" || operation == "-h" {
        eprintln!("usage: docker-credential-ward <store|get|erase|list|version>");
        return ExitCode::from(2);
    }
    match run(&operation) {
        Ok(answer) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(answer.stdout.as_bytes());
            let _ = stdout.flush();
            if answer.failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(err) => {
            println!("{err}");
            if let Some(hint) = err.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn run(operation: &str) -> ward_secrets::Result<docker::Answer> {
    let mut input = String::new();
    if operation != "list" && operation != "version" {
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(ward_secrets::Error::io("cannot read", std::path::PathBuf::from("stdin")))?;
    }
    let input = zeroize::Zeroizing::new(input);
    let paths = Paths::from_env(env("WARD_CONFIG").map(Into::into))?;
    let config = Config::load(paths, env("WARD_PROFILE").as_deref())?;
    let requested = env("WARD_BACKEND").map(|b| b.parse::<BackendKind>()).transpose()?;
    let opened = open::open(&config, requested, Box::new(EnvPassphrase))?;
    if operation == "store" && open::pin(&config, &opened.store)? {
        eprintln!("note: ward now keeps its secrets in the {} backend", opened.store.kind());
    }
    docker::run(operation, &opened.store, &input)
}
