//! Token records: metadata plus the SHA-256 of the token, never the token.
//!
//! Status is derived at a moment `now`: revoked when `revoked_at <= now`,
//! else expired when `expires_at <= now`, else active. The SQL here and
//! [`crate::TokenRecord::status`] must agree.
//!
//! Single inserts and revokes arrive here in batches from the group
//! committer (`commit.rs`): [`insert_batch`] and [`revoke_batch`] give each
//! job the answer it would get alone, in a few statements per batch.

use super::commit::{InsertJob, Pool, RevokeJob, is_constraint_error};
use super::rows::{
    self, SELECT_TOKEN_WITH_OWNER, db_error, is_unique_violation, millis, opt_millis, scopes_json,
};
use crate::{StoreError, StoreResult, TokenFilter, TokenRecord, TokenStatus, TokenWithOwner};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::collections::HashSet;
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId, UserId};

/// Inserts a record for a live owner, issued via a live credential.
/// `NotFound` when the owner is missing or deleted, so a deleted user can
/// never gain a live token in a race with [`super::users::delete`];
/// `IssuerEnded` when `issuer` (the credential to check, normally
/// `token.issued_via`) is no longer live. Every write of the process holds
/// the write gate, so the check and the insert are one step with respect
/// to every revocation.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    token: &TokenRecord,
    hash: &TokenHash,
    issuer: Option<&TokenId>,
) -> StoreResult<()> {
    let scopes = scopes_json(&token.scopes)?;
    match insert_row(conn, token, hash, &scopes, issuer).await {
        Ok(0) => Err(refusal(conn, token, issuer).await?),
        Ok(_) => Ok(()),
        Err(e) => Err(insert_error(e, token)),
    }
}

/// Why a guarded insert inserted nothing: the issuer has ended, or else
/// the owner is not a live user.
async fn refusal(
    conn: &mut SqliteConnection,
    token: &TokenRecord,
    issuer: Option<&TokenId>,
) -> StoreResult<StoreError> {
    let Some(issuer) = issuer else { return Ok(StoreError::NotFound) };
    let sql = format!("SELECT {}", super::issuer::live("?1", "?2"));
    let live: bool = sqlx::query_scalar(&sql)
        .bind(issuer.as_str())
        .bind(millis(token.created_at))
        .fetch_one(conn)
        .await
        .map_err(|e| db_error("check the issuing credential", e))?;
    Ok(if live { StoreError::NotFound } else { StoreError::IssuerEnded })
}

/// [`insert`] with the database's own error; how many rows it inserted.
async fn insert_row(
    conn: &mut SqliteConnection,
    token: &TokenRecord,
    hash: &TokenHash,
    scopes: &str,
    issuer: Option<&TokenId>,
) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "INSERT INTO tokens ({TOKEN_COLUMNS})
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15
         WHERE EXISTS (SELECT 1 FROM users WHERE id = ?6 AND deleted_at IS NULL)
           AND {}",
        super::issuer::live("?16", "?8")
    );
    let done = sqlx::query(&sql)
        .bind(token.id.as_str())
        .bind(hash.as_bytes().as_slice())
        .bind(&token.display)
        .bind(&token.name)
        .bind(token.kind.as_str())
        .bind(token.user_id.as_str())
        .bind(scopes)
        .bind(millis(token.created_at))
        .bind(opt_millis(token.expires_at))
        .bind(opt_millis(token.revoked_at))
        .bind(opt_millis(token.last_used_at))
        .bind(token.rotated_from.as_ref().map(TokenId::as_str))
        .bind(token.parent_token_id.as_ref().map(TokenId::as_str))
        .bind(token.issued_by.as_ref().map(UserId::as_str))
        .bind(token.issued_via.as_ref().map(TokenId::as_str))
        .bind(issuer.map(TokenId::as_str))
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// The columns a token insert writes, in the order of its values.
const TOKEN_COLUMNS: &str = "id, hash, display, name, kind, user_id, scopes, created_at, expires_at,
    revoked_at, last_used_at, rotated_from, parent_token_id, issued_by, issued_via";

/// What a failed token insert means to the caller.
fn insert_error(e: sqlx::Error, token: &TokenRecord) -> StoreError {
    if is_unique_violation(&e, "tokens.hash") {
        StoreError::Conflict("a token with this hash already exists".into())
    } else if is_unique_violation(&e, "tokens.id") {
        StoreError::Conflict(format!("a token with id '{}' already exists", token.id))
    } else {
        db_error("insert token", e)
    }
}

/// [`insert`] for every job of a group commit, inside its transaction:
/// each job's own answer, in order, or an error that fails the batch.
///
/// The jobs whose id and hash are new to the batch go in one statement that
/// skips a row that conflicts, whose owner is not live or whose issuer has
/// ended; each job that
/// skipped, and each repeat, then runs alone, in order, for the answer
/// [`insert`] gives.
pub(super) async fn insert_batch(
    conn: &mut SqliteConnection,
    jobs: &[InsertJob],
) -> StoreResult<Vec<StoreResult<()>>> {
    let scopes: Vec<StoreResult<String>> = jobs.iter().map(|job| scopes_json(&job.token.scopes)).collect();
    let (mut ids, mut hashes) = (HashSet::new(), HashSet::new());
    let fresh: Vec<(&InsertJob, &str)> = jobs
        .iter()
        .zip(&scopes)
        .filter_map(|(job, scopes)| Some((job, scopes.as_deref().ok()?)))
        // `&`, not `&&`: a repeat remembers its hash as well as its id.
        .filter(|(job, _)| ids.insert(job.token.id.as_str()) & hashes.insert(job.hash))
        .collect();
    let mut inserted = insert_rows(conn, &fresh).await?;

    // A fresh job is the first job with its id, so the first to ask for an
    // inserted id is the job that inserted it.

    let mut answers = Vec::with_capacity(jobs.len());
    for (job, scopes) in jobs.iter().zip(scopes) {
        let answer = match scopes {
            Err(e) => Err(e),
            Ok(_) if inserted.remove(job.token.id.as_str()) => Ok(()),
            Ok(scopes) => {
                match insert_row(conn, &job.token, &job.hash, &scopes, job.token.issued_via.as_ref()).await {
                    Ok(0) => Err(refusal(conn, &job.token, job.token.issued_via.as_ref()).await?),
                    Ok(_) => Ok(()),
                    Err(e) if is_constraint_error(&e) => Err(insert_error(e, &job.token)),
                    Err(e) => return Err(db_error("insert token", e)),
                }
            }
        };
        answers.push(answer);
    }
    Ok(answers)
}

/// Inserts `rows` (distinct ids and hashes) in one statement, skipping
/// conflicts, dead owners and ended issuers; the ids it inserted.
async fn insert_rows(
    conn: &mut SqliteConnection,
    rows: &[(&InsertJob, &str)],
) -> StoreResult<HashSet<String>> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO tokens ({TOKEN_COLUMNS}) SELECT * FROM ("));
    q.push_values(rows, |mut row, (job, scopes)| {
        let token = &job.token;
        row.push_bind(token.id.as_str())
            .push_bind(job.hash.as_bytes().as_slice())
            .push_bind(token.display.as_str())
            .push_bind(token.name.as_str())
            .push_bind(token.kind.as_str())
            .push_bind(token.user_id.as_str())
            .push_bind(*scopes)
            .push_bind(millis(token.created_at))
            .push_bind(opt_millis(token.expires_at))
            .push_bind(opt_millis(token.revoked_at))
            .push_bind(opt_millis(token.last_used_at))
            .push_bind(token.rotated_from.as_ref().map(TokenId::as_str))
            .push_bind(token.parent_token_id.as_ref().map(TokenId::as_str))
            .push_bind(token.issued_by.as_ref().map(UserId::as_str))
            .push_bind(token.issued_via.as_ref().map(TokenId::as_str));
    });
    q.push(format!(
        ") AS v WHERE EXISTS (SELECT 1 FROM users WHERE id = v.column6 AND deleted_at IS NULL)
           AND {}
         ON CONFLICT DO NOTHING RETURNING id",
        super::issuer::live("v.column15", "v.column8")
    ));
    // One statement per batch size: keep them out of the statement cache.
    match q.build_query_scalar::<String>().persistent(false).fetch_all(conn).await {
        Ok(ids) => Ok(ids.into_iter().collect()),
        // A row broke a constraint that DO NOTHING does not cover: the
        // statement inserted nothing, and each job runs alone.
        Err(e) if is_constraint_error(&e) => Ok(HashSet::new()),
        Err(e) => Err(db_error("insert tokens", e)),
    }
}

pub(super) async fn by_hash(pool: &SqlitePool, hash: &TokenHash) -> StoreResult<Option<TokenWithOwner>> {
    let sql = format!("{SELECT_TOKEN_WITH_OWNER} WHERE t.hash = ?");
    sqlx::query(&sql)
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select token by hash", e))?
        .as_ref()
        .map(rows::token_with_owner)
        .transpose()
}

pub(super) async fn by_id(pool: &SqlitePool, id: &TokenId) -> StoreResult<Option<TokenWithOwner>> {
    let sql = format!("{SELECT_TOKEN_WITH_OWNER} WHERE t.id = ?");
    sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select token by id", e))?
        .as_ref()
        .map(rows::token_with_owner)
        .transpose()
}

pub(super) async fn list(pool: &SqlitePool, f: &TokenFilter) -> StoreResult<Vec<TokenWithOwner>> {
    let now = millis(f.now);
    let mut q = QueryBuilder::<Sqlite>::new(SELECT_TOKEN_WITH_OWNER);
    q.push(" WHERE 1 = 1");
    if let Some(user) = &f.user_id {
        q.push(" AND t.user_id = ").push_bind(user.as_str());
    }
    if let Some(kind) = f.kind {
        q.push(" AND t.kind = ").push_bind(kind.as_str());
    }
    if let Some(before) = &f.before {
        q.push(" AND t.id < ").push_bind(before.as_str());
    }
    match f.status {
        None => {}
        Some(TokenStatus::Revoked) => {
            q.push(" AND t.revoked_at IS NOT NULL AND t.revoked_at <= ").push_bind(now);
        }
        Some(TokenStatus::Expired) => {
            q.push(" AND (t.revoked_at IS NULL OR t.revoked_at > ").push_bind(now);
            q.push(") AND t.expires_at IS NOT NULL AND t.expires_at <= ").push_bind(now);
        }
        Some(TokenStatus::Active) => {
            q.push(" AND (t.revoked_at IS NULL OR t.revoked_at > ").push_bind(now);
            q.push(") AND (t.expires_at IS NULL OR t.expires_at > ").push_bind(now);
            q.push(")");
        }
    }
    q.push(" ORDER BY t.id DESC LIMIT ").push_bind(i64::from(f.limit));
    q.build()
        .fetch_all(pool)
        .await
        .map_err(|e| db_error("list tokens", e))?
        .iter()
        .map(rows::token_with_owner)
        .collect()
}

/// Revokes the tokens of a group commit's jobs, inside its transaction:
/// each job's answer, in order (`true` when this job revoked it, `false`
/// when it was already revoked, `NotFound` when there is none), or an error
/// that fails the batch. The first job for an id revokes it at its `now`.
pub(super) async fn revoke_batch(
    conn: &mut SqliteConnection,
    jobs: &[RevokeJob],
) -> StoreResult<Vec<StoreResult<bool>>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = HashSet::new();
    let first: Vec<&RevokeJob> = jobs.iter().filter(|job| seen.insert(job.id.as_str())).collect();
    let mut q = QueryBuilder::<Sqlite>::new("UPDATE tokens SET revoked_at = v.column2 FROM (");
    q.push_values(&first, |mut row, job| {
        row.push_bind(job.id.as_str()).push_bind(millis(job.now));
    });
    q.push(") AS v WHERE tokens.id = v.column1 AND tokens.revoked_at IS NULL RETURNING id");
    let mut revoked: HashSet<String> = q
        .build_query_scalar::<String>()
        .persistent(false)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error("revoke tokens", e))?
        .into_iter()
        .collect();

    // Ending a token ends what it obtained, at the moment it ended.
    for job in &first {
        if revoked.contains(job.id.as_str()) {
            super::cascade::revoke(conn, &[job.id.as_str()], job.now).await?;
        }
    }

    // Only the first job for an id was in the update.
    let revoked_here: Vec<bool> = jobs.iter().map(|job| revoked.remove(job.id.as_str())).collect();
    let missed: Vec<&str> =
        jobs.iter().zip(&revoked_here).filter(|(_, here)| !**here).map(|(job, _)| job.id.as_str()).collect();
    let existing = existing_ids(conn, &missed).await?;
    Ok(jobs
        .iter()
        .zip(revoked_here)
        .map(|(job, here)| match here {
            true => Ok(true),
            false if existing.contains(job.id.as_str()) => Ok(false),
            false => Err(StoreError::NotFound),
        })
        .collect())
}

/// Which of `ids` name a stored token.
async fn existing_ids(conn: &mut SqliteConnection, ids: &[&str]) -> StoreResult<HashSet<String>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = QueryBuilder::<Sqlite>::new("SELECT id FROM tokens WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    let found = q
        .build_query_scalar::<String>()
        .persistent(false)
        .fetch_all(conn)
        .await
        .map_err(|e| db_error("select tokens", e))?;
    Ok(found.into_iter().collect())
}

pub(super) async fn delete(pool: &Pool, id: &TokenId, events: &[AuditEntry]) -> StoreResult<()> {
    let mut tx = pool.begin("delete token").await?;
    // Its descendants are revoked, not deleted: they stay listed as ended.
    #[expect(
        clippy::disallowed_methods,
        reason = "delete_token takes no time from its caller yet: the descendants' revoked_at is the store's wall clock"
    )]
    let now = Utc::now();
    super::cascade::revoke(&mut tx, &[id.as_str()], now).await?;
    let done = sqlx::query("DELETE FROM tokens WHERE id = ?")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error("delete token", e))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit delete token", e))
}

/// Ends `old` (at `old_ends_at`, never later than its own expiry, or now)
/// and inserts `new`, in one transaction; `Conflict` unless `old` is active
/// and has no successor (the write gate makes the check and the insert
/// one step for every writer of the process).
pub(super) async fn rotate(
    pool: &Pool,
    old: &TokenId,
    old_ends_at: Option<DateTime<Utc>>,
    new: &TokenRecord,
    new_hash: &TokenHash,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<()> {
    let at = now;
    let now = millis(now);
    let mut tx = pool.begin("rotate token").await?;
    let row: Option<(Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT expires_at, revoked_at FROM tokens WHERE id = ?")
            .bind(old.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error("select token to rotate", e))?;
    let (expires_at, revoked_at) = row.ok_or(StoreError::NotFound)?;
    let successor: Option<String> =
        sqlx::query_scalar("SELECT id FROM tokens WHERE rotated_from = ? ORDER BY id LIMIT 1")
            .bind(old.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error("select successor of rotated token", e))?;
    crate::rotation::check(old, expires_at, revoked_at, successor.as_deref(), at)?;
    let end = old_ends_at.map(|end| expires_at.map_or(millis(end), |t| t.min(millis(end))));
    let ending = match end {
        Some(end) => sqlx::query("UPDATE tokens SET expires_at = ? WHERE id = ?").bind(end),
        None => sqlx::query("UPDATE tokens SET revoked_at = ? WHERE id = ?").bind(now),
    };
    ending.bind(old.as_str()).execute(&mut *tx).await.map_err(|e| db_error("end rotated token", e))?;
    // A token rotating itself was checked above; any other caller must still be live.
    insert(&mut tx, new, new_hash, new.issued_via.as_ref().filter(|via| *via != old)).await?;
    // After the insert: a successor obtained by a descendant of `old` is
    // one of its descendants too.
    match end {
        Some(end) => super::cascade::shorten(&mut tx, old.as_str(), end).await?,
        None => super::cascade::revoke(&mut tx, &[old.as_str()], at).await?,
    }
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit rotate token", e))
}

/// Moves `last_used_at` forward, never back, for the whole batch at once.
/// Ids with no record (deleted since use) are skipped.
pub(super) async fn record_usage(pool: &Pool, used: &[(TokenId, DateTime<Utc>)]) -> StoreResult<()> {
    if used.is_empty() {
        return Ok(());
    }
    // One statement for the whole batch (a flush can hold tens of thousands
    // of tokens): the pairs travel as one JSON array, `[[id, millis], …]`.
    let pairs: Vec<(&str, i64)> = used.iter().map(|(id, at)| (id.as_str(), millis(*at))).collect();
    let pairs =
        serde_json::to_string(&pairs).map_err(|e| StoreError::Backend(format!("encode usage: {e}")))?;
    let mut tx = pool.begin("record usage").await?;
    sqlx::query(
        "UPDATE tokens SET last_used_at = MAX(COALESCE(tokens.last_used_at, u.at), u.at)
         FROM (SELECT json_extract(value, '$[0]') AS id, MAX(json_extract(value, '$[1]')) AS at
               FROM json_each(?1) GROUP BY 1) AS u
         WHERE tokens.id = u.id",
    )
    .bind(pairs)
    .persistent(false)
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error("record token usage", e))?;
    tx.commit().await.map_err(|e| db_error("commit record usage", e))
}
