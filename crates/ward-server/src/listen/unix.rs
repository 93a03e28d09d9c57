//! `--listen unix:/path`: a Unix socket that the owner and group may use
//! (mode 0660), for a reverse proxy on the same machine.

use std::io::{Error, ErrorKind};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
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
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok((listener, FileId::of(path)?))
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

    #[test]
    fn a_file_that_is_not_a_socket_is_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "keep me").expect("write");
        assert!(bind(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("keep me"));
    }
}
