//! The `[y/N]` question of destructive commands.
//!
//! `--confirm` skips it. Without the flag the question is asked on a
//! terminal; with no terminal on stdin the command refuses (exit 2). The
//! refusal is checked first, before any network call, so a script that
//! forgot `--confirm` changes nothing and needs no server to find out.
//! On a terminal the target is fetched first so the question can name it.

use crate::exit::CliError;
use std::io::{self, BufRead, IsTerminal, Write};

/// Fails with [`CliError::NeedsConfirmation`] when a question would be
/// needed but cannot be asked. `action` reads like "revoke token tok_1".
pub fn ensure_askable(confirmed: bool, action: &str) -> Result<(), CliError> {
    if confirmed || io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(CliError::NeedsConfirmation { action: action.to_owned() })
    }
}

/// Asks `question [y/N]` on stderr and reads the answer from stdin. Only
/// `y` or `yes` (any case) is a yes; end of input is a no.
pub fn ask(question: &str) -> anyhow::Result<bool> {
    let mut err = io::stderr().lock();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(is_yes(&answer))
}

/// Tells the user nothing happened; the command then exits 1.
pub fn cancelled() -> anyhow::Result<std::process::ExitCode> {
    writeln!(io::stderr(), "Cancelled: nothing was changed.")?;
    Ok(crate::exit::Exit::Error.into())
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_or_yes_is_a_yes() {
        for yes in ["y\n", "Y", " yes \r\n", "YES"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "sure"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn the_flag_always_passes() {
        assert!(ensure_askable(true, "revoke token tok_1").is_ok());
    }
}
