//! Login sessions kept per server until the credential store exists.
//!
//! One JSON file, `sessions.json`, in `$WARD_CONFIG_DIR` or else in
//! `<config dir>/ward` (`$XDG_CONFIG_HOME/ward` on Linux), keyed by server
//! URL. The file is created with mode 0600 (the directory 0700) and replaced
//! atomically: a temp file in the same directory, fsync, rename, fsync of the
//! directory. A crash leaves the old file or the new one, never half of one.
//! Concurrent `ward login`s are last-writer-wins; no lock is taken.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const FILE_NAME: &str = "sessions.json";

/// One saved login. `Debug` never shows the token.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub token_id: String,
    pub user_id: String,
    pub username: String,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"***")
            .field("token_id", &self.token_id)
            .field("username", &self.username)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Default, Serialize, Deserialize)]
struct SessionFile {
    #[serde(default)]
    sessions: BTreeMap<String, Session>,
}

/// The session file of this user.
#[derive(Debug, Clone)]
pub struct SessionStore {
    dir: PathBuf,
}

impl SessionStore {
    /// `$WARD_CONFIG_DIR`, else `<config dir>/ward`.
    pub fn from_env() -> anyhow::Result<Self> {
        if let Some(dir) = std::env::var_os("WARD_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Ok(Self::at(dir));
        }
        let base = dirs::config_dir()
            .context("cannot find the user's config directory: set WARD_CONFIG_DIR or HOME")?;
        Ok(Self::at(base.join("ward")))
    }

    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// The session saved for `server`, if any.
    pub fn load(&self, server: &str) -> anyhow::Result<Option<Session>> {
        Ok(self.read()?.sessions.remove(&key(server)))
    }

    /// Saves (or replaces) the session for `server`.
    pub fn save(&self, server: &str, session: Session) -> anyhow::Result<()> {
        let mut file = self.read()?;
        file.sessions.insert(key(server), session);
        self.write(&file)
    }

    /// Forgets the session for `server`; `false` when there was none.
    pub fn remove(&self, server: &str) -> anyhow::Result<bool> {
        let mut file = self.read()?;
        let removed = file.sessions.remove(&key(server)).is_some();
        if removed {
            self.write(&file)?;
        }
        Ok(removed)
    }

    fn read(&self) -> anyhow::Result<SessionFile> {
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SessionFile::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        // The error names the file and the position only: serde_json could
        // quote a token from it.
        serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} is damaged (line {}, column {}): delete it and run `ward login` again",
                path.display(),
                e.line(),
                e.column()
            )
        })
    }

    fn write(&self, file: &SessionFile) -> anyhow::Result<()> {
        create_private_dir(&self.dir)?;
        let json = Zeroizing::new(serde_json::to_vec_pretty(file)?);
        write_atomically(&self.path(), &json)
            .with_context(|| format!("cannot save the session to {}", self.path().display()))
    }
}

/// Servers are keyed without a trailing slash: `http://h:1/` is `http://h:1`.
fn key(server: &str) -> String {
    server.trim().trim_end_matches('/').to_owned()
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Temp file (0600 from creation) in the same directory, fsync, rename over
/// `path`, fsync the directory. The temp file is removed on failure.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let nanos = Utc::now().timestamp_subsec_nanos();
    let temp = dir.join(format!(".{FILE_NAME}.{}.{nanos}.tmp", std::process::id()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options.open(&temp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&temp, path)
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
        return result;
    }
    // Makes the rename itself durable; not every platform can open a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(token: &str) -> Session {
        Session {
            token: token.into(),
            token_id: "tok_1".into(),
            user_id: "usr_1".into(),
            username: "admin".into(),
            expires_at: Utc::now(),
        }
    }

    #[test]
    fn a_saved_session_loads_back_for_the_same_server_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SessionStore::at(dir.path().join("ward"));
        store.save("http://127.0.0.1:8420/", session("t1")).expect("saves");
        let loaded = store.load("http://127.0.0.1:8420").expect("loads").expect("present");
        assert_eq!(loaded.token, "t1");
        assert!(store.load("http://other:8420").expect("loads").is_none());
    }

    #[cfg(unix)]
    #[test]
    fn the_session_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SessionStore::at(dir.path().join("ward"));
        store.save("http://a", session("t1")).expect("saves");
        let mode = fs::metadata(store.path()).expect("file exists").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(dir.path().join("ward")).expect("dir").permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }

    #[cfg(unix)]
    #[test]
    fn saving_replaces_the_file_and_leaves_no_temp_files() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SessionStore::at(dir.path());
        store.save("http://a", session("t1")).expect("saves");
        let before = fs::metadata(store.path()).expect("file").ino();
        store.save("http://b", session("t2")).expect("saves again");
        let after = fs::metadata(store.path()).expect("file").ino();
        assert_ne!(before, after, "a new file is renamed over the old one");
        let names: Vec<_> =
            fs::read_dir(dir.path()).expect("list dir").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names, [FILE_NAME]);
        assert_eq!(store.load("http://a").expect("loads").map(|s| s.token), Some("t1".into()));
        assert_eq!(store.load("http://b").expect("loads").map(|s| s.token), Some("t2".into()));
    }

    #[test]
    fn removing_forgets_one_server() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SessionStore::at(dir.path());
        store.save("http://a", session("t1")).expect("saves");
        assert!(store.remove("http://a/").expect("removes"));
        assert!(!store.remove("http://a").expect("second remove"));
        assert!(store.load("http://a").expect("loads").is_none());
    }

    #[test]
    fn a_damaged_file_is_an_error_that_does_not_quote_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SessionStore::at(dir.path());
        fs::write(store.path(), r#"{"sessions":{"http://a":{"token":"ward_u_secret""#).expect("writes");
        let err = store.load("http://a").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("damaged") && !err.contains("ward_u_secret"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_token() {
        assert!(!format!("{:?}", session("ward_u_secret")).contains("secret"));
    }
}
