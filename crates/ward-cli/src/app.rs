//! What every client command needs: the profile, the server, the output
//! format, the secret store (opened on first use), and the token to send,
//! found in this order: `--token`, `WARD_TOKEN`, then the token stored for
//! the profile (`ward login` / `ward auth set-token`).

use crate::cli::Global;
use crate::commands::store_support::{self, CliPassphrase};
use crate::exit::CliError;
use crate::output::{self, Format};
use crate::session::{self, Stored};
use chrono::Utc;
use std::sync::OnceLock;
use ward_client::Client;
use ward_secrets::config::{Config, Paths};
use ward_secrets::open::{self, Opened};
use ward_secrets::{BackendKind, Store};
use zeroize::Zeroizing;

/// The settings of one `ward` invocation.
#[derive(Debug)]
pub struct App {
    /// The server URL, without a trailing slash.
    pub server: String,
    pub output: Format,
    pub config: Config,
    /// `--backend` / `WARD_BACKEND`.
    pub requested_backend: Option<BackendKind>,
    token_flag: Option<Zeroizing<String>>,
    opened: OnceLock<Opened>,
    /// A client with no token; the others share its connection pool.
    anonymous: Client,
}

/// Where the token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    Store,
}

impl Source {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Flag => "--token",
            Self::Env => "WARD_TOKEN",
            Self::Store => "secret store",
        }
    }
}

/// A token to send, and its source. `Debug` never shows the token.
pub struct Credential {
    token: Zeroizing<String>,
    pub source: Source,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("token", &"***").field("source", &self.source).finish()
    }
}

impl App {
    /// Reads the config and picks the profile; the server is `--server` /
    /// `WARD_SERVER`, else the profile's, else the default. A bad URL is a
    /// usage error.
    pub fn new(global: &Global) -> anyhow::Result<Self> {
        let paths = Paths::from_env(global.config.clone())?;
        let config = Config::load(paths, global.profile.as_deref())?;
        let server = global
            .server
            .clone()
            .or_else(|| config.profile.server.clone())
            .unwrap_or_else(|| ward_client::DEFAULT_SERVER.to_owned());
        let server = session::key(&server);
        let requested_backend = global.backend.as_deref().map(str::parse).transpose()?;
        Ok(Self {
            anonymous: Client::new(&server, None)?,
            server,
            output: global.output,
            config,
            requested_backend,
            token_flag: global.token.clone().filter(|t| !t.trim().is_empty()).map(Zeroizing::new),
            opened: OnceLock::new(),
        })
    }

    /// The profile's secret store, opened (and its backend chosen) once.
    pub fn opened(&self) -> anyhow::Result<&Opened> {
        if let Some(opened) = self.opened.get() {
            return Ok(opened);
        }
        let opened = open::open(&self.config, self.requested_backend, Box::new(CliPassphrase))?;
        Ok(self.opened.get_or_init(|| opened))
    }

    pub fn store(&self) -> anyhow::Result<&Store> {
        Ok(&self.opened()?.store)
    }

    /// The store, with its backend pinned in the config if this is its
    /// first use (and a note saying so). Call before writing.
    pub fn store_for_write(&self) -> anyhow::Result<&Store> {
        let store = self.store()?;
        store_support::pin(self, store)?;
        Ok(store)
    }

    /// A client that sends no token (login).
    pub fn anonymous_client(&self) -> anyhow::Result<Client> {
        Ok(self.anonymous.clone())
    }

    /// A client with the caller's token; fails with exit 3 when there is none.
    pub fn client(&self) -> anyhow::Result<Client> {
        Ok(self.client_and_credential()?.0)
    }

    /// Like [`App::client`], also saying where the token came from.
    pub fn client_and_credential(&self) -> anyhow::Result<(Client, Credential)> {
        let credential =
            self.credential()?.ok_or_else(|| CliError::NotLoggedIn { server: self.server.clone() })?;
        Ok((self.client_for(&credential)?, credential))
    }

    /// A client that sends `credential`'s token.
    pub fn client_for(&self, credential: &Credential) -> anyhow::Result<Client> {
        Ok(self.anonymous.with_token(Some(credential.token.to_string()))?)
    }

    /// A client with the caller's token if there is a usable one, else none
    /// (`token verify` works either way; the server decides).
    pub fn client_with_optional_token(&self) -> anyhow::Result<Client> {
        match self.credential() {
            Ok(Some(credential)) => self.client_for(&credential),
            _ => self.anonymous_client(),
        }
    }

    /// Whether `--token -` asks for the token to be read from stdin
    /// (`ward authorize`).
    pub fn token_flag_is_stdin(&self) -> bool {
        self.token_flag.as_ref().is_some_and(|t| t.trim() == "-")
    }

    /// `--token`, else `WARD_TOKEN` if set and not empty, else the token
    /// stored for this profile and server. A stored session past its expiry
    /// is an error (exit 3) rather than a token the server would refuse.
    pub fn credential(&self) -> anyhow::Result<Option<Credential>> {
        if let Some(token) = &self.token_flag {
            return Ok(Some(Credential { token: token.clone(), source: Source::Flag }));
        }
        if let Some(token) = env_token() {
            return Ok(Some(Credential { token: Zeroizing::new(token), source: Source::Env }));
        }
        let Some(stored) = self.stored_token()? else { return Ok(None) };
        if let Some(at) = stored.meta.expires_at.filter(|at| *at <= Utc::now()) {
            return Err(
                CliError::SessionExpired { server: self.server.clone(), at: output::time(&at) }.into()
            );
        }
        Ok(Some(Credential {
            token: Zeroizing::new(stored.token.expose().to_owned()),
            source: Source::Store,
        }))
    }

    /// The token stored for this profile if it belongs to this server
    /// (moving a legacy `sessions.json` session in first).
    pub fn stored_token(&self) -> anyhow::Result<Option<Stored>> {
        if session::legacy_has(&self.config.paths.config_dir, &self.server) {
            let store = self.store_for_write()?;
            if let Some(note) = session::migrate_legacy(
                &self.config.paths.config_dir,
                store,
                &self.config.profile_name,
                &self.server,
            )? {
                eprintln!("{note}");
            }
        }
        let stored = session::load(self.store()?, &self.config.profile_name)?;
        Ok(stored.filter(|s| s.server() == Some(self.server.as_str())))
    }
}

/// `WARD_TOKEN`, when set and not blank.
pub fn env_token() -> Option<String> {
    std::env::var("WARD_TOKEN").ok().filter(|t| !t.trim().is_empty())
}
