//! The use count of `--max-uses` tokens: one conditional decrement per use,
//! for limited tokens only (an unlimited token is never written on use).
//!
//! `UPDATE … SET uses_left = uses_left - 1 WHERE id = $1 AND uses_left > 0`
//! is exact under any number of concurrent verifiers on any number of
//! nodes: on PostgreSQL the row lock queues them and each re-checks
//! `uses_left > 0` on the row as the one before it left it (READ
//! COMMITTED re-evaluates the condition after the wait); on SQLite the
//! write gate runs one at a time. So the N-th use is the last that
//! succeeds.

use super::{Columns, Conn, Db, DbResult, Sql};
use crate::StoreResult;
use ward_core::TokenId;

/// [`crate::Store::consume_use`]: the uses left after this one, or `None`
/// when none were left (or the token has no count, or no record).
pub(crate) async fn consume<D: Db>(db: &D, id: &TokenId) -> StoreResult<Option<u64>> {
    let sql = Sql::new(
        "UPDATE tokens SET uses_left = uses_left - 1
         WHERE id = $1 AND uses_left IS NOT NULL AND uses_left > 0 RETURNING uses_left",
    )
    .bind(id.as_str());
    let mut tx = db.begin("count a token use").await?;
    let row = tx.fetch_optional(sql).await.db("count a token use")?;
    let left = row.map(|r| r.int("uses_left")).transpose()?;
    D::commit(tx, "count a token use").await?;
    Ok(left.map(|n| u64::try_from(n).unwrap_or(0)))
}
