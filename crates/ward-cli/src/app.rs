//! What every client command needs: the profile, the server, the output
//! format, the secret store (opened on first use), and the token to send,
//! found in this order: `--token`, `WARD_TOKEN`, then the token stored for
//! this config file, profile and server (`ward login` / `ward auth
//! set-token`).
//!
//! A profile named with `--profile` / `WARD_PROFILE` must exist in the
//! config file (or be `default`), except for the commands that store a
//! credential: they create it ([`App::create_profile_if_new`]).

use crate::cli::auth::AuthCommand;
use crate::cli::{Command, Global};
use crate::exit::CliError;
use crate::output::{self, Format};
use crate::secret_store::{self, CliPassphrase};
use crate::session::{self, Slot, Stored};
use anyhow::Context;
use chrono::Utc;
use std::io::Write;
use std::sync::OnceLock;
use ward_client::Client;
use ward_secrets::config::{Config, Paths};
use ward_secrets::oauth::HttpRefresher;
use ward_secrets::open::{self, Opened};
use ward_secrets::{BackendKind, EntryId, SecretStore, SecretString};
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
    /// Whether `--profile` / `WARD_PROFILE` named the profile.
    profile_requested: bool,
    opened: OnceLock<Opened>,
    /// `--ca-cert` and `--allow-http`.
    transport: ward_client::Transport,
    /// A client with no token, built on first use (so commands that never
    /// reach the server do not fail on its URL); the others share its
    /// connection pool.
    anonymous: OnceLock<Client>,
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

impl Credential {
    /// Whether the token is a login session (`ward login`), as opposed to a
    /// long-lived token someone created and pasted.
    pub fn is_login_session(&self) -> bool {
        ward_core::token::inspect(&self.token).is_ok_and(|t| t.kind == ward_core::TokenKind::Login)
    }
}

/// Whether `command` stores a credential, and so may create the profile
/// it names.
pub fn may_create_profile(command: &Command) -> bool {
    matches!(command, Command::Login(_) | Command::Auth(AuthCommand::SetToken(_)))
}

impl App {
    /// Reads the config and picks the profile; the server is `--server` /
    /// `WARD_SERVER`, else the profile's, else the default. A bad URL, or a
    /// profile named but unknown when `may_create_profile` is false, is a
    /// usage error.
    pub fn new(global: &Global, may_create_profile: bool) -> anyhow::Result<Self> {
        let paths = Paths::from_env(global.config.clone())?;
        let config = Config::load(paths, global.profile.as_deref())?;
        let profile_requested = global.profile.is_some();
        if profile_requested && !may_create_profile {
            check_known(&config)?;
        }
        let server = global
            .server
            .clone()
            .or_else(|| config.profile.server.clone())
            .unwrap_or_else(|| ward_client::DEFAULT_SERVER.to_owned());
        let server = session::key(&server);
        let requested_backend = global.backend.as_deref().map(str::parse).transpose()?;
        let extra_ca_pem = match &global.ca_cert {
            Some(path) => Some(std::fs::read(path).with_context(|| {
                format!("cannot read the CA certificate {} (--ca-cert / WARD_CA_CERT)", path.display())
            })?),
            None => None,
        };
        ward_secrets::http::allow_plain_http(global.allow_http);
        Ok(Self {
            transport: ward_client::Transport { extra_ca_pem, allow_http: global.allow_http },
            anonymous: OnceLock::new(),
            server,
            output: global.output,
            config,
            requested_backend,
            token_flag: global.token.clone().filter(|t| !t.trim().is_empty()).map(Zeroizing::new),
            profile_requested,
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

    pub fn store(&self) -> anyhow::Result<&SecretStore> {
        Ok(&self.opened()?.store)
    }

    /// The store, with its backend pinned in the config if this is its
    /// first use (and a note saying so). Call before writing.
    pub fn store_for_write(&self) -> anyhow::Result<&SecretStore> {
        let store = self.store()?;
        secret_store::pin(&self.config, store)?;
        Ok(store)
    }

    /// Resolves `${TOKEN:…}` references through the store (`ward inject`,
    /// `ward run`), refreshing expired OAuth entries and warning on stderr
    /// about any other expired entry.
    pub fn resolver(&self) -> impl FnMut(&EntryId) -> ward_secrets::Result<Option<SecretString>> + '_ {
        let refresher = HttpRefresher::default();
        move |id| {
            let store = self.store().map_err(|e| ward_secrets::Error::Invalid(format!("{e:#}")))?;
            let Some(entry) = store.get_fresh(id, &refresher)? else { return Ok(None) };
            if let Some(at) = entry.meta.expires_at.filter(|at| *at <= Utc::now()) {
                let _ = writeln!(std::io::stderr(), "warning: {id} expired at {at}");
            }
            Ok(Some(entry.secret.value))
        }
    }

    /// A client that sends no token (login). A URL the client refuses
    /// (plain http:// to another machine) fails here, before any connection.
    pub fn anonymous_client(&self) -> anyhow::Result<Client> {
        if let Some(client) = self.anonymous.get() {
            return Ok(client.clone());
        }
        let client = Client::with_transport(&self.server, None, &self.transport)?;
        Ok(self.anonymous.get_or_init(|| client).clone())
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
        Ok(self.anonymous_client()?.with_token(Some(credential.token.to_string()))?)
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

    /// Where this run's stored token lives: this config file, profile and
    /// server.
    pub fn slot(&self) -> Slot {
        Slot::new(&self.config.paths.config_file, &self.config.profile_name, &self.server)
    }

    /// The token stored for this config file, profile and server (moving a
    /// legacy `sessions.json` session in first).
    pub fn stored_token(&self) -> anyhow::Result<Option<Stored>> {
        let slot = self.slot();
        if session::legacy_has(&self.config.paths.config_dir, &self.server) {
            let store = self.store_for_write()?;
            if let Some(note) = session::migrate_legacy(&self.config.paths.config_dir, store, &slot)? {
                eprintln!("{note}");
            }
        }
        let stored = session::load(self.store()?, &slot)?;
        Ok(stored.filter(|s| s.server() == Some(self.server.as_str())))
    }

    /// Writes a profile named with `--profile` that the config file does
    /// not have yet, with this run's server, and says so. Only the
    /// commands that store a credential call this.
    pub fn create_profile_if_new(&self) -> anyhow::Result<()> {
        if !self.profile_requested || self.config.profile_exists {
            return Ok(());
        }
        if self.config.pin(&[("", "server", &self.server)])? {
            eprintln!(
                "note: created profile `{}` (server {}) in {}",
                self.config.profile_name,
                self.server,
                self.config.paths.config_file.display()
            );
        }
        Ok(())
    }
}

/// A named profile must be in the config file (or be `default`).
fn check_known(config: &Config) -> anyhow::Result<()> {
    let known = config.known_profiles()?;
    if known.contains(&config.profile_name) {
        return Ok(());
    }
    Err(CliError::usage(
        format!(
            "no profile `{}` in {}; known profiles: {}",
            config.profile_name,
            config.paths.config_file.display(),
            known.join(", ")
        ),
        Some("pick one of them, or create this one by storing a token in it: `ward --profile NAME login` or `ward --profile NAME auth set-token`"),
    )
    .into())
}

/// `WARD_TOKEN`, when set and not blank.
pub fn env_token() -> Option<String> {
    std::env::var("WARD_TOKEN").ok().filter(|t| !t.trim().is_empty())
}
