//! The first admin, and getting back in when its password is lost.

use crate::audit::AuditEvent;
use crate::entropy::{OsEntropy, random_password};
use crate::error::{ApiError, ApiResult};
use crate::password;
use ward_core::{EventId, Password, Role, UserId, Username};
use ward_store::{PasswordEnds, Store, StoreError, UserKind, UserRecord};

/// The name of the user created on first start.
pub const ADMIN: &str = Username::FIRST_ADMIN;
const GENERATED_LEN: usize = 24;

/// Where the admin password came from.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminPassword {
    /// Given (e.g. `WARD_ADMIN_PASSWORD`); nothing to show.
    Given,
    /// Generated; to be shown once to the operator.
    Generated(String),
}

fn choose(given: Option<String>) -> ApiResult<(Password, AdminPassword)> {
    match given {
        Some(p) => Ok((Password::new_checked(p).map_err(ApiError::invalid)?, AdminPassword::Given)),
        None => {
            let p = random_password(GENERATED_LEN);
            Ok((Password::new_checked(p.clone()).map_err(ApiError::invalid)?, AdminPassword::Generated(p)))
        }
    }
}

/// On an empty database, creates `admin` (role admin). Returns `None` when
/// users already exist, including when another process created the admin
/// between this one's count and its insert (two servers started at once on
/// one SQLite file; PostgreSQL nodes take turns under the start lock).
pub async fn ensure_admin(store: &dyn Store, given: Option<String>) -> ApiResult<Option<AdminPassword>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let (password, shown) = choose(given)?;
    let now = crate::clock::Clock::system().now();
    let user = UserRecord {
        id: UserId::generate(now, &mut OsEntropy),
        name: Username::first_admin(),
        kind: UserKind::Human { role: Role::Admin, password_hash: Some(password::hash(password).await?) },
        created_at: now,
        deleted_at: None,
        created_by: None,
    };
    match store.create_user(&user, &[]).await {
        Ok(()) => Ok(Some(shown)),
        Err(StoreError::Conflict(_)) if store.count_users().await? > 0 => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Resets the `admin` password (re-creating the user if it was deleted),
/// with an `admin.recover` audit event, in one transaction.
///
/// Whoever held the old password may hold its sessions too: with the new
/// password, every token, session and minted agent token of `admin` ends,
/// with what they obtained, and its pending approval requests are denied.
/// A server running on the same SQLite file may answer a session from its
/// verify cache for up to `cache.ttl`; PostgreSQL nodes are told at once.
/// The event waits in the audit outbox until a server chains it.
pub async fn recover_admin(store: &dyn Store, given: Option<String>) -> ApiResult<AdminPassword> {
    let (password, shown) = choose(given)?;
    let hash = password::hash(password).await?;
    let now = crate::clock::Clock::system().now();
    let event = |what: &str| {
        AuditEvent::new("admin.recover")
            .subject(ADMIN)
            .decision(what)
            .into_entry(EventId::generate(now, &mut OsEntropy), now)
    };
    match store.user_by_name(ADMIN).await? {
        Some(user) if matches!(user.kind, UserKind::Human { role: Role::Admin, .. }) => {
            let events =
                [event("password reset from the server's database; every credential of admin ended")];
            let ended = store.set_password(&user.id, &hash, PasswordEnds::Everything, now, &events).await?;
            tracing::info!(user.id = %user.id, tokens.revoked = ended, "admin recovered: old credentials ended");
        }
        Some(_) => {
            return Err(ApiError::Conflict(format!(
                "the user '{ADMIN}' exists but is not an admin; fix the database by hand"
            )));
        }
        None => {
            let user = UserRecord {
                id: UserId::generate(now, &mut OsEntropy),
                name: Username::first_admin(),
                kind: UserKind::Human { role: Role::Admin, password_hash: Some(hash) },
                created_at: now,
                deleted_at: None,
                created_by: None,
            };
            store.create_user(&user, &[event("admin re-created from the server's database")]).await?;
        }
    }
    Ok(shown)
}
