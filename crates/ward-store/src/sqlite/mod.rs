//! The embedded SQLite backend: one file, WAL journal, `synchronous=FULL`,
//! foreign keys on, a small connection pool.
//!
//! Writes of this process take turns through one async gate, and token
//! inserts and revokes are group-committed: many callers, one transaction,
//! one fsync, each answered after the COMMIT (`commit.rs`).
//!
//! The file is created with mode 0600 (and a missing parent directory with
//! 0700) before SQLite opens it; SQLite gives its `-wal` and `-shm` files
//! the same mode. `:memory:` opens a private in-memory database on a single
//! connection, for tests and throw-away servers; the writes and the group
//! committer take that connection in turn, like the reads.

mod announce;
mod batch;
mod commit;
mod migrations;

use crate::sql::{Arg, Conn, Db, DbResult, Sql, Unique, db_error};
use crate::{Invalidation, StoreError, StoreResult, TokenRecord};
use chrono::{DateTime, Utc};
use commit::{Committer, Pool, WriteTx};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection};
use std::path::Path;
use std::time::Duration;
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId};

/// How long a connection waits for another writer before `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite has one writer at a time; a few connections let reads overlap.
const MAX_CONNECTIONS: u32 = 4;

/// The SQLite implementation of [`crate::Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: Pool,
    /// Token inserts and revokes, group-committed.
    commits: Committer,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` and brings its
    /// schema up to date. `:memory:` opens a private in-memory database.
    pub async fn open(path: &str) -> StoreResult<Self> {
        let (options, pool) = if path == ":memory:" {
            let options = SqliteConnectOptions::new().in_memory(true);
            // Every connection would see its own empty database: keep one
            // connection, forever.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            (options, pool)
        } else {
            prepare_file(Path::new(path))?;
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            (options, SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS))
        };
        let options =
            options.synchronous(SqliteSynchronous::Full).foreign_keys(true).busy_timeout(BUSY_TIMEOUT);
        // Where each write queues what it announces (`announce.rs`).
        let pool = pool.after_connect(|conn, _| {
            Box::pin(async move { sqlx::query(announce::CREATE).execute(conn).await.map(|_| ()) })
        });
        // A local file does not drop connections: skip the ping, a round
        // trip to the connection's thread, on every acquire.
        let pool = connect(pool.test_before_acquire(false), options, path).await?;
        migrations::run(&pool).await?;
        let pool = Pool::new(pool);
        Ok(Self { commits: Committer::start(pool.clone()), pool })
    }

    /// The schema version of the open database.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        migrations::current_version(&self.pool).await
    }

    /// The schema version this build creates and expects.
    pub fn latest_schema_version() -> i64 {
        migrations::latest_version()
    }

    /// Waits for running queries, then closes every connection (which
    /// checkpoints the WAL into the main file). Writes after this fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Connects the pool. Processes that open one new file at the same moment
/// meet while one of them switches it to WAL, and SQLite answers that busy
/// at once instead of waiting out `busy_timeout`: such an open is tried
/// again, every 50 ms for up to [`BUSY_TIMEOUT`]. Any other error, or a
/// lock held longer, is the error it is.
async fn connect(
    pool: SqlitePoolOptions,
    options: SqliteConnectOptions,
    path: &str,
) -> StoreResult<sqlx::SqlitePool> {
    const PAUSE: Duration = Duration::from_millis(50);
    let tries = BUSY_TIMEOUT.as_millis() / PAUSE.as_millis();
    let mut tried = 0;
    loop {
        match pool.clone().connect_with(options.clone()).await {
            Ok(pool) => return Ok(pool),
            Err(e) if is_busy(&e) && tried < tries => tried += 1,
            Err(e) => return Err(StoreError::Backend(format!("could not open database '{path}': {e}"))),
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// `SQLITE_BUSY` or one of its extended codes.
fn is_busy(error: &sqlx::Error) -> bool {
    let code = match error {
        sqlx::Error::Database(e) => e.code().and_then(|c| c.parse::<i32>().ok()),
        _ => None,
    };
    code.is_some_and(|c| c & 0xff == 5)
}

/// Creates the parent directory (0700) and the file (0600) when missing.
/// Blocking, but only once at start-up.
fn prepare_file(path: &Path) -> StoreResult<()> {
    let fail = |what: &str, p: &Path, e: std::io::Error| {
        StoreError::Backend(format!("could not create {what} '{}': {e}", p.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| fail("directory", dir, e))?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    match file.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(fail("database file", path, e)),
    }
}

/// SQLite's side of the dialect seam. Rows need no locks: every write of
/// the process holds the write gate (`commit.rs`). Lists travel as one JSON
/// array, read back with `json_each`.
impl Conn for SqliteConnection {
    type Row = sqlx::sqlite::SqliteRow;

    const FOR_UPDATE: &'static str = "";
    const FOR_SHARE: &'static str = "";

    fn in_list(param: &str) -> String {
        format!("IN (SELECT value FROM json_each({param}))")
    }

    fn pairs(param: &str) -> String {
        format!(
            "(SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS at
              FROM json_each({param})) AS b"
        )
    }

    fn violates(err: &sqlx::Error, which: Unique) -> bool {
        match err {
            sqlx::Error::Database(db) => db.is_unique_violation() && db.message().ends_with(which.sqlite),
            _ => false,
        }
    }

    async fn execute(&mut self, sql: Sql) -> Result<u64, sqlx::Error> {
        let text = numbered(&sql.text);
        Ok(query(&text, &sql).execute(self).await?.rows_affected())
    }

    async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Self::Row>, sqlx::Error> {
        let text = numbered(&sql.text);
        query(&text, &sql).fetch_all(self).await
    }

    async fn fetch_optional(&mut self, sql: Sql) -> Result<Option<Self::Row>, sqlx::Error> {
        let text = numbered(&sql.text);
        query(&text, &sql).fetch_optional(self).await
    }

    // No other node to tell, but this process's own feed (`announce.rs`).
    async fn announce(&mut self, what: &Invalidation) -> StoreResult<()> {
        announce::queue(self, what).await
    }

    async fn lock_audit(&mut self) -> StoreResult<()> {
        Ok(())
    }

    async fn lock_key(&mut self, _key: &str) -> StoreResult<()> {
        Ok(())
    }
}

/// `sql` (its text as [`numbered`] writes it) with its arguments bound as
/// SQLite takes them.
fn query<'q>(text: &'q str, sql: &'q Sql) -> sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>> {
    // A list of plain strings or integers always encodes as JSON.
    sql.args.iter().fold(sqlx::query(text).persistent(sql.persistent), |q, arg| match arg {
        Arg::Int(v) => q.bind(*v),
        Arg::Text(v) => q.bind(v.as_deref()),
        Arg::Bytes(v) => q.bind(v.as_deref()),
        Arg::Texts(v) => q.bind(serde_json::to_string(v).unwrap_or_default()),
        Arg::Ints(v) => q.bind(serde_json::to_string(v).unwrap_or_default()),
    })
}

/// The SQL with SQLite's placeholders: plain `?` when the `$N` run
/// `$1`, `$2`, … in order, each once (every batch statement), else `?N`,
/// which binds as `$N` does. SQLite resolves a `$N` by name, and reports a
/// `?N`'s name to the binder, by scanning every placeholder before it:
/// quadratic time in a batch of thousands of values.
fn numbered(sql: &str) -> String {
    let numbers: Vec<&str> = sql
        .split('$')
        .skip(1)
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next().filter(|n| !n.is_empty()))
        .collect();
    let in_order = numbers.iter().enumerate().all(|(i, n)| n.parse::<usize>().ok() == Some(i + 1));
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
            while in_order && chars.next_if(char::is_ascii_digit).is_some() {}
        } else {
            out.push(c);
        }
    }
    out
}

impl Db for SqliteStore {
    type Conn = SqliteConnection;
    type Tx = WriteTx;
    type Read = PoolConnection<Sqlite>;

    async fn read(&self) -> StoreResult<Self::Read> {
        self.pool.acquire().await.db("acquire connection")
    }

    async fn begin(&self, what: &'static str) -> StoreResult<WriteTx> {
        self.pool.begin(what).await
    }

    async fn commit(tx: WriteTx, what: &'static str) -> StoreResult<()> {
        tx.commit().await.map_err(|e| db_error(&format!("commit {what}"), e))
    }

    async fn insert_token(
        &self,
        token: &TokenRecord,
        hash: &TokenHash,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        self.commits.insert(token, hash, events).await
    }

    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        self.commits.revoke(id, now, events).await
    }

    fn invalidations(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Invalidation>> {
        Some(self.pool.listeners().subscribe())
    }

    fn pool_use(&self) -> crate::PoolUse {
        crate::PoolUse { size: self.pool.size(), idle: self.pool.num_idle() as u32 }
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    /// Two processes starting on one new file meet while one of them
    /// switches it to WAL; SQLite reports that as busy at once, without
    /// waiting out `busy_timeout` (seen as "database is locked" in the e2e
    /// test of two servers started together).
    #[tokio::test]
    async fn opens_of_one_new_file_at_once_all_succeed() {
        for round in 0..30 {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let path = dir.path().join("ward.db").display().to_string();
            // Each connection runs on a thread of its own, so the opens
            // really meet even though one task drives them.
            let open = || super::SqliteStore::open(&path);
            let (a, b, c, d) = tokio::join!(open(), open(), open(), open());
            for opened in [a.err(), b.err(), c.err(), d.err()] {
                assert!(opened.is_none(), "round {round}: {opened:?}");
            }
        }
    }

    #[test]
    fn placeholders_in_order_become_plain_and_others_numbered_and_nothing_else_changes() {
        assert_eq!(numbered("VALUES ($1, $2), ($3, $4) AND z = '$'"), "VALUES (?, ?), (?, ?) AND z = '$'");
        assert_eq!(numbered("x = $1 AND y IN ($2, $1) AND z = '$'"), "x = ?1 AND y IN (?2, ?1) AND z = '$'");
        assert_eq!(numbered("x = $2 AND y = $1"), "x = ?2 AND y = ?1");
    }
}
