//! Contract checks for the agent side: signing keys, minted tokens,
//! approvals.

use crate::support::*;
use chrono::{DateTime, Utc};
use ward_core::{Risk, TokenId, TokenKind, UserId};
use ward_store::{ApprovalRecord, ApprovalStatus, Backend, KeyRecord, MintedRecord, Opened, StoreError};

fn key(n: u8, created_at: DateTime<Utc>) -> KeyRecord {
    KeyRecord {
        kid: format!("key_{n:02}"),
        public_key: [n; 32],
        private_sealed: vec![0xA5, n, 0, 1, 2, 3],
        created_at,
        retired_at: None,
    }
}

pub fn minted(agent: &str, minter: &ward_store::UserRecord, issued_at: DateTime<Utc>) -> MintedRecord {
    MintedRecord {
        jti: TokenId::generate(issued_at, &mut Fresh),
        agent: agent.to_owned(),
        scopes: scopes(&["deploy:write", "stacks:read"]),
        kid: "key_01".into(),
        minted_by: minter.id.clone(),
        issued_at,
        expires_at: issued_at + chrono::Duration::minutes(15),
        revoked_at: None,
        parent_token_id: None,
        issued_via: None,
    }
}

/// A pending approval of `deploy` by `tok_…`, created at `created_at` and
/// expiring at `expires_at`, with an id that sorts by creation time.
pub fn approval(created_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> ApprovalRecord {
    let sortable = TokenId::generate(created_at, &mut Fresh);
    ApprovalRecord {
        id: format!("apr_{}", &sortable.as_str()[4..]),
        token_id: TokenId::generate(created_at, &mut Fresh).as_str().to_owned(),
        subject: "deployer".into(),
        requested_by: Some(UserId::generate(created_at, &mut Fresh)),
        operation: "deploy".into(),
        risk: Risk::High,
        status: ApprovalStatus::Pending,
        created_at,
        expires_at,
        decided_by: None,
        decided_at: None,
        reason: None,
    }
}

/// What the server allows a token to wait on at once.
const MAX_PENDING: u32 = 16;

async fn add_approval(store: &dyn Backend, a: ApprovalRecord) -> ApprovalRecord {
    let opened = store.open_approval(&a, MAX_PENDING, &[]).await.expect("open approval");
    assert_eq!(opened, Opened::New, "{a:?}");
    a
}

async fn add_minted(store: &dyn Backend, m: MintedRecord) -> MintedRecord {
    store.insert_minted(&m, &[]).await.expect("insert minted token");
    m
}

async fn fetch_approval(store: &dyn Backend, id: &str) -> ApprovalRecord {
    store.approval_by_id(id).await.expect("approval by id").expect("the approval exists")
}

async fn fetch_minted(store: &dyn Backend, jti: &TokenId) -> MintedRecord {
    store.minted_by_jti(jti).await.expect("minted by jti").expect("the minted token exists")
}

// Signing keys --------------------------------------------------------------

pub async fn signing_keys_are_listed_oldest_first_retired_ones_included(store: &dyn Backend) {
    assert!(store.list_keys().await.expect("list keys").is_empty());
    let second = key(2, at(2));
    let first = key(1, at(1));
    let mut retired = key(3, at(3));
    retired.retired_at = Some(at(4));
    for k in [&second, &retired, &first] {
        store.insert_key(k, &[]).await.expect("insert key");
    }
    assert_eq!(store.list_keys().await.expect("list keys"), vec![first, second, retired]);
}

pub async fn a_duplicate_kid_is_a_conflict_that_names_it(store: &dyn Backend) {
    let original = key(1, at(1));
    store.insert_key(&original, &[]).await.expect("insert key");
    assert_conflict(store.insert_key(&key(1, at(2)), &[]).await, "key_01");
    assert_eq!(store.list_keys().await.expect("list keys"), vec![original]);
}

pub async fn retiring_a_key_twice_keeps_the_first_time_and_a_missing_key_is_not_found(store: &dyn Backend) {
    let k = key(1, at(1));
    store.insert_key(&k, &[]).await.expect("insert key");
    assert!(store.retire_key(&k.kid, at(5), &[]).await.expect("retire"));
    assert!(!store.retire_key(&k.kid, at(9), &[]).await.expect("retire again"));
    let listed = store.list_keys().await.expect("list keys");
    assert_eq!(listed, vec![KeyRecord { retired_at: Some(at(5)), ..k }]);
    assert_not_found(store.retire_key("key_missing", at(5), &[]).await);
}

// Minted tokens -------------------------------------------------------------

pub async fn a_minted_token_is_found_by_jti_and_an_unknown_jti_finds_nothing(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let m = add_minted(store, minted("deployer", &alice, at(1))).await;
    assert_eq!(fetch_minted(store, &m.jti).await, m);
    let stranger = TokenId::generate(at(1), &mut Fresh);
    assert_eq!(store.minted_by_jti(&stranger).await.expect("by jti"), None);
}

pub async fn a_duplicate_jti_is_a_conflict_that_names_it(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let m = add_minted(store, minted("deployer", &alice, at(1))).await;
    let again = MintedRecord { agent: "other".into(), ..m.clone() };
    assert_conflict(store.insert_minted(&again, &[]).await, m.jti.as_str());
    assert_eq!(fetch_minted(store, &m.jti).await, m);
}

pub async fn a_minted_token_for_a_missing_or_deleted_minter_is_not_found(store: &dyn Backend) {
    let ghost = human("ghost", at(0));
    assert_not_found(store.insert_minted(&minted("deployer", &ghost, at(1)), &[]).await);
    let alice = add_user(store, human("alice", at(0))).await;
    store.delete_user(&alice.id, at(1), &[]).await.expect("delete");
    assert_not_found(store.insert_minted(&minted("deployer", &alice, at(2)), &[]).await);
    assert!(store.list_minted(None, None, 100).await.expect("list").is_empty());
}

pub async fn minted_tokens_are_listed_newest_first_by_agent_up_to_the_limit(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let a1 = add_minted(store, minted("deployer", &alice, at(1))).await;
    let b2 = add_minted(store, minted("backup", &alice, at(2))).await;
    let a3 = add_minted(store, minted("deployer", &alice, at(3))).await;
    let a4 = add_minted(store, minted("deployer", &alice, at(4))).await;

    let all = store.list_minted(None, None, 100).await.expect("list");
    assert_eq!(all, vec![a4.clone(), a3.clone(), b2.clone(), a1.clone()]);
    let deployer = store.list_minted(Some("deployer"), None, 100).await.expect("list by agent");
    assert_eq!(deployer, vec![a4.clone(), a3.clone(), a1]);
    assert_eq!(store.list_minted(Some("deployer"), None, 2).await.expect("limit"), vec![a4, a3]);
    assert_eq!(store.list_minted(Some("backup"), None, 100).await.expect("backup"), vec![b2]);
    assert!(store.list_minted(Some("nobody"), None, 100).await.expect("nobody").is_empty());
}

pub async fn revoking_a_minted_token_twice_keeps_the_first_time_and_returns_false(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let m = add_minted(store, minted("deployer", &alice, at(1))).await;
    assert!(store.revoke_minted(&m.jti, at(5), &[]).await.expect("revoke"));
    assert!(!store.revoke_minted(&m.jti, at(9), &[]).await.expect("revoke again"));
    assert_eq!(fetch_minted(store, &m.jti).await.revoked_at, Some(at(5)));
    let missing = TokenId::generate(at(1), &mut Fresh);
    assert_not_found(store.revoke_minted(&missing, at(5), &[]).await);
}

pub async fn revoking_an_agent_counts_only_its_unrevoked_tokens_issued_by_then(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let early = add_minted(store, minted("deployer", &alice, at(1))).await;
    let revoked = add_minted(store, minted("deployer", &alice, at(2))).await;
    store.revoke_minted(&revoked.jti, at(3), &[]).await.expect("revoke one");
    let at_the_moment = add_minted(store, minted("deployer", &alice, at(5))).await;
    let later = add_minted(store, minted("deployer", &alice, at(6))).await;
    let other_agent = add_minted(store, minted("backup", &alice, at(1))).await;

    assert_eq!(store.revoke_agent("deployer", None, at(5), &[]).await.expect("revoke agent"), 2);
    assert_eq!(fetch_minted(store, &early.jti).await.revoked_at, Some(at(5)));
    assert_eq!(fetch_minted(store, &at_the_moment.jti).await.revoked_at, Some(at(5)));
    assert_eq!(fetch_minted(store, &revoked.jti).await.revoked_at, Some(at(3)), "first time kept");
    assert_eq!(fetch_minted(store, &later.jti).await, later, "issued later: untouched");
    assert_eq!(fetch_minted(store, &other_agent.jti).await, other_agent, "another agent: untouched");
    assert_eq!(store.revoke_agent("deployer", None, at(5), &[]).await.expect("again"), 0);
    assert_eq!(store.revoke_agent("nobody", None, at(5), &[]).await.expect("no such agent"), 0);
}

pub async fn minted_tokens_are_listed_and_revoked_by_minter_when_asked(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let bob = add_user(store, human("bob", at(0))).await;
    let hers = add_minted(store, minted("deployer", &alice, at(1))).await;
    let his = add_minted(store, minted("deployer", &bob, at(2))).await;
    let her_backup = add_minted(store, minted("backup", &alice, at(3))).await;

    let mine = store.list_minted(None, Some(&alice.id), 100).await.expect("list by minter");
    assert_eq!(mine, vec![her_backup.clone(), hers.clone()]);
    let both = store.list_minted(Some("deployer"), Some(&bob.id), 100).await.expect("agent and minter");
    assert_eq!(both, vec![his.clone()]);

    assert_eq!(store.revoke_agent("deployer", Some(&alice.id), at(5), &[]).await.expect("revoke hers"), 1);
    assert_eq!(fetch_minted(store, &hers.jti).await.revoked_at, Some(at(5)));
    assert_eq!(fetch_minted(store, &his.jti).await, his, "another minter's: untouched");
    assert_eq!(fetch_minted(store, &her_backup.jti).await, her_backup, "another agent: untouched");
}

/// How a user is ended.
#[derive(Clone, Copy)]
enum Ending {
    RevokeTokens,
    Delete,
}

/// Ends alice and checks that exactly her credentials ended, at once.
async fn ending_a_user_ends_what_they_minted_and_asked(store: &dyn Backend, how: Ending) {
    let alice = add_user(store, human("alice", at(0))).await;
    let bob = add_user(store, human("bob", at(0))).await;
    let session = add(store, token(&alice, TokenKind::Login, at(1))).await;
    let hers = add_minted(store, minted("deployer", &alice, at(1))).await;
    let his = add_minted(store, minted("deployer", &bob, at(1))).await;
    let asked_by = |who: &ward_store::UserRecord, minute| ApprovalRecord {
        requested_by: Some(who.id.clone()),
        ..approval(at(minute), at(60))
    };
    let pending = add_approval(store, asked_by(&alice, 1)).await;
    let decided = add_approval(store, asked_by(&alice, 2)).await;
    store.decide_approval(&decided.id, true, "carol", None, at(3), &[]).await.expect("approve");
    let others = add_approval(store, asked_by(&bob, 4)).await;

    let revoked = match how {
        Ending::RevokeTokens => store.revoke_user_tokens(&alice.id, at(10), &[]).await.expect("revoke all"),
        Ending::Delete => store.delete_user(&alice.id, at(10), &[]).await.expect("delete"),
    };
    assert_eq!(revoked, 2, "the session and the minted token");
    assert_eq!(fetch(store, &session.id).await.revoked_at, Some(at(10)));
    assert_eq!(fetch_minted(store, &hers.jti).await.revoked_at, Some(at(10)));
    assert_eq!(fetch_minted(store, &his.jti).await, his, "bob's agent: untouched");
    let denied = fetch_approval(store, &pending.id).await;
    assert_eq!(denied.status, ApprovalStatus::Denied);
    assert_eq!(denied.decided_at, Some(at(10)));
    assert_eq!(denied.reason.as_deref(), Some(ward_store::ENDED_REASON));
    assert_eq!(fetch_approval(store, &decided.id).await.status, ApprovalStatus::Approved, "already decided");
    assert_eq!(fetch_approval(store, &others.id).await, others, "bob's request: untouched");
}

pub async fn revoking_a_users_tokens_ends_their_agents_and_pending_requests(store: &dyn Backend) {
    ending_a_user_ends_what_they_minted_and_asked(store, Ending::RevokeTokens).await;
}

pub async fn deleting_a_user_ends_their_agents_and_pending_requests(store: &dyn Backend) {
    ending_a_user_ends_what_they_minted_and_asked(store, Ending::Delete).await;
}

// Approvals -----------------------------------------------------------------

pub async fn an_approval_is_found_by_id_and_a_duplicate_id_is_a_conflict(store: &dyn Backend) {
    let a = add_approval(store, approval(at(1), at(10))).await;
    assert_eq!(fetch_approval(store, &a.id).await, a);
    let mut decided = approval(at(2), at(10));
    decided.requested_by = None;
    decided.risk = Risk::Critical;
    decided.status = ApprovalStatus::Denied;
    decided.decided_by = Some("usr_admin".into());
    decided.decided_at = Some(at(3));
    decided.reason = Some("not on a Friday".into());
    let decided = add_approval(store, decided).await;
    assert_eq!(fetch_approval(store, &decided.id).await, decided);

    let again = ApprovalRecord { operation: "other".into(), ..a.clone() };
    assert_conflict(store.open_approval(&again, MAX_PENDING, &[]).await, &a.id);
    assert_eq!(fetch_approval(store, &a.id).await, a);
    assert_eq!(store.approval_by_id("apr_missing").await.expect("by id"), None);
}

pub async fn approvals_are_listed_newest_first_filtered_by_status_up_to_the_limit(store: &dyn Backend) {
    let p1 = add_approval(store, approval(at(1), at(60))).await;
    let p2 = add_approval(store, approval(at(2), at(60))).await;
    let d3 = add_approval(store, approval(at(3), at(60))).await;
    let p4 = add_approval(store, approval(at(4), at(60))).await;
    let d3 = store.decide_approval(&d3.id, false, "usr_admin", None, at(5), &[]).await.expect("deny");

    let all = store.list_approvals(None, 100).await.expect("list");
    assert_eq!(all, vec![p4.clone(), d3.clone(), p2.clone(), p1.clone()]);
    let pending = store.list_approvals(Some(ApprovalStatus::Pending), 100).await.expect("pending");
    assert_eq!(pending, vec![p4.clone(), p2.clone(), p1]);
    let limited = store.list_approvals(Some(ApprovalStatus::Pending), 2).await.expect("limit");
    assert_eq!(limited, vec![p4, p2]);
    let denied = store.list_approvals(Some(ApprovalStatus::Denied), 100).await.expect("denied");
    assert_eq!(denied, vec![d3]);
    assert!(store.list_approvals(Some(ApprovalStatus::Used), 100).await.expect("used").is_empty());
}

pub async fn deciding_a_pending_approval_approves_or_denies_it_exactly_once(store: &dyn Backend) {
    let yes = add_approval(store, approval(at(1), at(10))).await;
    let no = add_approval(store, approval(at(2), at(10))).await;

    let approved = store.decide_approval(&yes.id, true, "usr_bob", None, at(3), &[]).await.expect("approve");
    let expected = ApprovalRecord {
        status: ApprovalStatus::Approved,
        decided_by: Some("usr_bob".into()),
        decided_at: Some(at(3)),
        ..yes.clone()
    };
    assert_eq!(approved, expected);
    assert_eq!(fetch_approval(store, &yes.id).await, expected);

    let denied =
        store.decide_approval(&no.id, false, "usr_bob", Some("too risky"), at(4), &[]).await.expect("deny");
    assert_eq!(denied.status, ApprovalStatus::Denied);
    assert_eq!(denied.reason.as_deref(), Some("too risky"));
    assert_eq!(fetch_approval(store, &no.id).await, denied);

    let again = store.decide_approval(&yes.id, false, "usr_eve", None, at(5), &[]).await;
    assert_conflict(again, &format!("approval {} is already approved", yes.id));
    let again = store.decide_approval(&no.id, true, "usr_eve", None, at(5), &[]).await;
    assert_conflict(again, &format!("approval {} is already denied", no.id));
    assert_eq!(fetch_approval(store, &yes.id).await, expected, "the first decision stands");
}

pub async fn deciding_an_expired_used_or_missing_approval_fails_and_changes_nothing(store: &dyn Backend) {
    let stale = add_approval(store, approval(at(1), at(10))).await;
    let at_expiry = store.decide_approval(&stale.id, true, "usr_bob", None, at(10), &[]).await;
    assert_conflict(at_expiry, &format!("approval {} has expired", stale.id));
    let after = store.decide_approval(&stale.id, false, "usr_bob", None, at(11), &[]).await;
    assert_conflict(after, "has expired");
    assert_eq!(fetch_approval(store, &stale.id).await, stale);

    let spent = add_approval(store, approval(at(2), at(10))).await;
    store.decide_approval(&spent.id, true, "usr_bob", None, at(3), &[]).await.expect("approve");
    assert!(store.consume_approval(&spent.id, &spent.token_id, "deploy", at(4), &[]).await.expect("consume"));
    let used = store.decide_approval(&spent.id, true, "usr_bob", None, at(5), &[]).await;
    assert_conflict(used, &format!("approval {} is already used", spent.id));

    assert_not_found(store.decide_approval("apr_missing", true, "usr_bob", None, at(3), &[]).await);
}

pub async fn an_approval_is_consumed_only_when_approved_unexpired_and_bound_to_the_caller(
    store: &dyn Backend,
) {
    let a = add_approval(store, approval(at(1), at(10))).await;
    let consume = |token: &str, operation: &str, minute| {
        let (id, token, operation) = (a.id.clone(), token.to_owned(), operation.to_owned());
        async move { store.consume_approval(&id, &token, &operation, at(minute), &[]).await.expect("consume") }
    };
    assert!(!consume(&a.token_id, "deploy", 2).await, "still pending");
    store.decide_approval(&a.id, true, "usr_bob", None, at(3), &[]).await.expect("approve");
    assert!(!consume("tok_someone_else", "deploy", 4).await, "another token");
    assert!(!consume(&a.token_id, "delete", 4).await, "another operation");
    assert!(!consume(&a.token_id, "deploy", 10).await, "expired at expires_at");
    assert_eq!(fetch_approval(store, &a.id).await.status, ApprovalStatus::Approved);
    assert!(consume(&a.token_id, "deploy", 5).await, "the first good use");
    assert!(!consume(&a.token_id, "deploy", 6).await, "spent");
    assert_eq!(fetch_approval(store, &a.id).await.status, ApprovalStatus::Used);

    let denied = add_approval(store, approval(at(2), at(10))).await;
    store.decide_approval(&denied.id, false, "usr_bob", None, at(3), &[]).await.expect("deny");
    let tried = store.consume_approval(&denied.id, &denied.token_id, "deploy", at(4), &[]).await;
    assert!(!tried.expect("consume a denied approval"));
    assert!(!store.consume_approval("apr_missing", "tok_x", "deploy", at(4), &[]).await.expect("missing"));
}

pub async fn concurrent_consumers_of_one_approval_get_exactly_one_true(store: &dyn Backend) {
    let a = add_approval(store, approval(at(1), at(10))).await;
    store.decide_approval(&a.id, true, "usr_bob", None, at(2), &[]).await.expect("approve");
    let consume = || store.consume_approval(&a.id, &a.token_id, "deploy", at(3), &[]);
    let results =
        tokio::join!(consume(), consume(), consume(), consume(), consume(), consume(), consume(), consume());
    let results: Vec<Result<bool, StoreError>> =
        vec![results.0, results.1, results.2, results.3, results.4, results.5, results.6, results.7];
    let won = results.into_iter().filter(|r| *r.as_ref().expect("consume")).count();
    assert_eq!(won, 1);
    assert_eq!(fetch_approval(store, &a.id).await.status, ApprovalStatus::Used);
}

pub async fn a_second_request_of_a_token_for_the_same_operation_gets_the_pending_one(store: &dyn Backend) {
    let a = add_approval(store, approval(at(1), at(60))).await;
    let retry = ApprovalRecord { id: "apr_retry".into(), created_at: at(2), ..a.clone() };
    assert_eq!(
        store.open_approval(&retry, MAX_PENDING, &[]).await.expect("open"),
        Opened::Waiting(Box::new(a.clone()))
    );
    assert_eq!(store.approval_by_id("apr_retry").await.expect("by id"), None, "nothing new was written");

    let other = ApprovalRecord { id: "apr_other".into(), operation: "restart".into(), ..retry.clone() };
    assert_eq!(store.open_approval(&other, MAX_PENDING, &[]).await.expect("open"), Opened::New);
    let stranger = ApprovalRecord { id: "apr_stranger".into(), token_id: "tok_someone_else".into(), ..retry };
    assert_eq!(store.open_approval(&stranger, MAX_PENDING, &[]).await.expect("open"), Opened::New);
}

pub async fn a_request_after_the_pending_one_expired_or_was_decided_opens_a_new_one(store: &dyn Backend) {
    let a = add_approval(store, approval(at(1), at(10))).await;
    let later =
        ApprovalRecord { id: "apr_later".into(), created_at: at(10), expires_at: at(70), ..a.clone() };
    assert_eq!(store.open_approval(&later, MAX_PENDING, &[]).await.expect("open"), Opened::New, "a expired");
    store.decide_approval(&later.id, false, "usr_bob", None, at(11), &[]).await.expect("deny");
    let again = ApprovalRecord { id: "apr_again".into(), created_at: at(12), ..later };
    assert_eq!(
        store.open_approval(&again, MAX_PENDING, &[]).await.expect("open"),
        Opened::New,
        "later denied"
    );
}

pub async fn a_token_waiting_on_the_most_requests_is_refused_another(store: &dyn Backend) {
    let first = approval(at(1), at(60));
    for n in 0..3 {
        let a = ApprovalRecord { id: format!("apr_{n}"), operation: format!("op{n}"), ..first.clone() };
        assert_eq!(store.open_approval(&a, 3, &[]).await.expect("open"), Opened::New);
    }
    let fourth = ApprovalRecord { id: "apr_3".into(), operation: "op3".into(), ..first.clone() };
    assert_eq!(store.open_approval(&fourth, 3, &[]).await.expect("open"), Opened::Full(3));
    assert_eq!(store.approval_by_id("apr_3").await.expect("by id"), None);
    let same = ApprovalRecord { id: "apr_4".into(), operation: "op1".into(), ..first };
    assert!(
        matches!(store.open_approval(&same, 3, &[]).await.expect("open"), Opened::Waiting(w) if w.id == "apr_1")
    );
}
