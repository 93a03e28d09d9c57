//! Fixtures for the contract checks: fixed times, fresh ids, users and
//! tokens built the way the server builds them.

use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicU64, Ordering};
use ward_core::{Entropy, PlainToken, Prefix, Role, Scope, ScopeSet, TokenId, TokenKind, TokenName, UserId};
use ward_store::{Store, StoreError, TokenFilter, TokenRecord, UserKind, UserRecord};

/// Distinct bytes on every call, across every test in the binary.
pub struct Fresh;

static COUNTER: AtomicU64 = AtomicU64::new(1);

impl Entropy for Fresh {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let bytes = n.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// A fixed moment plus `minutes`, with whole milliseconds like the store.
pub fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_750_000_000_000).expect("a valid base time")
        + Duration::minutes(minutes)
}

pub fn scopes(names: &[&str]) -> ScopeSet {
    names.iter().map(|s| Scope::parse(s).expect("a valid scope")).collect()
}

pub fn human(name: &str, created_at: DateTime<Utc>) -> UserRecord {
    UserRecord {
        id: UserId::generate(created_at, &mut Fresh),
        name: ward_core::Username::parse(name).unwrap_or_else(|e| panic!("{e}")),
        kind: UserKind::Human { role: Role::User, password_hash: Some("$argon2id$fake".into()) },
        created_at,
        deleted_at: None,
        created_by: None,
    }
}

pub fn service(name: &str, created_at: DateTime<Utc>) -> UserRecord {
    UserRecord {
        id: UserId::generate(created_at, &mut Fresh),
        name: ward_core::Username::parse(name).unwrap_or_else(|e| panic!("{e}")),
        kind: UserKind::Service { scopes: scopes(&["deploy:write", "stacks:read"]) },
        created_at,
        deleted_at: None,
        created_by: None,
    }
}

/// A new token of `owner`, the plain token it stands for, and its record.
pub struct NewToken {
    pub plain: PlainToken,
    pub record: TokenRecord,
}

impl NewToken {
    pub fn hash(&self) -> ward_core::TokenHash {
        self.plain.hash()
    }
}

pub fn token(owner: &UserRecord, kind: TokenKind, created_at: DateTime<Utc>) -> NewToken {
    let plain = PlainToken::generate(&Prefix::default(), kind, &mut Fresh);
    let id = TokenId::generate(created_at, &mut Fresh);
    let record = TokenRecord {
        name: TokenName::parse(&format!("{}-{}", kind.as_str(), &id.as_str()[20..])).expect("a token name"),
        id,
        kind,
        user_id: owner.id.clone(),
        scopes: scopes(&["stacks:read"]),
        display: plain.display_start(),
        created_at,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        rotated_from: None,
        parent_token_id: None,
        issued_by: None,
        issued_via: None,
        limits: Default::default(),
    };
    NewToken { plain, record }
}

pub async fn add_user(store: &dyn Store, user: UserRecord) -> UserRecord {
    store.create_user(&user, &[]).await.expect("create user");
    user
}

/// Inserts `token` and returns its record.
pub async fn add(store: &dyn Store, token: NewToken) -> TokenRecord {
    store.insert_token(&token.record, &token.hash(), &[]).await.expect("insert token");
    token.record
}

/// Inserts a personal token of `owner` created at `at(minute)`.
pub async fn add_token(store: &dyn Store, owner: &UserRecord, minute: i64) -> TokenRecord {
    add(store, token(owner, TokenKind::Personal, at(minute))).await
}

pub async fn fetch(store: &dyn Store, id: &TokenId) -> TokenRecord {
    store.token_by_id(id).await.expect("token by id").expect("the token exists").token
}

/// Every token, judged at `now`, newest first.
pub fn all_at(now: DateTime<Utc>) -> TokenFilter {
    TokenFilter::all(now, 1000)
}

pub async fn listed(store: &dyn Store, filter: &TokenFilter) -> Vec<TokenId> {
    let rows = store.list_tokens(filter).await.expect("list tokens");
    rows.into_iter().map(|t| t.token.id).collect()
}

pub fn ids(tokens: &[&TokenRecord]) -> Vec<TokenId> {
    tokens.iter().map(|t| t.id.clone()).collect()
}

#[track_caller]
pub fn assert_conflict(result: Result<impl std::fmt::Debug, StoreError>, names: &str) {
    match result {
        Err(StoreError::Conflict(message)) => {
            assert!(message.contains(names), "conflict message {message:?} should name {names:?}")
        }
        other => panic!("expected a conflict naming {names:?}, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_not_found(result: Result<impl std::fmt::Debug, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "expected NotFound, got {result:?}");
}
