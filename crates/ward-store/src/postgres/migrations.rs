//! The PostgreSQL schema, as numbered migrations embedded in the binary.
//!
//! `schema_migrations` records every version applied. [`run`] does all its
//! work in one transaction that first takes a transaction-level advisory
//! lock (`pg_advisory_xact_lock`), so when several `ward server` nodes start
//! at once on a new database, one migrates and the others wait, then find
//! nothing left to do. PostgreSQL's DDL is transactional: a migration that
//! fails leaves no half-built schema, and the lock goes with the
//! transaction. Migrations are append-only: never edit one that has
//! shipped, add the next number.
//!
//! Ids are `TEXT COLLATE "C"` so that ordering and the `before` cursor
//! compare bytes, as in SQLite, whatever the database's default collation.

use crate::sql::DbResult;
use crate::{StoreError, StoreResult};
use chrono::Utc;
use sqlx::{Executor, PgPool};

/// The advisory lock every ward node takes to migrate: "wardmigr" in ASCII.
const MIGRATION_LOCK: i64 = 0x7761_7264_6d69_6772;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "users and tokens",
        sql: r#"
CREATE TABLE users (
    id            TEXT COLLATE "C" NOT NULL,
    name          TEXT   NOT NULL,
    kind          TEXT   NOT NULL CHECK (kind IN ('human', 'service')),
    role          TEXT   CHECK (role IN ('admin', 'user')),
    password_hash TEXT,
    scopes        TEXT   NOT NULL DEFAULT '[]',
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT,
    CONSTRAINT users_pkey PRIMARY KEY (id)
);

-- A name is unique among live users only: it can be reused after a delete.
CREATE UNIQUE INDEX users_live_name ON users (name) WHERE deleted_at IS NULL;

CREATE TABLE tokens (
    id           TEXT COLLATE "C" NOT NULL,
    hash         BYTEA  NOT NULL CHECK (octet_length(hash) = 32),
    display      TEXT   NOT NULL,
    name         TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
    scopes       TEXT   NOT NULL DEFAULT '[]',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    rotated_from TEXT COLLATE "C",
    CONSTRAINT tokens_pkey PRIMARY KEY (id),
    CONSTRAINT tokens_hash_key UNIQUE (hash),
    CONSTRAINT tokens_user_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE INDEX tokens_user ON tokens (user_id, id);
"#,
    },
    Migration {
        version: 2,
        name: "audit chain",
        sql: r#"
-- One row per event, chained: hash = sha256(prev_hash || canonical event).
CREATE TABLE audit_events (
    seq        BIGINT NOT NULL,
    id         TEXT COLLATE "C" NOT NULL,
    time       BIGINT NOT NULL,
    action     TEXT   NOT NULL,
    subject    TEXT,
    token_id   TEXT COLLATE "C",
    scopes     TEXT   NOT NULL DEFAULT '[]',
    operation  TEXT,
    decision   TEXT,
    risk_level TEXT,
    error      TEXT,
    request_id TEXT,
    client_ip  TEXT,
    prev_hash  BYTEA  NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash       BYTEA  NOT NULL CHECK (octet_length(hash) = 32),
    CONSTRAINT audit_events_pkey PRIMARY KEY (seq),
    CONSTRAINT audit_events_id_key UNIQUE (id)
);

CREATE INDEX audit_events_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_token ON audit_events (token_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_time ON audit_events (time);

-- The last event appended, so events removed from the end are noticed.
CREATE TABLE audit_head (
    id   SMALLINT NOT NULL CHECK (id = 1),
    seq  BIGINT   NOT NULL,
    hash BYTEA    NOT NULL CHECK (octet_length(hash) = 32),
    CONSTRAINT audit_head_pkey PRIMARY KEY (id)
);
"#,
    },
    Migration {
        version: 3,
        name: "signing keys, minted tokens, approvals",
        sql: r#"
-- The private half arrives sealed by the server; the store never opens it.
CREATE TABLE signing_keys (
    kid            TEXT COLLATE "C" NOT NULL,
    public_key     BYTEA  NOT NULL CHECK (octet_length(public_key) = 32),
    private_sealed BYTEA  NOT NULL,
    created_at     BIGINT NOT NULL,
    retired_at     BIGINT,
    CONSTRAINT signing_keys_pkey PRIMARY KEY (kid)
);

-- The metadata of every signed agent token, never the token.
CREATE TABLE minted_tokens (
    jti        TEXT COLLATE "C" NOT NULL,
    agent      TEXT COLLATE "C" NOT NULL,
    scopes     TEXT   NOT NULL DEFAULT '[]',
    kid        TEXT COLLATE "C" NOT NULL,
    minted_by  TEXT COLLATE "C" NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    CONSTRAINT minted_tokens_pkey PRIMARY KEY (jti),
    CONSTRAINT minted_tokens_minted_by_fkey FOREIGN KEY (minted_by) REFERENCES users (id)
);

CREATE INDEX minted_tokens_agent ON minted_tokens (agent, jti);

CREATE TABLE approvals (
    id           TEXT COLLATE "C" NOT NULL,
    token_id     TEXT COLLATE "C" NOT NULL,
    subject      TEXT   NOT NULL,
    requested_by TEXT COLLATE "C",
    operation    TEXT   NOT NULL,
    risk         TEXT   NOT NULL,
    status       TEXT   NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT,
    reason       TEXT,
    CONSTRAINT approvals_pkey PRIMARY KEY (id)
);

CREATE INDEX approvals_status ON approvals (status, id);
"#,
    },
    Migration {
        version: 4,
        name: "counted audit events",
        sql: r"
-- How many uses one event stands for when uses are counted over an interval.
ALTER TABLE audit_events ADD COLUMN use_count BIGINT CHECK (use_count IS NULL OR use_count >= 2);
",
    },
    Migration {
        version: 5,
        name: "audit outbox",
        sql: r#"
-- Audit events of state changes, inserted in the transaction that makes the
-- change and moved into the chain (in `pos` order) by the audit writer.
CREATE TABLE audit_outbox (
    pos        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT COLLATE "C" NOT NULL,
    time       BIGINT NOT NULL,
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
    use_count  BIGINT
);
"#,
    },
    Migration {
        version: 6,
        name: "who created each user; minted tokens and requests by user",
        sql: r#"
-- The user whose credential created this one; NULL for the first admin and
-- for users created before this column.
ALTER TABLE users ADD COLUMN created_by TEXT COLLATE "C";

-- Ending a user ends what they minted and what they asked for.
CREATE INDEX minted_tokens_minter ON minted_tokens (minted_by, jti);
CREATE INDEX approvals_pending_requester ON approvals (requested_by) WHERE status = 'pending';
"#,
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
        sql: r#"
-- One row per (token, notice point) a node has claimed: sent_at once sent;
-- while unsent, nobody else claims it before lease_until (a running claim,
-- or the backoff after a failed send). point_ms: the point before expiry.
CREATE TABLE expiry_notices (
    token_id    TEXT COLLATE "C" NOT NULL,
    point_ms    BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    lease_until BIGINT NOT NULL,
    sent_at     BIGINT,
    CONSTRAINT expiry_notices_pkey PRIMARY KEY (token_id, point_ms)
);

-- The due-notice sweep and `token list --expiring` read tokens by end.
CREATE INDEX tokens_expires ON tokens (expires_at) WHERE expires_at IS NOT NULL;
"#,
    },
    Migration {
        version: 11,
        name: "usage limits and the clients each token was used from",
        sql: r#"
-- max_uses: what a --max-uses token was created with; uses_left: counted
-- down by one conditional UPDATE per use of a limited token only.
-- rate_limit: '10/s', '100/min' (ward_core::limits::UseRate).
ALTER TABLE tokens ADD COLUMN max_uses BIGINT;
ALTER TABLE tokens ADD COLUMN uses_left BIGINT;
ALTER TABLE tokens ADD COLUMN rate_limit TEXT;

-- The last distinct (address, user agent) pairs a token was used from,
-- written in batches (crate::sql::clients), pruned to the newest five.
CREATE TABLE token_clients (
    token_id   TEXT COLLATE "C" NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    address    TEXT    NOT NULL,
    user_agent TEXT    NOT NULL,
    last_seen  BIGINT  NOT NULL,
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

/// Applies every migration the database has not seen yet, under the
/// migration lock, in one transaction.
pub(super) async fn run(pool: &PgPool) -> StoreResult<()> {
    let mut tx = pool.begin().await.db("begin migration")?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .db("take the migration lock")?;
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    BIGINT NOT NULL PRIMARY KEY,
            name       TEXT   NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .await
    .db("create schema_migrations")?;

    let current: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        .fetch_one(&mut *tx)
        .await
        .db("read schema version")?;
    if current > latest_version() {
        return Err(StoreError::Backend(format!(
            "the database schema is at version {current}, newer than this build of ward \
             supports ({}): upgrade ward",
            latest_version()
        )));
    }

    // Every migration not recorded, not only those past the highest: a
    // database that took a later version first (5 arrived after 6 in one
    // development cycle) still gets the earlier one.
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await
        .db("read applied migrations")?;
    let pending: Vec<&Migration> = MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)).collect();
    for migration in &pending {
        // A `&str` with no arguments goes by the simple query protocol,
        // which runs several statements. (`raw_sql` would too, but its
        // future is not `Send` when spawned: launchbadge/sqlx#3150.)
        tx.execute(migration.sql).await.db("apply migration")?;
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(applied_at())
            .execute(&mut *tx)
            .await
            .db("record migration")?;
    }
    tx.commit().await.db("commit migration")?;
    for migration in pending {
        tracing::info!(
            schema.version = migration.version,
            schema.name = migration.name,
            "applied database migration"
        );
    }
    Ok(())
}

/// The highest migration recorded in the database.
pub(super) async fn current_version(pool: &PgPool) -> StoreResult<i64> {
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
