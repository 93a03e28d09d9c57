//! `ward inject`, and the `-o FILE` it takes.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InjectArgs {
    /// The template to render.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write it (mode 0600); default stdout. `-o FILE` works too
    /// (see [`inject_out_alias`]).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How to escape each value for where it lands; default from the
    /// template's name (app.json.tpl is json), else raw.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

/// `ward inject --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Inside a string: escaped; elsewhere: a whole JSON string.
    Json,
    /// Quoted, escaped or indented for its place; refused where it cannot fit.
    Yaml,
    /// Inside a "…" string: escaped; elsewhere: a whole "…" string.
    Toml,
    /// POSIX sh quoting, for `. ./file.env`.
    Env,
    /// Values as they are: NOT escaped, the output may not parse.
    Raw,
}

impl From<FormatArg> for ward_secrets::template::Format {
    fn from(f: FormatArg) -> Self {
        use ward_secrets::template::Format;
        match f {
            FormatArg::Json => Format::Json,
            FormatArg::Yaml => Format::Yaml,
            FormatArg::Toml => Format::Toml,
            FormatArg::Env => Format::Env,
            FormatArg::Raw => Format::Raw,
        }
    }
}

/// `ward inject -o FILE` names the output file, as `-o` does for most file
/// tools; everywhere else `-o` is the global `--output` format. clap cannot
/// give one short flag two meanings, so before parsing, a `-o` after the
/// `inject` subcommand is rewritten to `--out`.
pub fn inject_out_alias(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const GLOBAL_WITH_VALUE: [&str; 7] =
        ["--server", "--profile", "--config", "--token", "--backend", "--output", "-o"];
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        if GLOBAL_WITH_VALUE.contains(&arg.as_ref()) {
            i += 2;
        } else if arg.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    if args.get(i).is_none_or(|a| a != "inject") {
        return args;
    }
    let mut out = args;
    for arg in out.iter_mut().skip(i + 1) {
        if arg == "--" {
            break;
        }
        if arg == "-o" {
            *arg = "--out".into();
        } else if let Some(file) = arg.to_str().and_then(|a| a.strip_prefix("-o")).map(str::to_owned) {
            *arg = format!("--out={file}").into();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(args: &[&str]) -> Vec<String> {
        inject_out_alias(args.iter().map(Into::into).collect())
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn dash_o_after_inject_is_the_output_file() {
        assert_eq!(
            rewrite(&["ward", "inject", "-i", "t", "-o", "f"]),
            ["ward", "inject", "-i", "t", "--out", "f"]
        );
        assert_eq!(
            rewrite(&["ward", "--profile", "p", "inject", "-of"]),
            ["ward", "--profile", "p", "inject", "--out=f"]
        );
    }

    #[test]
    fn dash_o_elsewhere_is_left_alone() {
        for args in [
            &["ward", "-o", "json", "secret", "list"][..],
            &["ward", "secret", "set", "inject", "-o", "json"],
        ] {
            assert_eq!(rewrite(args), args);
        }
    }
}
