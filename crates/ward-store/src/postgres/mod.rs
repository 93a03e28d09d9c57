//! The PostgreSQL backend: one database shared by any number of `ward
//! server` nodes.
//!
//! [`PostgresStore::connect`] opens a connection pool and migrates under an
//! advisory lock (see `migrations.rs`), so nodes may start together on a new
//! database. The schema and the encoding of every column follow the SQLite
//! backend: times as BIGINT milliseconds UTC, the token hash as 32 bytes of
//! BYTEA under a unique constraint, ids as TEXT, scope sets as JSON text.
//!
//! Errors never carry the URL's password or a bound value: a failure to
//! connect names the user, host, port and database only.

mod migrations;
mod notify;
mod start;

pub(crate) use start::PgStartLock;

use crate::sql::{Arg, Conn, Db, DbResult, Sql, Unique, db_error, tokens};
use crate::{Invalidation, StoreError, StoreResult, TokenRecord};
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId};

/// Connections per node; the database's `max_connections` bounds the sum.
const MAX_CONNECTIONS: u32 = 16;
/// How long a query waits for a free (or new) connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL implementation of [`crate::Store`].
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` or `postgresql://` URL
    /// names and brings its schema up to date.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        Self::connect_with(options).await
    }

    /// [`connect`](Self::connect) with the URL already parsed.
    pub async fn connect_with(options: PgConnectOptions) -> StoreResult<Self> {
        let store = Self::pool(options).await?;
        migrations::run(&store.pool).await?;
        Ok(store)
    }

    /// Connects, takes the start lock (waiting for any node that holds it),
    /// then migrates. The caller creates the first admin and releases it.
    pub(crate) async fn connect_locked(options: PgConnectOptions) -> StoreResult<(Self, PgStartLock)> {
        let store = Self::pool(options).await?;
        let lock = PgStartLock::take(&store.pool).await?;
        migrations::run(&store.pool).await?;
        Ok((store, lock))
    }

    async fn pool(mut options: PgConnectOptions) -> StoreResult<Self> {
        if options.get_application_name().is_none() {
            options = options.application_name("ward");
        }
        let target = describe(&options);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Backend(format!(
                    "could not connect to PostgreSQL at {target}: {e}{}",
                    tls_hint(&e)
                ))
            })?;
        Ok(Self { pool })
    }

    /// The schema version of the connected database.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        migrations::current_version(&self.pool).await
    }

    /// The schema version this build creates and expects.
    pub fn latest_schema_version() -> i64 {
        migrations::latest_version()
    }

    /// Waits for running queries, then closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `user@host:port/database`, for error messages: never the password.
fn describe(options: &PgConnectOptions) -> String {
    let host = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let database = options.get_database().unwrap_or(options.get_username());
    format!("{}@{host}/{database}", options.get_username())
}

/// What to do when TLS to PostgreSQL failed: which URL option fixes it.
fn tls_hint(err: &sqlx::Error) -> &'static str {
    let text = err.to_string();
    if text.contains("certificate") || text.contains("UnknownIssuer") {
        " (the server's TLS certificate was not trusted: name the CA that signed it with \
         sslrootcert=/path/to/ca.pem, and with sslmode=verify-full connect by a host name or IP \
         address the certificate lists)"
    } else if text.contains("TLS") || text.contains("SSL") || text.contains("tls") {
        " (check the server's `ssl` setting and the URL's sslmode)"
    } else {
        ""
    }
}

/// The advisory lock every audit append takes: "wardaudt" in ASCII.
const AUDIT_LOCK: i64 = 0x7761_7264_6175_6474;

/// PostgreSQL's side of the dialect seam: rows read to be changed are
/// locked (`FOR UPDATE`), rows an insert depends on are share-locked
/// (`FOR SHARE`), lists are arrays, ended tokens are announced with
/// `pg_notify` (`notify.rs`), and audit appenders queue on an advisory lock
/// that goes with the transaction, commit or rollback.
impl Conn for PgConnection {
    type Row = sqlx::postgres::PgRow;

    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const FOR_SHARE: &'static str = " FOR SHARE";

    fn in_list(param: &str) -> String {
        format!("= ANY({param})")
    }

    fn pairs(param: &str) -> String {
        format!(
            "(SELECT e->>0 AS id, (e->>1)::BIGINT AS at
              FROM jsonb_array_elements({param}::TEXT::JSONB) AS e) AS b"
        )
    }

    /// By the name of its constraint: the schema names every one.
    fn violates(err: &sqlx::Error, which: Unique) -> bool {
        match err {
            sqlx::Error::Database(db) => db.is_unique_violation() && db.constraint() == Some(which.postgres),
            _ => false,
        }
    }

    async fn execute(&mut self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(query(&sql).execute(self).await?.rows_affected())
    }

    async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Self::Row>, sqlx::Error> {
        query(&sql).fetch_all(self).await
    }

    async fn fetch_optional(&mut self, sql: Sql) -> Result<Option<Self::Row>, sqlx::Error> {
        query(&sql).fetch_optional(self).await
    }

    async fn announce(&mut self, what: &Invalidation) -> StoreResult<()> {
        notify::publish(self, what).await
    }

    async fn lock_audit(&mut self) -> StoreResult<()> {
        let lock = Sql::new("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK);
        self.execute(lock).await.db("take the audit lock")?;
        Ok(())
    }

    async fn lock_key(&mut self, key: &str) -> StoreResult<()> {
        let lock = Sql::new("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(key);
        self.execute(lock).await.db("take a lock")?;
        Ok(())
    }
}

/// `sql` with its arguments bound as PostgreSQL takes them.
fn query(sql: &Sql) -> sqlx::query::Query<'_, Postgres, PgArguments> {
    sql.args.iter().fold(sqlx::query(&sql.text).persistent(sql.persistent), |q, arg| match arg {
        Arg::Int(v) => q.bind(*v),
        Arg::Text(v) => q.bind(v.as_deref()),
        Arg::Bytes(v) => q.bind(v.as_deref()),
        Arg::Texts(v) => q.bind(v.as_slice()),
        Arg::Ints(v) => q.bind(v.as_slice()),
    })
}

impl Db for PostgresStore {
    type Conn = PgConnection;
    type Tx = Transaction<'static, Postgres>;
    type Read = PoolConnection<Postgres>;

    async fn read(&self) -> StoreResult<Self::Read> {
        self.pool.acquire().await.db("acquire connection")
    }

    async fn begin(&self, what: &'static str) -> StoreResult<Self::Tx> {
        self.pool.begin().await.map_err(|e| db_error(&format!("begin {what}"), e))
    }

    /// A change and its `pg_notify` commit together or not at all.
    async fn commit(tx: Self::Tx, what: &'static str) -> StoreResult<()> {
        tx.commit().await.map_err(|e| db_error(&format!("commit {what}"), e))
    }

    async fn insert_token(
        &self,
        token: &TokenRecord,
        hash: &TokenHash,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        tokens::insert_one(self, token, hash, events).await
    }

    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        tokens::revoke_one(self, id, now, events).await
    }

    fn invalidations(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Invalidation>> {
        Some(notify::subscribe(self.pool.clone()))
    }

    fn pool_use(&self) -> crate::PoolUse {
        crate::PoolUse { size: self.pool.size(), idle: self.pool.num_idle() as u32 }
    }
}
