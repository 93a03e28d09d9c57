//! Secrets and names typed by the user: hidden prompts on a terminal, the
//! first line of stdin otherwise. Secrets stay in zeroized buffers.

use crate::exit::CliError;
use std::io::{self, BufRead, IsTerminal, Write};
use zeroize::Zeroizing;

pub fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
}

/// The first line of stdin without its line ending; `what` names it in the
/// error when stdin is empty ("the password").
pub fn first_stdin_line(what: &str) -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    io::stdin().lock().read_line(&mut line)?;
    let text = Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_owned());
    if text.is_empty() {
        return Err(
            CliError::usage(format!("stdin is empty: expected {what} on its first line"), None).into()
        );
    }
    Ok(text)
}

/// A visible prompt on stderr, answered on stdin.
pub fn prompt_line(prompt: &str) -> anyhow::Result<String> {
    let mut err = io::stderr().lock();
    write!(err, "{prompt}")?;
    err.flush()?;
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

/// A hidden prompt on the terminal.
pub fn prompt_hidden(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    Ok(Zeroizing::new(rpassword::prompt_password(prompt)?))
}

/// A password from stdin (`--password-stdin`), or a hidden prompt on a
/// terminal (asked twice when `confirm_twice`), or a usage error.
pub fn password(from_stdin: bool, confirm_twice: bool) -> anyhow::Result<Zeroizing<String>> {
    if from_stdin {
        return first_stdin_line("the password");
    }
    if !stdin_is_terminal() {
        return Err(CliError::usage(
            "no terminal to ask for the password on",
            Some("pipe the password in and pass --password-stdin"),
        )
        .into());
    }
    password_prompt("Password: ", confirm_twice)
}

/// A hidden prompt for a password on a terminal (asked twice when
/// `confirm_twice`), or a usage error that names `--password-stdin`.
pub fn password_prompt(prompt: &str, confirm_twice: bool) -> anyhow::Result<Zeroizing<String>> {
    if !stdin_is_terminal() {
        return Err(CliError::usage(
            "no terminal to ask for the password on",
            Some("pipe the password in and pass --password-stdin"),
        )
        .into());
    }
    let first = prompt_hidden(prompt)?;
    if confirm_twice && *prompt_hidden("Repeat password: ")? != *first {
        return Err(CliError::usage("the two passwords differ", Some("run the command again")).into());
    }
    Ok(first)
}

/// A raw token from stdin (or a hidden prompt on a terminal), refused here
/// when it is no ward token, so a typo is never sent.
pub fn raw_token() -> anyhow::Result<Zeroizing<String>> {
    let token = if stdin_is_terminal() { prompt_hidden("Token: ")? } else { first_stdin_line("the token")? };
    let token = Zeroizing::new(token.trim().to_owned());
    ward_core::token::inspect(&token).map_err(|e| CliError::usage(format!("{e}"), None))?;
    Ok(token)
}
