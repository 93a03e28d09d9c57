//! `ward scan`: finds ward tokens in files and in git history, reports
//! file, line and commit, and with `--revoke` sends them to the server to
//! be ended (`POST /v1/leaks`).
//!
//! Every candidate passes the token checksum (`ward_core::leak::find`), so
//! nothing that merely looks like a token is reported. A token is never
//! printed whole: only its display start (`ward_p_Ab3x…`). Exit codes: 0
//! nothing found, 6 tokens found (after `--revoke`, too), 1 an error.
//!
//! History is read with the `git` CLI: `git log --all -p --text -U0
//! --diff-merges=first-parent` lists every line every commit added (the
//! root commit's whole tree included), on every ref; a token that a later
//! commit deleted is still found at the commit that added it. Each
//! finding is reported once per (token, file, commit).

use crate::app::App;
use crate::cli::scan::ScanArgs;
use crate::exit::Exit;
use crate::output;
use crate::output::table::Table;
use anyhow::Context;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use ward_api::{Leak, LeakOutcome, LeakReport, MAX_LEAKS};
use ward_core::leak::{Found, find};

/// One place a token was found.
#[derive(Debug, Serialize)]
struct Finding {
    /// The display start: prefix, kind and four characters.
    token: String,
    #[serde(rename = "type")]
    kind: String,
    file: String,
    line: usize,
    /// The commit that added it, when found in history.
    commit: Option<String>,
    /// After `--revoke`: `revoked`, `already_ended` or `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<LeakOutcome>,
    #[serde(skip)]
    secret: Found,
}

impl Finding {
    fn location(&self) -> String {
        match &self.commit {
            Some(c) => format!("{}:{} (commit {})", self.file, self.line, &c[..c.len().min(12)]),
            None => format!("{}:{}", self.file, self.line),
        }
    }
}

#[derive(Debug, Serialize)]
struct ScanReport {
    findings: Vec<Finding>,
}

pub async fn scan(app: &App, args: ScanArgs) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths };
    let mut findings = Vec::new();
    for path in &paths {
        scan_path(path, &mut findings)?;
        if args.git {
            scan_history(path, &mut findings)?;
        }
    }
    if args.revoke && !findings.is_empty() {
        revoke(app, &mut findings).await?;
    }
    let report = ScanReport { findings };
    output::emit(app.output, &report, || table(&report.findings))?;
    Ok(if report.findings.is_empty() { Exit::Ok } else { Exit::Found }.into())
}

fn push(findings: &mut Vec<Finding>, found: Found, file: String, commit: Option<String>) {
    findings.push(Finding {
        token: format!("{}…", found.display_start()),
        kind: found.kind.to_string(),
        file,
        line: found.line,
        commit,
        outcome: None,
        secret: found,
    });
}

/// Files under `path` (or `path` itself), `.git` directories skipped.
fn scan_path(path: &Path, findings: &mut Vec<Finding>) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            if entry.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            scan_path(&entry, findings)?;
        }
    } else if meta.is_file() {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        for found in find(&bytes) {
            push(findings, found, path.display().to_string(), None);
        }
    }
    Ok(())
}

/// Every line every commit added, on every ref of the repository at `path`.
fn scan_history(path: &Path, findings: &mut Vec<Finding>) -> anyhow::Result<()> {
    let dir = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "--all", "-p", "--text", "-U0", "--no-color", "--no-ext-diff", "--no-renames"])
        .args(["--diff-merges=first-parent", "--format=commit %H"])
        .output()
        .context("cannot run git: install it, or scan without --git")?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        anyhow::bail!(
            "git log failed in {}: {}; is it a git repository? (scan without --git otherwise)",
            dir.display(),
            why.trim()
        );
    }
    let mut seen: HashSet<(ward_core::TokenHash, String, String)> = HashSet::new();
    let (mut commit, mut file, mut line) = (String::new(), String::new(), 0usize);
    // Between `diff --git` and the first `@@` a `+++ ` line names the file;
    // after it, a `+` line is an added line, whatever it holds.
    let mut in_header = false;
    for raw in out.stdout.split(|&b| b == b'\n') {
        if let Some(hash) = raw.strip_prefix(b"commit ") {
            commit = String::from_utf8_lossy(hash).trim().to_owned();
            in_header = false;
        } else if raw.starts_with(b"diff --git ") || raw.starts_with(b"diff --cc ") {
            in_header = true;
        } else if raw.starts_with(b"@@") {
            line = hunk_start(raw).unwrap_or(1);
            in_header = false;
        } else if in_header {
            if let Some(name) = raw.strip_prefix(b"+++ ") {
                let name = String::from_utf8_lossy(name);
                file = name.strip_prefix("b/").unwrap_or(&name).to_owned();
            }
        } else if let Some(added) = raw.strip_prefix(b"+") {
            for mut found in find(added) {
                found.line = line;
                if seen.insert((found.hash(), file.clone(), commit.clone())) {
                    push(findings, found, file.clone(), Some(commit.clone()));
                }
            }
            line += 1;
        }
    }
    Ok(())
}

/// The new-file start line of a hunk header `@@ -a,b +c,d @@`.
fn hunk_start(header: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(header).ok()?;
    let plus = text.split(' ').find(|part| part.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

/// Sends each distinct token once, with the first place it was found; the
/// outcome is copied to every finding of it.
async fn revoke(app: &App, findings: &mut [Finding]) -> anyhow::Result<()> {
    let mut firsts: Vec<usize> = Vec::new();
    let mut seen = HashSet::new();
    for (i, f) in findings.iter().enumerate() {
        if seen.insert(f.secret.hash()) {
            firsts.push(i);
        }
    }
    let client = app.client_with_optional_token()?;
    for chunk in firsts.chunks(MAX_LEAKS) {
        let leaks = chunk
            .iter()
            .map(|&i| Leak {
                token: findings[i].secret.expose().to_owned(),
                location: Some(findings[i].location()),
            })
            .collect();
        let answer = client.report_leaks(&LeakReport { leaks }).await.context("reporting leaked tokens")?;
        for (&i, result) in chunk.iter().zip(answer.results) {
            let hash = findings[i].secret.hash();
            for f in findings.iter_mut().filter(|f| f.secret.hash() == hash) {
                f.outcome = Some(result.outcome);
            }
        }
    }
    Ok(())
}

fn table(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "No ward tokens found.".to_owned();
    }
    let revoked = findings.iter().any(|f| f.outcome.is_some());
    let mut table = if revoked {
        Table::new(["Token", "Type", "File", "Line", "Commit", "Outcome"])
    } else {
        Table::new(["Token", "Type", "File", "Line", "Commit"])
    };
    for f in findings {
        let mut row = vec![
            f.token.clone(),
            f.kind.clone(),
            f.file.clone(),
            f.line.to_string(),
            f.commit.as_deref().map_or("-".to_owned(), |c| c[..c.len().min(12)].to_owned()),
        ];
        if revoked {
            row.push(match f.outcome {
                Some(LeakOutcome::Revoked) => "revoked".to_owned(),
                Some(LeakOutcome::AlreadyEnded) => "already ended".to_owned(),
                Some(LeakOutcome::Unknown) => "unknown to this server".to_owned(),
                None => "-".to_owned(),
            });
        }
        table.row(row);
    }
    format!("{}\n{} finding(s); a token is shown by its start only.", table.render(), findings.len())
}

#[cfg(test)]
mod tests {
    use super::hunk_start;

    #[test]
    fn a_hunk_header_gives_the_new_files_first_line() {
        assert_eq!(hunk_start(b"@@ -0,0 +1,3 @@"), Some(1));
        assert_eq!(hunk_start(b"@@ -10 +12 @@ fn main()"), Some(12));
        assert_eq!(hunk_start(b"@@ garbage"), None);
    }
}
