//! `ward completions` and `ward man`: print (or write) what clap_complete
//! and clap_mangen make of the command line definition. No server, no
//! profile, no secret store.

use crate::cli::manual::{CompletionsArgs, ManArgs};
use anyhow::Context;
use std::io::Write;
use std::process::ExitCode;

/// The completion script for `args.shell`, on stdout.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = crate::cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "ward", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `ward.1` on stdout, or a page per command written into `args.dir`.
pub fn man(args: &ManArgs) -> anyhow::Result<ExitCode> {
    let command = crate::cli::command();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        clap_mangen::generate_to(command, dir)
            .with_context(|| format!("writing man pages into {}", dir.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
