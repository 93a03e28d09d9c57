//! The SQLite schema, as numbered migrations embedded in the binary.
//!
//! `schema_migrations` records every version applied. Each migration runs in
//! its own `BEGIN IMMEDIATE` transaction together with the row that records
//! it, and re-reads the current version under that lock, so two processes
//! opening the same new file cannot apply a migration twice. Migrations are
//! append-only: never edit one that has shipped, add the next number.

use crate::sql::DbResult;
use crate::{StoreError, StoreResult};
use chrono::Utc;
use sqlx::SqlitePool;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "users and tokens",
        sql: r"
CREATE TABLE users (
    id            TEXT    PRIMARY KEY NOT NULL,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('human', 'service')),
    role          TEXT    CHECK (role IN ('admin', 'user')),
    password_hash TEXT,
    scopes        TEXT    NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL,
    deleted_at    INTEGER
) STRICT;

-- A name is unique among live users only: it can be reused after a delete.
CREATE UNIQUE INDEX users_live_name ON users (name) WHERE deleted_at IS NULL;

CREATE TABLE tokens (
    id           TEXT    PRIMARY KEY NOT NULL,
    hash         BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    display      TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    scopes       TEXT    NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER,
    rotated_from TEXT
) STRICT;

CREATE INDEX tokens_user ON tokens (user_id, id);
",
    },
    Migration {
        version: 2,
        name: "audit chain",
        sql: r"
-- One row per event, chained: hash = sha256(prev_hash || canonical event).
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY NOT NULL,
    id         TEXT    NOT NULL UNIQUE,
    time       INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    subject    TEXT,
    token_id   TEXT,
    scopes     TEXT    NOT NULL DEFAULT '[]',
    operation  TEXT,
    decision   TEXT,
    risk_level TEXT,
    error      TEXT,
    request_id TEXT,
    client_ip  TEXT,
    prev_hash  BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE INDEX audit_events_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_token ON audit_events (token_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_time ON audit_events (time);

-- The last event appended, so events removed from the end are noticed.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;
",
    },
    Migration {
        version: 3,
        name: "signing keys, minted tokens, approvals",
        sql: r"
-- The private half arrives sealed by the server; the store never opens it.
CREATE TABLE signing_keys (
    kid            TEXT    PRIMARY KEY NOT NULL,
    public_key     BLOB    NOT NULL CHECK (length(public_key) = 32),
    private_sealed BLOB    NOT NULL,
    created_at     INTEGER NOT NULL,
    retired_at     INTEGER
) STRICT;

-- The metadata of every signed agent token, never the token.
CREATE TABLE minted_tokens (
    jti        TEXT    PRIMARY KEY NOT NULL,
    agent      TEXT    NOT NULL,
    scopes     TEXT    NOT NULL DEFAULT '[]',
    kid        TEXT    NOT NULL,
    minted_by  TEXT    NOT NULL REFERENCES users (id),
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE INDEX minted_tokens_agent ON minted_tokens (agent, jti);

CREATE TABLE approvals (
    id           TEXT    PRIMARY KEY NOT NULL,
    token_id     TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    requested_by TEXT,
    operation    TEXT    NOT NULL,
    risk         TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    decided_by   TEXT,
    decided_at   INTEGER,
    reason       TEXT
) STRICT;

CREATE INDEX approvals_status ON approvals (status, id);
",
    },
    Migration {
        version: 4,
        name: "counted audit events",
        sql: r"
-- How many uses one event stands for when uses are counted over an interval.
ALTER TABLE audit_events ADD COLUMN use_count INTEGER CHECK (use_count IS NULL OR use_count >= 2);
",
    },
    Migration {
        version: 5,
        name: "audit outbox",
        sql: r#"
-- Audit events of state changes, inserted in the transaction that makes the
-- change and moved into the chain (in `pos` order) by the audit writer.
CREATE TABLE audit_outbox (
    pos        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL,
    time       INTEGER NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT,
    token_id   TEXT,
    scopes     TEXT NOT NULL DEFAULT '[]',
    operation  TEXT,
    decision   TEXT,
    risk_level TEXT,
    error      TEXT,
    request_id TEXT,
    client_ip  TEXT,
    use_count  INTEGER
) STRICT;
"#,
    },
    Migration {
        version: 6,
        name: "who created each user; minted tokens and requests by user",
        sql: r"
-- The user whose credential created this one; NULL for the first admin and
-- for users created before this column.
ALTER TABLE users ADD COLUMN created_by TEXT;

-- Ending a user ends what they minted and what they asked for.
CREATE INDEX minted_tokens_minter ON minted_tokens (minted_by, jti);
CREATE INDEX approvals_pending_requester ON approvals (requested_by) WHERE status = 'pending';
",
    },
    Migration {
        version: 7,
        name: "successor lookup for rotate-once",
        sql: r"
-- Rotation refuses a token that already has a successor, looked up by
-- rotated_from inside the rotating transaction.
CREATE INDEX tokens_rotated_from ON tokens (rotated_from) WHERE rotated_from IS NOT NULL;
",
    },
    Migration {
        version: 8,
        name: "the credential that obtained each token",
        sql: r"
-- The non-session token (a tok_ id, or an agent token's jti) whose caller
-- obtained this credential; NULL for what a login session or nobody made.
-- Ending a token ends its descendants, found through this column.
ALTER TABLE tokens ADD COLUMN parent_token_id TEXT;
ALTER TABLE minted_tokens ADD COLUMN parent_token_id TEXT;
CREATE INDEX tokens_parent ON tokens (parent_token_id) WHERE parent_token_id IS NOT NULL;
CREATE INDEX minted_tokens_parent ON minted_tokens (parent_token_id) WHERE parent_token_id IS NOT NULL;
",
    },
    Migration {
        version: 9,
        name: "who and what issued each credential",
        sql: r"
-- issued_by: the user whose credential issued the token (NULL: bootstrap, or
-- issued before this migration); four eyes refuses them as approvers.
-- issued_via: the issuing credential itself, login sessions included; the
-- insert happens only while it is live.
ALTER TABLE tokens ADD COLUMN issued_by TEXT;
ALTER TABLE tokens ADD COLUMN issued_via TEXT;
ALTER TABLE minted_tokens ADD COLUMN issued_via TEXT;
",
    },
    Migration {
        version: 10,
        name: "expiry notices",
        sql: r"
-- One row per (token, notice point) a node has claimed: sent_at once sent;
-- while unsent, nobody else claims it before lease_until (a running claim,
-- or the backoff after a failed send). point_ms: the point before expiry.
CREATE TABLE expiry_notices (
    token_id    TEXT    NOT NULL,
    point_ms    INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    lease_until INTEGER NOT NULL,
    sent_at     INTEGER,
    PRIMARY KEY (token_id, point_ms)
) STRICT;

-- The due-notice sweep and `token list --expiring` read tokens by end.
CREATE INDEX tokens_expires ON tokens (expires_at) WHERE expires_at IS NOT NULL;
",
    },
    Migration {
        version: 11,
        name: "usage limits and the clients each token was used from",
        sql: r#"
-- max_uses: what a --max-uses token was created with; uses_left: counted
-- down by one conditional UPDATE per use of a limited token only.
-- rate_limit: '10/s', '100/min' (ward_core::limits::UseRate).
ALTER TABLE tokens ADD COLUMN max_uses INTEGER;
ALTER TABLE tokens ADD COLUMN uses_left INTEGER;
ALTER TABLE tokens ADD COLUMN rate_limit TEXT;

-- The last distinct (address, user agent) pairs a token was used from,
-- written in batches (crate::sql::clients), pruned to the newest five.
CREATE TABLE token_clients (
    token_id   TEXT    NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    address    TEXT    NOT NULL,
    user_agent TEXT    NOT NULL,
    last_seen  INTEGER  NOT NULL,
    PRIMARY KEY (token_id, address, user_agent)
);
"#,
    },
    Migration {
        version: 12,
        name: "a token's pending approval requests",
        sql: r"
-- open_approval reads a token's pending requests before opening another.
CREATE INDEX approvals_pending_token ON approvals (token_id) WHERE status = 'pending';
",
    },
];

/// The schema version this build writes.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies every migration the database has not seen yet.
pub(super) async fn run(pool: &SqlitePool) -> StoreResult<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY NOT NULL,
            name       TEXT    NOT NULL,
            applied_at INTEGER NOT NULL
        ) STRICT",
    )
    .execute(pool)
    .await
    .db("create schema_migrations")?;

    let current = current_version(pool).await?;
    if current > latest_version() {
        return Err(StoreError::Backend(format!(
            "the database schema is at version {current}, newer than this build of ward \
             supports ({}): upgrade ward",
            latest_version()
        )));
    }

    for migration in MIGRATIONS {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.db("begin migration")?;
        // Recorded or not, rather than "past the highest": a database that
        // took a later version first (5 arrived after 6 in one development
        // cycle) still gets the earlier one.
        let applied: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)")
                .bind(migration.version)
                .fetch_one(&mut *tx)
                .await
                .db("read schema version")?;
        if applied {
            continue;
        }
        sqlx::raw_sql(migration.sql).execute(&mut *tx).await.db("apply migration")?;
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(applied_at())
            .execute(&mut *tx)
            .await
            .db("record migration")?;
        tx.commit().await.db("commit migration")?;
        tracing::info!(
            schema.version = migration.version,
            schema.name = migration.name,
            "applied database migration"
        );
    }
    Ok(())
}

/// The highest migration recorded in the database (0 for a new file).
pub(super) async fn current_version(pool: &SqlitePool) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        .fetch_one(pool)
        .await
        .db("read schema version")
}

/// When this process applies a migration: the wall clock, since migrations
/// run before any server (and its clock) exists.
#[expect(clippy::disallowed_methods, reason = "applied_at records the wall-clock moment a migration ran")]
fn applied_at() -> i64 {
    Utc::now().timestamp_millis()
}
