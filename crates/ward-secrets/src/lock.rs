//! The store lock: an exclusive advisory lock on a lock file beside the
//! data, held by every writer for its whole read-modify-write and by an
//! OAuth refresh while it re-reads, refreshes and saves. It works across
//! processes (`flock` on Unix, `LockFileEx` on Windows) and is released
//! when the guard drops or the process dies.

use crate::atomic;
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a command waits for another one to finish.
const WAIT: Duration = Duration::from_secs(60);

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Takes the lock on `path`, creating the file (0600) if needed.
pub fn acquire(path: &Path) -> Result<LockGuard> {
    let file = open(path)?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    while !try_lock(&file, path)? {
        if started.elapsed() >= WAIT {
            return Err(Error::LockTimeout { path: path.to_owned(), secs: WAIT.as_secs() });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    Ok(LockGuard { file })
}

/// Takes the lock on `path` if nobody holds it (another process, or this
/// one through another guard); `None` when it is held.
pub fn try_acquire(path: &Path) -> Result<Option<LockGuard>> {
    let file = open(path)?;
    Ok(try_lock(&file, path)?.then_some(LockGuard { file }))
}

/// Whether the lock was free and is now taken.
fn try_lock(file: &File, path: &Path) -> Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(source)) => {
            Err(Error::Io { what: "cannot lock", path: path.to_owned(), source })
        }
    }
}

/// Opens (creates, 0600, in a private directory) the lock file.
fn open(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        atomic::create_private_dir(dir)?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(Error::io("cannot open the lock file", PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn try_acquire_answers_none_while_the_lock_is_held() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("store.lock");
        let held = acquire(&path).expect("locks");
        assert!(try_acquire(&path).expect("no I/O error").is_none());
        drop(held);
        assert!(try_acquire(&path).expect("no I/O error").is_some());
    }

    #[test]
    fn holders_of_the_lock_never_overlap() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = Arc::new(dir.path().join("store.lock"));
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (path, inside) = (Arc::clone(&path), Arc::clone(&inside));
                std::thread::spawn(move || {
                    let _guard = acquire(&path).expect("locks");
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders at once");
                    std::thread::sleep(Duration::from_millis(5));
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread ends");
        }
    }
}
