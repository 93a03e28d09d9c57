//! The storage contract: every check a backend of [`ward_store::Store`]
//! must pass, written once against `&dyn Store` and run against each
//! backend by [`contract_suite!`]. A new backend adds one `mod` at the
//! bottom with a function that opens a fresh, empty store (or `None` when
//! the backend is not available here, and the checks say they are skipped).
//!
//! PostgreSQL runs when `WARD_TEST_DATABASE_URL` names a server to create
//! test databases on, e.g. `postgres://postgres@127.0.0.1:5432/postgres`;
//! each check gets a database of its own, dropped afterwards. Without the
//! variable the PostgreSQL checks are skipped, except under `CI`, where
//! they fail.

#[path = "contract/agents.rs"]
mod agents;
#[path = "contract/audit.rs"]
mod audit;
#[path = "contract/cascade.rs"]
mod cascade;
#[path = "contract/concurrency.rs"]
mod concurrency;
#[path = "contract/feed.rs"]
mod feed;
#[path = "contract/issuer.rs"]
mod issuer;
#[path = "contract/lifecycle.rs"]
mod lifecycle;
#[path = "contract/limits.rs"]
mod limits;
#[path = "contract/listing.rs"]
mod listing;
#[path = "contract/notify.rs"]
mod notify;
#[path = "contract/outbox.rs"]
mod outbox;
#[path = "contract/postgres.rs"]
mod postgres;
#[path = "contract/sqlite.rs"]
mod sqlite;
#[path = "contract/support.rs"]
mod support;
#[path = "contract/tokens.rs"]
mod tokens;
#[path = "contract/users.rs"]
mod users;

use std::sync::Arc;

/// A fresh store and whatever keeps it alive (a temp dir, a database).
pub(crate) struct Backend {
    pub(crate) store: Arc<dyn ward_store::Backend>,
    _guard: Box<dyn std::any::Any + Send>,
}

/// One `#[tokio::test]` per check, each on a fresh store from `$fresh()`,
/// which returns `None` (having said why) when its backend is skipped.
macro_rules! contract_suite {
    ($fresh:path) => {
        contract_suite!(@tests $fresh;
            users::a_new_database_has_no_users,
            feed::the_feed_names_each_token_and_agent_token_a_revocation_ends,
            feed::the_feed_names_agent_tokens_by_jti_agents_by_name_and_retired_keys_by_kid,
            feed::the_feed_names_an_ending_user_by_id_and_name_and_each_agent_token_they_minted,
            limits::a_tokens_limits_are_stored_and_its_uses_count_down_to_none,
            limits::concurrent_uses_of_a_limited_token_succeed_exactly_its_count,
            limits::a_token_keeps_its_newest_five_distinct_clients,
            limits::clients_of_a_deleted_token_are_skipped_and_gone,
            issuer::who_and_what_issued_a_token_is_stored_and_read_back,
            issuer::a_token_issued_via_an_ended_credential_is_refused_and_nothing_is_stored,
            issuer::a_token_issued_via_a_revoked_agent_token_is_refused,
            issuer::an_agent_token_minted_via_an_ended_credential_is_refused,
            issuer::a_rotation_by_an_ended_caller_is_refused_and_the_old_token_lives_on,
            issuer::tokens_issued_while_their_users_tokens_are_revoked_never_survive,
            issuer::children_issued_while_their_parent_is_revoked_never_survive,
            cascade::a_credentials_parent_is_stored_and_read_back,
            cascade::revoking_a_token_revokes_every_descendant_and_nothing_else,
            cascade::revoking_a_child_leaves_its_parent_and_already_revoked_descendants_keep_their_time,
            cascade::deleting_a_token_revokes_its_descendants,
            cascade::revoking_an_agent_token_by_jti_or_by_agent_revokes_its_descendants,
            cascade::rotating_with_grace_cuts_descendants_to_the_old_tokens_new_end,
            cascade::rotating_without_grace_revokes_descendants,
            cascade::ending_a_user_revokes_what_their_credentials_obtained_for_others,
            cascade::retiring_a_key_revokes_what_its_agent_tokens_obtained,
            users::a_created_user_is_found_by_id_and_by_name,
            users::a_duplicate_username_is_a_conflict_that_names_the_user,
            users::a_name_is_reusable_after_its_user_is_deleted,
            users::a_deleted_user_is_hidden_from_lookups_and_listings,
            users::users_are_listed_by_creation_and_filtered_by_kind,
            users::a_password_hash_can_be_replaced_for_a_live_human_only,
            users::a_password_change_ends_the_login_sessions_but_the_kept_one_at_once,
            users::a_refused_password_change_changes_nothing,
            users::deleting_a_user_revokes_their_unrevoked_tokens_and_counts_them,
            users::deleting_a_missing_or_deleted_user_is_not_found_and_revokes_nothing,
            users::a_token_of_a_deleted_user_still_resolves_with_its_deleted_owner,
            tokens::an_inserted_token_is_found_by_hash_and_by_id_with_its_owner,
            tokens::an_unknown_hash_or_id_finds_nothing,
            tokens::many_tokens_are_read_by_id_at_once_with_their_owners,
            tokens::a_hash_or_id_collision_is_a_conflict,
            tokens::a_token_for_a_missing_or_deleted_owner_is_not_found,
            tokens::revoking_twice_keeps_the_first_time_and_returns_false,
            tokens::revoking_an_expired_token_marks_it_revoked,
            tokens::revoking_a_missing_token_is_not_found,
            tokens::revoking_a_users_tokens_touches_only_their_unrevoked_tokens,
            tokens::deleting_a_token_removes_it_and_a_second_delete_is_not_found,
            tokens::rotating_without_grace_revokes_the_old_token_now,
            tokens::rotating_with_grace_ends_the_old_token_at_the_earlier_of_grace_and_expiry,
            tokens::rotating_a_revoked_or_expired_token_is_a_conflict_and_changes_nothing,
            tokens::a_token_with_a_successor_is_not_rotated_again_and_the_conflict_names_it,
            tokens::rotating_a_missing_token_is_not_found_and_inserts_nothing,
            tokens::a_rotation_that_fails_to_insert_leaves_the_old_token_untouched,
            tokens::recorded_usage_never_moves_last_used_back,
            listing::tokens_are_listed_newest_first_up_to_the_limit,
            listing::the_before_cursor_pages_through_every_token_once,
            listing::tokens_are_filtered_by_user,
            listing::tokens_are_filtered_by_kind,
            listing::tokens_are_filtered_by_status_at_the_given_moment,
            listing::token_filters_combine,
            lifecycle::tokens_are_filtered_by_how_soon_they_end_and_how_long_they_went_unused,
            lifecycle::due_notices_follow_the_window_rule,
            lifecycle::a_notice_is_claimed_once_held_for_its_lease_and_never_sent_twice,
            lifecycle::concurrent_claims_of_one_notice_have_exactly_one_winner,
            audit::an_empty_log_has_no_head_and_verifies,
            audit::an_empty_or_keyed_chain_needs_no_keyed_start,
            audit::appends_chain_from_genesis_and_go_on_from_the_head,
            audit::events_read_back_exactly_as_appended,
            audit::an_event_already_stored_is_not_appended_twice,
            audit::concurrent_appenders_extend_one_chain,
            audit::the_chain_is_read_and_verified_page_by_page,
            audit::queries_are_newest_first_and_filter_by_each_field,
            audit::queries_filter_by_inclusive_times_and_page_by_seq,
            agents::signing_keys_are_listed_oldest_first_retired_ones_included,
            agents::a_duplicate_kid_is_a_conflict_that_names_it,
            agents::retiring_a_key_twice_keeps_the_first_time_and_a_missing_key_is_not_found,
            agents::a_minted_token_is_found_by_jti_and_an_unknown_jti_finds_nothing,
            agents::a_duplicate_jti_is_a_conflict_that_names_it,
            agents::a_minted_token_for_a_missing_or_deleted_minter_is_not_found,
            agents::minted_tokens_are_listed_newest_first_by_agent_up_to_the_limit,
            agents::revoking_a_minted_token_twice_keeps_the_first_time_and_returns_false,
            agents::revoking_an_agent_counts_only_its_unrevoked_tokens_issued_by_then,
            agents::minted_tokens_are_listed_and_revoked_by_minter_when_asked,
            agents::revoking_a_users_tokens_ends_their_agents_and_pending_requests,
            agents::deleting_a_user_ends_their_agents_and_pending_requests,
            users::a_users_creator_is_kept_and_read_back_with_its_tokens,
            agents::an_approval_is_found_by_id_and_a_duplicate_id_is_a_conflict,
            agents::approvals_are_listed_newest_first_filtered_by_status_up_to_the_limit,
            agents::deciding_a_pending_approval_approves_or_denies_it_exactly_once,
            agents::deciding_an_expired_used_or_missing_approval_fails_and_changes_nothing,
            agents::an_approval_is_consumed_only_when_approved_unexpired_and_bound_to_the_caller,
            agents::concurrent_consumers_of_one_approval_get_exactly_one_true,
            agents::a_second_request_of_a_token_for_the_same_operation_gets_the_pending_one,
            agents::a_request_after_the_pending_one_expired_or_was_decided_opens_a_new_one,
            agents::a_token_waiting_on_the_most_requests_is_refused_another,
            concurrency::concurrent_inserts_and_revokes_are_each_acknowledged_and_all_stored,
            concurrency::writers_at_once_each_get_their_own_answer_and_a_failure_undoes_nothing,
            concurrency::concurrent_rotations_of_one_token_leave_exactly_one_successor,
            outbox::events_of_committed_writes_are_drained_into_the_chain_in_order_once,
            outbox::a_write_that_fails_or_changes_nothing_stores_no_event,
            outbox::minting_and_revoking_agent_tokens_store_their_events_only_when_they_change,
            outbox::approval_requests_and_decisions_store_their_events_only_when_they_happen,
        );
    };
    (@tests $fresh:path; $($module:ident :: $check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some(backend): Option<$crate::Backend> = $fresh().await else { return };
                $crate::$module::$check(backend.store.as_ref()).await;
            }
        )+
    };
}

/// The contract on a new SQLite file in its own temp dir.
mod on_sqlite {
    use super::Backend;
    use std::sync::Arc;
    use ward_store::SqliteStore;

    async fn fresh() -> Option<Backend> {
        let dir = tempfile::tempdir().expect("create a temp dir");
        let path = dir.path().join("ward.db");
        let store = SqliteStore::open(path.to_str().expect("a UTF-8 temp path"))
            .await
            .expect("open a new SQLite store");
        Some(Backend { store: Arc::new(store), _guard: Box::new(dir) })
    }

    contract_suite!(fresh);
}

/// The contract on a new PostgreSQL database of its own, dropped after.
mod on_postgres {
    use super::Backend;
    use crate::postgres::TestDatabase;
    use std::sync::Arc;
    use ward_store::PostgresStore;

    async fn fresh() -> Option<Backend> {
        let db = TestDatabase::create().await?;
        let store = PostgresStore::connect(db.url()).await.expect("connect to a new PostgreSQL database");
        Some(Backend { store: Arc::new(store), _guard: Box::new(db) })
    }

    contract_suite!(fresh);
}
