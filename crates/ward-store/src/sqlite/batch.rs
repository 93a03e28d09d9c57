//! The statements of a group commit (`commit.rs`): token inserts and
//! revokes of many callers in a few statements, each caller given the
//! answer it would get alone.
//!
//! A batched insert is guarded in its own statement: a row goes in only
//! while its owner is a live user and the credential it is issued via is
//! live ([`live`]). The write gate makes the check and the insert one step
//! with respect to every revocation: either the revocation comes first
//! and the insert is refused, or the insert comes first and the
//! revocation (or its cascade) finds the new token.

use crate::sql::rows::{millis, scopes_json};
use crate::sql::tokens::{TOKEN_COLUMNS, insert_error, insert_row, values};
use crate::sql::{Conn, Sql, cascade, issuer, texts};
use crate::{Invalidation, StoreError, StoreResult, TokenRecord};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use std::collections::HashSet;
use ward_core::{TokenHash, TokenId};

/// The SQLite error code of a failed constraint (`SQLITE_CONSTRAINT`).
const SQLITE_CONSTRAINT: i32 = 19;

/// True when `err` failed a constraint: SQLite undid that one statement and
/// the transaction goes on.
fn is_constraint_error(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else { return false };
    db.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| code & 0xff == SQLITE_CONSTRAINT)
}

/// A condition that holds when the credential whose id is `via` (a column;
/// NULL means nothing to check) is live at `now` (milliseconds).
fn live(via: &str, now: &str) -> String {
    format!(
        "({via} IS NULL
          OR EXISTS (SELECT 1 FROM tokens WHERE id = {via} AND revoked_at IS NULL
                         AND (expires_at IS NULL OR expires_at > {now}))
          OR EXISTS (SELECT 1 FROM minted_tokens WHERE jti = {via} AND revoked_at IS NULL
                         AND expires_at > {now}))"
    )
}

/// Inserts for every job, inside the batch's transaction: each job's own
/// answer, in order, or an error that fails the batch.
///
/// The jobs whose id and hash are new to the batch go in one statement that
/// skips a row that conflicts, whose owner is not live or whose issuer has
/// ended; each job that skipped, and each repeat, then runs alone, in
/// order, for the answer `sql::tokens::insert` gives.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    jobs: &[(&TokenRecord, &TokenHash)],
) -> StoreResult<Vec<StoreResult<()>>> {
    let scopes: Vec<StoreResult<String>> = jobs.iter().map(|(token, _)| scopes_json(&token.scopes)).collect();
    let (mut ids, mut hashes) = (HashSet::new(), HashSet::new());
    let fresh: Vec<(&TokenRecord, &TokenHash, &str)> = jobs
        .iter()
        .zip(&scopes)
        .filter_map(|((token, hash), scopes)| Some((*token, *hash, scopes.as_deref().ok()?)))
        // `&`, not `&&`: a repeat remembers its hash as well as its id.
        .filter(|(token, hash, _)| ids.insert(token.id.as_str()) & hashes.insert(**hash))
        .collect();
    let mut inserted = insert_rows(conn, &fresh).await?;

    // A fresh job is the first job with its id, so the first to ask for an
    // inserted id is the job that inserted it.
    let mut answers = Vec::with_capacity(jobs.len());
    for ((token, hash), scopes) in jobs.iter().zip(scopes) {
        let answer = match scopes {
            Err(e) => Err(e),
            Ok(_) if inserted.remove(token.id.as_str()) => Ok(()),
            Ok(scopes) => alone(conn, token, hash, &scopes).await?,
        };
        answers.push(answer);
    }
    Ok(answers)
}

/// One job's insert on its own: its answer, or an error that fails the
/// batch (one that may have ended the transaction).
async fn alone(
    conn: &mut SqliteConnection,
    token: &TokenRecord,
    hash: &TokenHash,
    scopes: &str,
) -> StoreResult<StoreResult<()>> {
    match issuer::check(conn, token.user_id.as_str(), token.issued_via.as_ref(), token.created_at).await {
        Ok(()) => {}
        Err(refused @ (StoreError::NotFound | StoreError::IssuerEnded)) => return Ok(Err(refused)),
        Err(e) => return Err(e),
    }
    match insert_row(conn, token, hash, scopes).await {
        Ok(_) => Ok(Ok(())),
        Err(e) if is_constraint_error(&e) => Ok(Err(insert_error::<SqliteConnection>(e, token))),
        Err(e) => Err(crate::sql::db_error("insert token", e)),
    }
}

/// Inserts `rows` (distinct ids and hashes) in one statement, skipping
/// conflicts, dead owners and ended issuers; the ids it inserted.
async fn insert_rows(
    conn: &mut SqliteConnection,
    rows: &[(&TokenRecord, &TokenHash, &str)],
) -> StoreResult<HashSet<String>> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = Sql::new(format!("INSERT INTO tokens ({TOKEN_COLUMNS}) SELECT * FROM ("));
    q.push_values(rows, |(token, hash, scopes)| values(token, hash, scopes));
    q.push(&format!(
        ") AS v WHERE EXISTS (SELECT 1 FROM users WHERE id = v.column6 AND deleted_at IS NULL)
           AND {}
         ON CONFLICT DO NOTHING RETURNING id",
        live("v.column15", "v.column8")
    ));
    match conn.fetch_all(q).await {
        Ok(found) => found.iter().map(|row| crate::sql::Columns::text(row, "id")).collect(),
        // A row broke a constraint that DO NOTHING does not cover: the
        // statement inserted nothing, and each job runs alone.
        Err(e) if is_constraint_error(&e) => Ok(HashSet::new()),
        Err(e) => Err(crate::sql::db_error("insert tokens", e)),
    }
}

/// Revokes the tokens of the batch's jobs: each job's answer, in order
/// (`true` when this job revoked it, `false` when it was already revoked,
/// `NotFound` when there is none), or an error that fails the batch. The
/// first job for an id revokes it at its `now`.
pub(super) async fn revoke(
    conn: &mut SqliteConnection,
    jobs: &[(&TokenId, DateTime<Utc>)],
) -> StoreResult<Vec<StoreResult<bool>>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = HashSet::new();
    let first: Vec<&(&TokenId, DateTime<Utc>)> =
        jobs.iter().filter(|(id, _)| seen.insert(id.as_str())).collect();
    let mut q = Sql::new("UPDATE tokens SET revoked_at = v.column2 FROM (");
    q.push_values(&first, |(id, now)| vec![id.as_str().into(), millis(*now).into()]);
    q.push(") AS v WHERE tokens.id = v.column1 AND tokens.revoked_at IS NULL RETURNING id");
    let mut revoked: HashSet<String> = texts(conn, q, "id", "revoke tokens").await?.into_iter().collect();

    // Ending a token ends what it obtained, at the moment it ended.
    for (id, now) in &first {
        if revoked.contains(id.as_str()) {
            cascade::revoke(conn, &[id.as_str()], *now).await?;
            conn.announce(&Invalidation::Token(TokenId::clone(id))).await?;
        }
    }

    // Only the first job for an id was in the update.
    let revoked_here: Vec<bool> = jobs.iter().map(|(id, _)| revoked.remove(id.as_str())).collect();
    let missed: Vec<&str> =
        jobs.iter().zip(&revoked_here).filter(|(_, here)| !**here).map(|((id, _), _)| id.as_str()).collect();
    let existing: HashSet<String> = if missed.is_empty() {
        HashSet::new()
    } else {
        let sql = Sql::new(format!("SELECT id FROM tokens WHERE id {}", SqliteConnection::in_list("$1")))
            .bind(missed.as_slice())
            .once();
        texts(conn, sql, "id", "select tokens").await?.into_iter().collect()
    };
    Ok(jobs
        .iter()
        .zip(revoked_here)
        .map(|((id, _), here)| match here {
            true => Ok(true),
            false if existing.contains(id.as_str()) => Ok(false),
            false => Err(StoreError::NotFound),
        })
        .collect())
}
