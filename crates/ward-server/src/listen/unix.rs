//! `--listen unix:/path`: a Unix socket that the owner and group may use
//! (mode 0660), for a reverse proxy on the same machine.
//!
//! `bind(2)` creates the socket file with mode `0777 & !umask`, so a socket
//! bound at its path and chmod'ed afterwards is open to every user for a
//! moment. Binding under a tight umask would close that window, but the
//! umask is process-wide: every other thread creating a file at that moment
//! (the SQLite database, the audit log, a tokio blocking thread) would get
//! it too, or would reset it under us. So the socket is bound in a private
//! directory made beside the path (mode 0700: nobody else can reach what
//! is inside), chmod'ed to 0660 there, and only then hard-linked to its
//! path and its staging name removed ([`Staged`]). A link, unlike a
//! rename, fails if the path was taken in the meantime, so a socket another
//! server bound there is never replaced.

use std::io::{Error, ErrorKind};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tokio::net::UnixListener;

/// Binds `path`. A socket file already there is removed only if nothing
/// answers on it (a server that died left it); a live one, or a file that
/// is not a socket, is an error and is left alone.
pub fn bind(path: &Path) -> std::io::Result<(UnixListener, FileId)> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket; remove it or pick another path", path.display()),
            ));
        }
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                return Err(Error::new(
                    ErrorKind::AddrInUse,
                    format!("a server already answers on {}", path.display()),
                ));
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => std::fs::remove_file(path)?,
            Err(e) => return Err(e),
        }
    }
    Staged::bind(path)?.publish()
}

/// A socket bound and chmod'ed to 0660 in a private directory beside its
/// path, not yet at that path. Dropped unpublished, it is removed.
struct Staged {
    dir: PathBuf,
    socket: PathBuf,
    target: PathBuf,
    listener: Option<UnixListener>,
}

impl Staged {
    fn bind(path: &Path) -> std::io::Result<Self> {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let dir = private_dir(parent)?;
        let mut staged = Self { socket: dir.join("s"), dir, target: path.to_path_buf(), listener: None };
        let listener = UnixListener::bind(&staged.socket)?;
        std::fs::set_permissions(&staged.socket, std::fs::Permissions::from_mode(0o660))?;
        staged.listener = Some(listener);
        Ok(staged)
    }

    /// Links the socket to its path (failing if something is there now) and
    /// removes the staging directory.
    fn publish(mut self) -> std::io::Result<(UnixListener, FileId)> {
        std::fs::hard_link(&self.socket, &self.target).map_err(|e| match e.kind() {
            ErrorKind::AlreadyExists => Error::new(
                ErrorKind::AddrInUse,
                format!("{} was taken by another process while ward bound it", self.target.display()),
            ),
            _ => e,
        })?;
        let file = FileId::of(&self.target)?;
        let listener = self.listener.take().ok_or_else(|| Error::other("the socket was not bound"))?;
        Ok((listener, file))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Makes a new directory of mode 0700 in `parent`, named `.ward-` and 8
/// random hex digits (short: a socket path must fit in 108 bytes).
fn private_dir(parent: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let mut last = None;
    for _ in 0..16 {
        let mut n = [0u8; 4];
        ward_core::Entropy::fill(&mut crate::entropy::OsEntropy, &mut n);
        let dir = parent.join(format!(".ward-{:08x}", u32::from_le_bytes(n)));
        // mkdir never follows a symlink or reuses a directory already there:
        // what it creates is ours.
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::other("no free name for a staging directory")))
}

/// Which file a path named when this server bound it (device, inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId(u64, u64);

impl FileId {
    fn of(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(path)?;
        Ok(Self(meta.dev(), meta.ino()))
    }
}

/// Removes the socket file at shutdown, unless the path now names another
/// file: a newer server that took the path over keeps its socket.
pub fn remove_if_ours(ours: FileId, path: &Path) {
    if FileId::of(path).is_ok_and(|now| now == ours) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stale_socket_is_replaced_and_a_live_one_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ward.sock");
        let live = bind(&path).expect("binds");
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode, 0o660);
        let err = bind(&path).expect_err("a live socket is kept");
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        drop(live);
        assert!(bind(&path).is_ok(), "a socket nobody answers on is replaced");
    }

    #[tokio::test]
    async fn shutdown_leaves_a_newer_servers_socket_at_the_same_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ward.sock");
        let (_old, old_file) = bind(&path).expect("binds");
        std::fs::remove_file(&path).expect("the path is taken over");
        let (_new, new_file) = bind(&path).expect("a newer server binds");
        remove_if_ours(old_file, &path);
        assert!(path.exists(), "the old server removed the newer server's socket");
        remove_if_ours(new_file, &path);
        assert!(!path.exists(), "its own socket is removed");
    }

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
    }

    #[tokio::test]
    async fn the_socket_is_0660_in_a_private_directory_before_it_appears_at_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ward.sock");
        let staged = Staged::bind(&path).expect("binds");
        assert!(!path.exists(), "reachable at its path before its mode is set");
        assert_eq!(staged.dir.parent(), Some(dir.path()), "beside the path: a link stays on one filesystem");
        assert_eq!(mode(&staged.dir) & 0o077, 0, "only the owner can reach the staged socket");
        assert_eq!(mode(&staged.socket), 0o660);
        let (_listener, file) = staged.publish().expect("published");
        assert_eq!(mode(&path), 0o660);
        assert_eq!(FileId::of(&path).ok(), Some(file));
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("list").filter_map(Result::ok).collect();
        assert_eq!(left.len(), 1, "the staging directory is gone: {left:?}");
        assert!(std::os::unix::net::UnixStream::connect(&path).is_ok(), "it answers at its path");
    }

    #[tokio::test]
    async fn a_path_taken_while_binding_is_not_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ward.sock");
        let staged = Staged::bind(&path).expect("binds");
        std::fs::write(&path, "another process's file").expect("write");
        let err = staged.publish().expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("another process's file"));
        let left = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(left, 1, "the staging directory is removed on failure too");
    }

    #[test]
    fn a_file_that_is_not_a_socket_is_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "keep me").expect("write");
        assert!(bind(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("keep me"));
    }
}
