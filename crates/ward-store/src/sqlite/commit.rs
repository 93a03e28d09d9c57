//! How this process writes to SQLite: one write transaction at a time, in
//! a fair queue, and group commit for token inserts and revokes.
//!
//! SQLite has one write lock per database file. Every write of this
//! process first takes an async gate ([`Pool::begin`]),
//! so writers wait their turn in a FIFO queue instead of in SQLite's busy
//! handler, which sleeps 1 to 100 ms between retries. Other processes on
//! the same file still meet `busy_timeout`. The gate is always taken
//! before a connection and never while holding one, so a pool of one
//! connection (`:memory:`) cannot deadlock; a write never reads through
//! the pool while it holds the gate.
//!
//! Token inserts and revokes, the writes that come in floods, go through
//! [`Committer`]: one task takes every job queued at that moment (at most
//! [`MAX_BATCH`]), runs them in one `BEGIN IMMEDIATE … COMMIT` (one fsync
//! under `synchronous=FULL`) on a connection of the pool, and answers each
//! caller only after that COMMIT succeeded. It never waits for more jobs:
//! a lone job commits at once, and under load jobs queue while a batch
//! commits, to go together in the next. Jobs of one batch were all in
//! flight at once, so any order among them is one their callers could
//! have seen; the batch runs inserts before revokes.
//!
//! Every write transaction ends in [`WriteTx::commit`], which hands what
//! the write announced to the process's invalidation feeds once the COMMIT
//! succeeded (`announce.rs`).
//!
//! Each job carries the audit events of its change; those of the jobs that
//! changed something go into the audit outbox in the same transaction.
//!
//! Each job gets the answer it would get alone (`NotFound`, `Conflict`,
//! `Ok(false)`), and one job's failure neither fails nor undoes the others:
//! a constraint error aborts only its own statement. Any other error may
//! have ended the transaction, so it fails the whole batch, as a failed
//! COMMIT does: nothing is acknowledged that is not durable.
//!
//! The task ends when the last handle of the store is dropped. It holds a
//! connection only while a batch runs, so [`super::SqliteStore::close`]
//! closes every connection as before; jobs sent after that fail.

use super::announce::Listeners;
use crate::sql::{DbResult, audit, db_error};
use crate::{StoreError, StoreResult, TokenRecord};
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, oneshot};
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId};

/// The most jobs one group commit takes.
pub(super) const MAX_BATCH: usize = 256;

/// The connection pool and the gate every write of this process takes.
/// Reads go straight to the pool (it dereferences to [`SqlitePool`]).
#[derive(Debug, Clone)]
pub(super) struct Pool {
    pool: SqlitePool,
    gate: Arc<Mutex<()>>,
    /// Who hears the invalidations committed writes announce.
    listeners: Listeners,
}

impl Pool {
    pub(super) fn new(pool: SqlitePool) -> Self {
        Self { pool, gate: Arc::new(Mutex::new(())), listeners: Listeners::default() }
    }

    /// The feeds of committed invalidations (`announce.rs`).
    pub(super) fn listeners(&self) -> &Listeners {
        &self.listeners
    }

    /// Waits for the gate, then begins an immediate transaction (`what` names
    /// it in errors).
    pub(super) async fn begin(&self, what: &str) -> StoreResult<WriteTx> {
        let gate = self.gate.clone().lock_owned().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| db_error(&format!("begin {what}"), e))?;
        Ok(WriteTx { tx: Some(tx), gate: Some(gate), listeners: self.listeners.clone() })
    }
}

impl Deref for Pool {
    type Target = SqlitePool;

    fn deref(&self) -> &SqlitePool {
        &self.pool
    }
}

/// An immediate transaction holding the gate. Dropped without
/// [`WriteTx::commit`] (an error returned early, a cancelled caller), it
/// rolls back before the gate opens, so the next writer never finds
/// SQLite's write lock still taken.
#[derive(Debug)]
pub struct WriteTx {
    // Both are `Some` until `commit` or `drop` takes them.
    tx: Option<Transaction<'static, Sqlite>>,
    gate: Option<OwnedMutexGuard<()>>,
    listeners: Listeners,
}

impl WriteTx {
    /// Commits, tells the feeds what it announced, then opens the gate.
    pub(super) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let Some(mut tx) = self.tx.take() else { return Ok(()) };
        let heard = match self.listeners.take(&mut tx).await {
            Ok(heard) => heard,
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(e);
            }
        };
        tx.commit().await?;
        self.listeners.send(heard);
        Ok(())
    }

    fn conn(&self) -> &SqliteConnection {
        self.tx.as_deref().expect("a WriteTx holds its transaction until it is consumed")
    }

    fn conn_mut(&mut self) -> &mut SqliteConnection {
        self.tx.as_deref_mut().expect("a WriteTx holds its transaction until it is consumed")
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.conn()
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn_mut()
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let (Some(tx), gate) = (self.tx.take(), self.gate.take()) else { return };
        // Without a runtime, the transaction's own drop queues the rollback.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = tx.rollback().await {
                    tracing::warn!(error = %e, "could not roll back an abandoned SQLite write");
                }
                drop(gate);
            });
        }
    }
}

/// The sending side of the group committer; cloned with the store.
#[derive(Debug, Clone)]
pub(super) struct Committer {
    jobs: mpsc::UnboundedSender<Job>,
}

#[derive(Debug)]
pub(super) struct InsertJob {
    token: TokenRecord,
    hash: TokenHash,
    /// Stored in the audit outbox in the same commit, if the insert succeeds.
    events: Vec<AuditEntry>,
    done: oneshot::Sender<StoreResult<()>>,
}

#[derive(Debug)]
pub(super) struct RevokeJob {
    id: TokenId,
    now: DateTime<Utc>,
    /// Stored in the audit outbox in the same commit, if this job revokes.
    events: Vec<AuditEntry>,
    done: oneshot::Sender<StoreResult<bool>>,
}

#[derive(Debug)]
enum Job {
    // Boxed: a token record is far larger than a revoke.
    Insert(Box<InsertJob>),
    Revoke(RevokeJob),
}

impl Committer {
    /// Spawns the committing task on the current runtime.
    pub(super) fn start(pool: Pool) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, queue));
        Self { jobs }
    }

    /// Inserts a token (as `sql::tokens::insert` does), answered once its
    /// batch is durable.
    pub(super) async fn insert(
        &self,
        token: &TokenRecord,
        hash: &TokenHash,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        let (done, answer) = oneshot::channel();
        let job = InsertJob { token: token.clone(), hash: *hash, events: events.to_vec(), done };
        self.submit(Job::Insert(Box::new(job)), answer).await
    }

    /// Revokes a token, answered once its batch is durable: `Ok(false)`
    /// when it was already revoked, `NotFound` when there is none.
    pub(super) async fn revoke(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        let (done, answer) = oneshot::channel();
        self.submit(Job::Revoke(RevokeJob { id: id.clone(), now, events: events.to_vec(), done }), answer)
            .await
    }

    async fn submit<T>(&self, job: Job, answer: oneshot::Receiver<StoreResult<T>>) -> StoreResult<T> {
        let stopped = || StoreError::Backend("the SQLite group committer has stopped".into());
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Commits what is queued, batch after batch, until every sender is gone.
async fn run(pool: Pool, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (mut inserts, mut revokes) = (Vec::new(), Vec::new());
        for job in jobs.drain(..) {
            match job {
                Job::Insert(job) => inserts.push(*job),
                Job::Revoke(job) => revokes.push(job),
            }
        }
        match commit(&pool, &inserts, &revokes).await {
            Ok((inserted, revoked)) => {
                answer(inserts.into_iter().map(|j| j.done).zip(inserted));
                answer(revokes.into_iter().map(|j| j.done).zip(revoked));
            }
            Err(e) => {
                answer(inserts.into_iter().map(|j| (j.done, Err(copy(&e)))));
                answer(revokes.into_iter().map(|j| (j.done, Err(copy(&e)))));
            }
        }
    }
}

/// Runs one batch in one transaction: each job's own answer, or the error
/// that failed them all.
async fn commit(
    pool: &Pool,
    inserts: &[InsertJob],
    revokes: &[RevokeJob],
) -> StoreResult<(Vec<StoreResult<()>>, Vec<StoreResult<bool>>)> {
    let mut tx = pool.begin("token batch").await?;
    let insert_jobs: Vec<_> = inserts.iter().map(|job| (&job.token, &job.hash)).collect();
    let inserted = super::batch::insert(&mut tx, &insert_jobs).await?;
    let revoke_jobs: Vec<_> = revokes.iter().map(|job| (&job.id, job.now)).collect();
    let revoked = super::batch::revoke(&mut tx, &revoke_jobs).await?;
    // The events of the jobs that changed something, in the batch's order.
    let events: Vec<AuditEntry> = (inserts.iter().zip(&inserted))
        .filter(|(_, answer)| answer.is_ok())
        .flat_map(|(job, _)| job.events.iter().cloned())
        .chain(
            revokes
                .iter()
                .zip(&revoked)
                .filter(|(_, answer)| matches!(answer, Ok(true)))
                .flat_map(|(job, _)| job.events.iter().cloned()),
        )
        .collect();
    audit::outbox_insert(&mut *tx, &events).await?;
    tx.commit().await.db("commit token batch")?;
    Ok((inserted, revoked))
}

/// Sends each answer; a caller that went away no longer needs it.
fn answer<T>(answers: impl Iterator<Item = (oneshot::Sender<StoreResult<T>>, StoreResult<T>)>) {
    for (done, result) in answers {
        let _ = done.send(result);
    }
}

/// The same error again, for every job of a failed batch.
fn copy(e: &StoreError) -> StoreError {
    match e {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Backend(m) => StoreError::Backend(m.clone()),
        StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
        StoreError::IssuerEnded => StoreError::IssuerEnded,
    }
}
