//! `--listen unix:/path`: a Unix socket that the owner and group may use
//! (mode 0660), for a reverse proxy on the same machine.

use std::io::{Error, ErrorKind};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use tokio::net::UnixListener;

/// Binds `path`. A socket file already there is removed only if nothing
/// answers on it (a server that died left it); a live one, or a file that
/// is not a socket, is an error and is left alone.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
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
    Ok(listener)
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

    #[test]
    fn a_file_that_is_not_a_socket_is_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "keep me").expect("write");
        assert!(bind(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("keep me"));
    }
}
