//! Choosing and opening a backend from a database URL.
//!
//! [`DatabaseUrl::parse`] checks a URL without touching anything, so a
//! server can refuse a bad one before it writes a byte. [`open`] connects
//! and migrates; [`open_for_start`] does the same while holding the
//! deployment's start lock, which the caller keeps until it has created
//! the first admin and then gives back with [`StartLock::release`]: any
//! number of nodes may start together on a new database, and exactly one
//! of them migrates and creates the admin.

use crate::postgres::{PgStartLock, PostgresStore};
use crate::{Backend, SqliteStore, StoreError, StoreResult};
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::sync::Arc;

/// A database URL, parsed: which backend, and how to reach it.
#[derive(Debug, Clone)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`, `sqlite:PATH` or a bare path ending in `.db`.
    Sqlite(String),
    /// `postgres://…` or `postgresql://…`, libpq options included
    /// (`sslmode`, `sslrootcert`, …).
    Postgres(Box<PgConnectOptions>),
}

impl DatabaseUrl {
    /// Parses `url` (scheme, and for PostgreSQL every option) without
    /// opening or creating anything. The error never repeats the URL, which
    /// may hold a password.
    pub fn parse(url: &str) -> StoreResult<Self> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StoreError::Backend("the SQLite URL names no file: use sqlite://PATH".into()));
            }
            return Ok(Self::Sqlite(path.to_owned()));
        }
        if !url.contains("://") && url.ends_with(".db") {
            return Ok(Self::Sqlite(url.to_owned()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return PgConnectOptions::from_str(url)
                .map(|options| Self::Postgres(Box::new(options)))
                .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")));
        }
        Err(StoreError::Backend(format!(
            "unsupported database URL scheme in '{}': use sqlite://PATH or postgres://…",
            url.split("://").next().unwrap_or("")
        )))
    }
}

/// Opens the store a URL names and brings its schema up to date.
/// `sqlite://PATH` (or a bare path ending in `.db`) is the embedded default;
/// `postgres://…` or `postgresql://…` connects to PostgreSQL.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Backend>> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(SqliteStore::open(&path).await?)),
        DatabaseUrl::Postgres(options) => Ok(Arc::new(PostgresStore::connect_with(*options).await?)),
    }
}

/// Like [`open`], but returns with the start lock held: on PostgreSQL a
/// session-level advisory lock taken before migrating, so nodes starting
/// together migrate and bootstrap one after the other. SQLite needs none:
/// its migrations take the write lock one by one, and a first admin
/// created twice at once is refused by the unique name (the loser sees
/// that users exist and creates nothing).
pub async fn open_for_start(url: &str) -> StoreResult<(Arc<dyn Backend>, StartLock)> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => Ok((Arc::new(SqliteStore::open(&path).await?), StartLock(None))),
        DatabaseUrl::Postgres(options) => {
            let (store, lock) = PostgresStore::connect_locked(*options).await?;
            Ok((Arc::new(store), StartLock(Some(lock))))
        }
    }
}

/// Held from before migrations until the first admin exists. Dropping it
/// without [`release`](Self::release) (an error on the way) closes its
/// connection, which ends the lock too.
#[derive(Debug)]
#[must_use = "other nodes wait until the start lock is released"]
pub struct StartLock(Option<PgStartLock>);

impl StartLock {
    /// Lets the next starting node go on.
    pub async fn release(self) -> StoreResult<()> {
        match self.0 {
            Some(lock) => lock.release().await,
            None => Ok(()),
        }
    }
}
