//! `ward git-credential get | store | erase`: git's credential-helper
//! protocol over the secret store (see `ward_secrets::git`). Configure with
//! `git config --global credential.helper '!ward git-credential'`.

use crate::app::App;
use crate::cli::git_credential::GitCredentialArgs;
use std::io::Read;
use std::process::ExitCode;
use ward_secrets::oauth::HttpRefresher;

pub fn run(app: &App, args: GitCredentialArgs) -> anyhow::Result<ExitCode> {
    let op = args.operation.as_str();
    if !matches!(op, "get" | "store" | "erase") {
        // git asks helpers to ignore operations they do not know.
        return Ok(ExitCode::SUCCESS);
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let input = zeroize::Zeroizing::new(input);
    if op == "store" {
        // Refused before the store is opened (and its backend pinned).
        ward_secrets::git::Request::parse(&input).check()?;
    }
    let store = if op == "get" { app.store()? } else { app.store_for_write()? };
    let answer = ward_secrets::git::run(op, store, &HttpRefresher::default(), &input)?;
    crate::output::write_stdout(&answer)?;
    Ok(ExitCode::SUCCESS)
}
