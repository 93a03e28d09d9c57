//! Which store files are known to be in the authenticated format, so a
//! version 1 (untagged) file put in their place is refused as a downgrade
//! instead of being read and migrated.
//!
//! The record is `authenticated-stores` in the config directory, beside
//! the identity: one absolute store path a line, mode 0600. Every save of a
//! store adds its path (under the store lock). It is kept away from the
//! data directory on purpose: someone who can write a synced or shared
//! data folder cannot also erase the record there.

use crate::atomic;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct Upgraded {
    path: PathBuf,
}

impl Upgraded {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Whether `store` has been saved in the authenticated format.
    pub fn contains(&self, store: &Path) -> Result<bool> {
        let line = line_for(store);
        Ok(self.read()?.lines().any(|l| l == line))
    }

    /// Records `store`; a no-op when it is there already.
    pub fn record(&self, store: &Path) -> Result<()> {
        let mut text = self.read()?;
        let line = line_for(store);
        if text.lines().any(|l| l == line) {
            return Ok(());
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&line);
        text.push('\n');
        atomic::write(&self.path, text.as_bytes())
    }

    fn read(&self) -> Result<String> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(source) => Err(Error::Io { what: "cannot read", path: self.path.clone(), source }),
        }
    }
}

fn line_for(store: &Path) -> String {
    std::path::absolute(store).unwrap_or_else(|_| store.to_owned()).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_store_is_remembered_once_and_others_are_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let record = Upgraded::new(dir.path().join("authenticated-stores"));
        let a = dir.path().join("a.age");
        assert!(!record.contains(&a).expect("reads"));
        record.record(&a).expect("records");
        record.record(&a).expect("records again");
        record.record(&dir.path().join("b.age")).expect("records b");
        assert!(record.contains(&a).expect("reads"));
        assert!(!record.contains(&dir.path().join("c.age")).expect("reads"));
        let text = std::fs::read_to_string(dir.path().join("authenticated-stores")).expect("written");
        assert_eq!(text.lines().count(), 2, "{text}");
    }
}
