//! What every client command needs: the server, the output format, and the
//! token to send, found in this order: `WARD_TOKEN`, then the session saved
//! by `ward login` for this server.

use crate::cli::Global;
use crate::exit::CliError;
use crate::output::{self, Format};
use crate::session::SessionStore;
use chrono::Utc;
use ward_client::Client;
use zeroize::Zeroizing;

/// The settings of one `ward` invocation.
#[derive(Debug)]
pub struct App {
    /// The server URL, without a trailing slash.
    pub server: String,
    pub output: Format,
    pub sessions: SessionStore,
    /// A client with no token; the others share its connection pool.
    anonymous: Client,
}

/// Where the token came from.
#[derive(Debug)]
pub enum Source {
    Env,
    Session,
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
    /// Checks the server URL (a bad one is a usage error) before anything else.
    pub fn new(global: &Global) -> anyhow::Result<Self> {
        let server = global.server.trim().trim_end_matches('/').to_owned();
        Ok(Self {
            anonymous: Client::new(&server, None)?,
            server,
            output: global.output,
            sessions: SessionStore::from_env()?,
        })
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

    /// `WARD_TOKEN` if set and not empty, else this server's saved session.
    /// A session past its expiry is an error (exit 3) rather than a token the
    /// server would refuse.
    pub fn credential(&self) -> anyhow::Result<Option<Credential>> {
        if let Some(token) = std::env::var("WARD_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
            return Ok(Some(Credential { token: Zeroizing::new(token), source: Source::Env }));
        }
        let Some(session) = self.sessions.load(&self.server)? else {
            return Ok(None);
        };
        if session.expires_at <= Utc::now() {
            return Err(CliError::SessionExpired {
                server: self.server.clone(),
                at: output::time(&session.expires_at),
            }
            .into());
        }
        Ok(Some(Credential { token: Zeroizing::new(session.token), source: Source::Session }))
    }
}
