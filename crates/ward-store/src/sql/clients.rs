//! The clients each token was used from (forensics): the newest
//! [`MAX_CLIENTS`] distinct (address, user agent) pairs, with when each was
//! last seen. The server collects them in memory and writes them here in
//! batches (`ward-server/src/clients.rs`), never once per request.
//!
//! A batch is one transaction: each pair is upserted (a later time never
//! moves back), in (token, address, user agent) order so that two nodes
//! flushing the same tokens lock rows in the same order, then each token's
//! pairs beyond the newest five are deleted. A pair for a token deleted in
//! the meantime is skipped.

use super::rows::millis;
use super::{Columns, Conn, Db, DbResult, Sql};
use crate::{ClientSeen, MAX_CLIENTS, StoreError, StoreResult};
use chrono::DateTime;
use ward_core::TokenId;

/// [`crate::Store::record_clients`].
pub(crate) async fn record<D: Db>(db: &D, seen: &[(TokenId, ClientSeen)]) -> StoreResult<()> {
    if seen.is_empty() {
        return Ok(());
    }
    let mut sorted: Vec<&(TokenId, ClientSeen)> = seen.iter().collect();
    sorted.sort_by(|(a, x), (b, y)| {
        (a.as_str(), &x.address, &x.user_agent).cmp(&(b.as_str(), &y.address, &y.user_agent))
    });
    let mut tx = db.begin("record token clients").await?;
    for (id, client) in &sorted {
        let upsert = Sql::new(
            "INSERT INTO token_clients (token_id, address, user_agent, last_seen)
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM tokens WHERE id = $5)
             ON CONFLICT (token_id, address, user_agent) DO UPDATE SET last_seen = CASE
                 WHEN token_clients.last_seen < excluded.last_seen THEN excluded.last_seen
                 ELSE token_clients.last_seen END",
        )
        .bind(id.as_str())
        .bind(client.address.as_str())
        .bind(client.user_agent.as_str())
        .bind(millis(client.last_seen))
        .bind(id.as_str());
        tx.execute(upsert).await.db("record token client")?;
    }
    let mut ids: Vec<&str> = sorted.iter().map(|(id, _)| id.as_str()).collect();
    ids.dedup();
    let offset = i64::try_from(MAX_CLIENTS - 1).unwrap_or(4);
    for id in ids {
        let prune = Sql::new(
            "DELETE FROM token_clients WHERE token_id = $1 AND last_seen < (
                 SELECT last_seen FROM token_clients WHERE token_id = $2
                 ORDER BY last_seen DESC LIMIT 1 OFFSET $3)",
        )
        .bind(id)
        .bind(id)
        .bind(offset);
        tx.execute(prune).await.db("prune token clients")?;
    }
    D::commit(tx, "record token clients").await
}

/// [`crate::Store::token_clients`]: newest first, at most [`MAX_CLIENTS`].
pub(crate) async fn of<D: Db>(db: &D, id: &TokenId) -> StoreResult<Vec<ClientSeen>> {
    let sql = Sql::new(
        "SELECT address, user_agent, last_seen FROM token_clients WHERE token_id = $1
         ORDER BY last_seen DESC, address, user_agent LIMIT $2",
    )
    .bind(id.as_str())
    .bind(i64::try_from(MAX_CLIENTS).unwrap_or(5));
    let rows = db.read().await?.fetch_all(sql).await.db("select token clients")?;
    rows.iter()
        .map(|row| {
            let at = row.int("last_seen")?;
            Ok(ClientSeen {
                address: row.text("address")?,
                user_agent: row.text("user_agent")?,
                last_seen: DateTime::from_timestamp_millis(at)
                    .ok_or_else(|| StoreError::Corrupt("token_clients.last_seen: out of range".into()))?,
            })
        })
        .collect()
}
