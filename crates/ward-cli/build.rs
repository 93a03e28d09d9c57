//! Puts the commit `ward --version` shows into `WARD_BUILD_COMMIT`:
//! `WARD_BUILD_COMMIT` from the environment if set (the Dockerfile passes it,
//! since its build context has no `.git`), else `git rev-parse --short HEAD`,
//! else "unknown" (a source tarball, no git).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=WARD_BUILD_COMMIT");
    let commit = std::env::var("WARD_BUILD_COMMIT")
        .ok()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=WARD_BUILD_COMMIT={commit}");
}

/// The short commit of HEAD, and rerun-if-changed on the files that move
/// when HEAD does: HEAD itself, the branch it names, and packed-refs. In a
/// worktree these live in different directories, so git says where.
fn git_commit() -> Option<String> {
    let commit = git(&["rev-parse", "--short", "HEAD"])?;
    for name in ["HEAD", "packed-refs"] {
        watch(name);
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(&branch);
    }
    Some(commit)
}

fn watch(git_path: &str) {
    if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", git_path])
        && PathBuf::from(&path).exists()
    {
        println!("cargo:rerun-if-changed={path}");
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}
