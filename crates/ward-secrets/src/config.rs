//! `config.toml`: profiles, each with a server and a pinned backend.
//!
//! ```toml
//! profile = "default"            # used without --profile / WARD_PROFILE
//!
//! [profiles.default]
//! server = "http://127.0.0.1:8420"
//! backend = "file"               # keyring | file | vault; pinned on first use
//!
//! [profiles.default.file]        # all optional
//! path = "/home/me/.local/share/ward/secrets.age"
//! key = "identity"               # identity | passphrase | keyring
//! identity = "/home/me/.config/ward/identity.txt"
//!
//! [profiles.default.keyring]
//! service = "ward"
//! timeout_secs = 5
//!
//! [profiles.default.vault]
//! address = "http://127.0.0.1:8200"   # else VAULT_ADDR / BAO_ADDR
//! mount = "secret"
//! prefix = "ward"
//! ```
//!
//! The file lives at `--config`, else `$WARD_CONFIG_DIR/config.toml`, else
//! `$XDG_CONFIG_HOME/ward/config.toml` (`~/.config/ward`). Key files live in
//! that config directory, data in `$WARD_DATA_DIR`, else `$WARD_CONFIG_DIR`,
//! else `$XDG_DATA_HOME/ward`. ward edits the file only to pin a choice made on
//! first use, keeping the user's comments and layout (toml_edit), under a
//! lock so concurrent first uses agree.

use crate::atomic;
use crate::backend::BackendKind;
use crate::backend::file::key::KeyMode;
use crate::error::{Error, Result};
use crate::lock;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where ward keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_file: PathBuf,
    /// Key files (identity) and the legacy `sessions.json`.
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    /// From the environment; `config_file` is `--config`.
    pub fn from_env(config_file: Option<PathBuf>) -> Result<Self> {
        let env_dir = |var: &str| std::env::var_os(var).filter(|d| !d.is_empty()).map(PathBuf::from);
        let no_home = |what: &str| Error::Config {
            path: PathBuf::from("~"),
            message: format!(
                "cannot find the user's {what} directory: set HOME or WARD_CONFIG_DIR / WARD_DATA_DIR"
            ),
        };
        let ward_config_dir = env_dir("WARD_CONFIG_DIR");
        let config_dir = match &ward_config_dir {
            Some(dir) => dir.clone(),
            None => dirs::config_dir().ok_or_else(|| no_home("config"))?.join("ward"),
        };
        // WARD_CONFIG_DIR alone makes one self-contained ward directory.
        let data_dir = match env_dir("WARD_DATA_DIR").or(ward_config_dir) {
            Some(dir) => dir,
            None => dirs::data_dir().ok_or_else(|| no_home("data"))?.join("ward"),
        };
        let config_file = config_file.unwrap_or_else(|| config_dir.join("config.toml"));
        Ok(Self { config_file, config_dir, data_dir })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// One environment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub server: Option<String>,
    pub backend: Option<BackendKind>,
    #[serde(default)]
    pub file: FileConfig,
    #[serde(default)]
    pub keyring: KeyringConfig,
    #[serde(default)]
    pub vault: VaultConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub path: Option<PathBuf>,
    pub key: Option<KeyMode>,
    pub identity: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyringConfig {
    pub service: Option<String>,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    pub address: Option<String>,
    pub mount: Option<String>,
    pub prefix: Option<String>,
}

/// The loaded config and the chosen profile.
#[derive(Debug, Clone)]
pub struct Config {
    pub paths: Paths,
    pub profile_name: String,
    pub profile: Profile,
    /// Whether the profile is written in the file.
    pub profile_exists: bool,
}

impl Config {
    /// Reads the file (a missing file is an empty config) and picks the
    /// profile: `requested` (flag or `WARD_PROFILE`), else the file's
    /// `profile`, else `default`.
    pub fn load(paths: Paths, requested: Option<&str>) -> Result<Self> {
        let file = read(&paths.config_file)?;
        let profile_name =
            requested.map(str::to_owned).or(file.profile.clone()).unwrap_or_else(|| "default".to_owned());
        crate::entry::EntryId::new("profile", &profile_name)?;
        let profile = file.profiles.get(&profile_name).cloned();
        Ok(Self {
            paths,
            profile_exists: profile.is_some(),
            profile: profile.unwrap_or_default(),
            profile_name,
        })
    }

    pub fn profile_names(&self) -> Result<Vec<String>> {
        Ok(read(&self.paths.config_file)?.profiles.into_keys().collect())
    }

    /// The profiles a command may name: those in the file, and `default`,
    /// which needs no entry.
    pub fn known_profiles(&self) -> Result<Vec<String>> {
        let mut names = self.profile_names()?;
        if !names.iter().any(|n| n == "default") {
            names.push("default".into());
            names.sort();
        }
        Ok(names)
    }

    /// Sets `profiles.<this>.<table>.<key> = value` (or `profiles.<this>.<key>`
    /// when `table` is empty) unless the key is already set, under the config
    /// lock. Returns whether anything was written.
    pub fn pin(&self, settings: &[(&str, &str, &str)]) -> Result<bool> {
        let path = &self.paths.config_file;
        let _guard = lock::acquire(&lock_path(path))?;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(Error::Io { what: "cannot read", path: path.clone(), source }),
        };
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            Error::Config { path: path.clone(), message: e.to_string() }
        })?;
        let mut changed = false;
        for (table, key, value) in settings {
            let profiles = table_in(doc.as_table_mut(), "profiles", true);
            let profile = table_in(profiles, &self.profile_name, false);
            let target = if table.is_empty() { profile } else { table_in(profile, table, false) };
            if !target.contains_key(key) {
                target.insert(key, toml_edit::value(*value));
                changed = true;
            }
        }
        if changed {
            atomic::write(path, doc.to_string().as_bytes())?;
        }
        Ok(changed)
    }
}

fn table_in<'a>(parent: &'a mut toml_edit::Table, key: &str, implicit: bool) -> &'a mut toml_edit::Table {
    let item = parent.entry(key).or_insert_with(|| {
        let mut table = toml_edit::Table::new();
        table.set_implicit(implicit);
        toml_edit::Item::Table(table)
    });
    if !item.is_table() {
        *item = toml_edit::Item::Table(toml_edit::Table::new());
    }
    item.as_table_mut().expect("an item that was just made a table is a table")
}

fn lock_path(config_file: &Path) -> PathBuf {
    let mut name = config_file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    config_file.with_file_name(name)
}

fn read(path: &Path) -> Result<ConfigFile> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(source) => return Err(Error::Io { what: "cannot read", path: path.to_owned(), source }),
    };
    toml::from_str(&text)
        .map_err(|e| Error::Config { path: path.to_owned(), message: e.message().to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &Path) -> Paths {
        Paths { config_file: dir.join("config.toml"), config_dir: dir.to_owned(), data_dir: dir.join("data") }
    }

    #[test]
    fn a_missing_file_is_the_default_profile_with_nothing_pinned() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config::load(paths(dir.path()), None).expect("loads");
        assert_eq!(config.profile_name, "default");
        assert!(config.profile.backend.is_none());
    }

    #[test]
    fn pinning_keeps_comments_and_never_overrides_a_choice() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "# mine\nprofile = \"work\"\n[profiles.work]\nserver = \"http://w\" # prod\n")
            .expect("writes");
        let config = Config::load(paths(dir.path()), None).expect("loads");
        assert_eq!(config.profile_name, "work");
        assert!(config.pin(&[("", "backend", "file"), ("file", "key", "identity")]).expect("pins"));
        assert!(!config.pin(&[("", "backend", "vault")]).expect("pins"));
        let text = std::fs::read_to_string(&file).expect("reads");
        assert!(text.contains("# mine") && text.contains("# prod"), "{text}");
        let again = Config::load(paths(dir.path()), None).expect("loads");
        assert_eq!(again.profile.backend, Some(BackendKind::File));
        assert_eq!(again.profile.file.key, Some(KeyMode::Identity));
    }

    #[test]
    fn known_profiles_are_the_files_and_default() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config::load(paths(dir.path()), Some("x")).expect("loads");
        assert_eq!(config.known_profiles().expect("reads"), ["default"]);
        std::fs::write(dir.path().join("config.toml"), "[profiles.prod]\n[profiles.b]\n").expect("writes");
        assert_eq!(config.known_profiles().expect("reads"), ["b", "default", "prod"]);
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("config.toml"), "[profiles.x]\nbakend = \"file\"\n").expect("writes");
        let err = Config::load(paths(dir.path()), Some("x")).expect_err("refused");
        assert!(err.to_string().contains("config.toml"), "{err}");
    }
}
