//! Durable file replacement: a temp file in the same directory, created with
//! mode 0600 (never wider, not even for an instant), fsync, rename over the
//! target, fsync of the directory. A crash or a kill at any point leaves the
//! old file or the new one, never a mix; a leftover temp file is removed by
//! the next writer (writers hold the store lock, so any temp file they find
//! belongs to a writer that died).

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

const TEMP_SUFFIX: &str = ".ward-tmp";

/// Replaces `path` with `bytes` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    create_private_dir(dir)?;
    remove_stale_temps(path);
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.{}{TEMP_SUFFIX}", std::process::id()));
    let result = private_options()
        .open(&temp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    if let Err(source) = result {
        let _ = fs::remove_file(&temp);
        return Err(Error::Io { what: "cannot write", path: path.to_owned(), source });
    }
    // Makes the rename durable; not every platform can open a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Options that create a new file readable by its owner only.
pub fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates `dir` (and parents) with mode 0700 when missing.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(Error::io("cannot create", dir))
}

/// Refuses a key file that others can read.
pub fn check_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).map_err(Error::io("cannot read", path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Error::Permissions { path: path.to_owned(), mode: mode & 0o777 });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with(&prefix) && file.ends_with(TEMP_SUFFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn written_files_are_private_and_replace_the_old_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("f");
        write(&path, b"old").expect("writes");
        write(&path, b"new").expect("writes again");
        assert_eq!(fs::read(&path).expect("reads"), b"new");
        let mode = fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(dir.path().join("sub")).expect("meta").permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }

    #[test]
    fn a_dead_writers_temp_file_is_cleaned_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        let stale = dir.path().join(format!(".f.999{TEMP_SUFFIX}"));
        fs::write(&stale, b"half").expect("writes");
        write(&path, b"x").expect("writes");
        assert!(!stale.exists());
        let names: Vec<_> =
            fs::read_dir(dir.path()).expect("lists").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, ["f"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key");
        fs::write(&path, b"k").expect("writes");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = check_private(&path).expect_err("refused");
        assert!(err.hint().is_some_and(|h| h.contains("chmod 600")));
    }
}
