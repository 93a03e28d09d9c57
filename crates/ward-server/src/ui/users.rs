//! Users (admins): list (sorted by date either way), create, a user's
//! tokens, and the posts of revoke all of a user's tokens and delete,
//! which the pages of `confirm.rs` ask for first. Every page calls the
//! API's authority function first (`authority::users`), so a normal user
//! gets the API's 403 before anything is looked up. Service users are in
//! `service_users.rs`.

use super::error::UiResult;
use super::form::Posted;
use super::layout::{self, badge, time};
use super::session::Session;
use super::sort::{Column, Sort};
use super::tokens::{self as token_table, ListQuery, MAX_LISTED, Table, search_and_sort, table};
use crate::authority::input::NewUser;
use crate::authority::users;
use crate::error::ApiError;
use crate::routes::views;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use maud::{Markup, html};
use serde::Deserialize;
use ward_api::{CreateUserRequest, UserRole};
use ward_core::Role;
use ward_store::UserKindFilter;

/// The notice of what the form before a listing did.
pub fn done_notice(done: Option<&str>) -> Option<Markup> {
    let text = match done? {
        "created" => "Created.",
        "revoked" => "Every token of the user was revoked.",
        "deleted" => "Deleted, with everything the user held.",
        _ => return None,
    };
    Some(layout::notice(text))
}

/// The date columns of the users table (and the service users').
pub const COLUMNS: [Column; 1] = [Column::newest_first("created", "Created")];

/// The query of the users pages: the notice of the form before, the order.
#[derive(Debug, Deserialize)]
pub struct Listing {
    pub done: Option<String>,
    pub sort: Option<String>,
}

/// `GET /ui/users`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Listing>,
) -> UiResult<Html<String>> {
    let mut found = users::list(&state, &session.caller).await?;
    let sort = Sort::parse(q.sort.as_deref(), &COLUMNS);
    sort.apply(&mut found, |u, _| Some(u.created_at));
    let body = html! {
        h1 { "Users" }
        @if let Some(n) = done_notice(q.done.as_deref()) { (n) }
        div.table-wrap tabindex="0" role="region" aria-label="Users" data-table="users" { table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } (sort.heading("/ui/users?", COLUMNS[0])) th scope="col" { "Actions" } } }
            tbody { @for u in &found {
                @let shown = views::user(&state, u);
                @let role = match shown.role { UserRole::Human(r) => r.as_str(), UserRole::Service => "service", UserRole::Agent => "agent" };
                tr data-user=(u.name) {
                    td { (u.name) }
                    td { (badge(role)) }
                    td { (time(u.created_at)) }
                    td.actions {
                        a href={ "/ui/users/" (u.name) "/tokens" } { "Tokens" span.sr { " of " (u.name) } }
                        a href={ "/ui/users/" (u.name) "/revoke-tokens" } { "Revoke all tokens" span.sr { " of " (u.name) } }
                        @if u.id != session.caller.principal.id {
                            a href={ "/ui/users/" (u.name) "/delete" } { "Delete" span.sr { " " (u.name) } }
                        }
                    }
                }
            } }
        } }
        h2 { "Create a user" }
        form.stack method="post" action="/ui/users" {
            (session.csrf_field())
            label for="name" { "Name" }
            input id="name" name="name" type="text" required autocomplete="off";
            label for="role" { "Role" }
            select id="role" name="role" { option value="user" { "user" } option value="admin" { "admin" } }
            label for="password" { "Initial password" }
            input id="password" name="password" type="password" required autocomplete="new-password";
            button type="submit" { "Create user" }
        }
    };
    Ok(session.page("Users", body))
}

/// `POST /ui/users`.
pub async fn create(State(state): State<AppState>, posted: Posted) -> UiResult<Redirect> {
    let Posted { session, fields } = posted;
    let role = fields.text("role").map(str::parse::<Role>).transpose().map_err(ApiError::invalid)?;
    let new = NewUser::try_from(CreateUserRequest {
        name: fields.get("name").unwrap_or_default().trim().to_owned(),
        role,
        password: fields.get("password").unwrap_or_default().to_owned(),
    })?;
    users::create(&state, &session.caller, new).await?;
    Ok(Redirect::to("/ui/users?done=created"))
}

/// `GET /ui/users/{who}/tokens`: themselves or an admin, as the API.
pub async fn tokens(
    State(state): State<AppState>,
    session: Session,
    Path(who): Path<String>,
    Query(query): Query<ListQuery>,
) -> UiResult<Html<String>> {
    let found = users::tokens(&state, &session.caller, &who).await?;
    let rows =
        found.value.iter().take(MAX_LISTED as usize).map(|t| views::token(&state, found.now, t)).collect();
    let sort = Sort::parse(query.sort.as_deref(), &token_table::COLUMNS);
    let rows = search_and_sort(rows, None, sort);
    let (rows, at, pages) = layout::paginate(&rows, query.page);
    let path = format!("/ui/users/{who}/tokens");
    let how =
        Table { sort, base: &query.base(&path, false), actions: session.caller.is_admin(), owner: false };
    let body = html! {
        h1 { "Tokens of " (who) }
        (table(rows, how))
        (layout::pagination(&query.base(&path, true), at, pages))
    };
    Ok(session.page("A user's tokens", body))
}

/// `POST /ui/users/{who}/revoke-tokens`.
pub async fn revoke_tokens(
    State(state): State<AppState>,
    Path(who): Path<String>,
    posted: Posted,
) -> UiResult<Redirect> {
    users::revoke_tokens(&state, &posted.session.caller, &who).await?;
    Ok(Redirect::to("/ui/users?done=revoked"))
}

/// `POST /ui/users/{who}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(who): Path<String>,
    posted: Posted,
) -> UiResult<Redirect> {
    users::delete(&state, &posted.session.caller, &who, UserKindFilter::Human).await?;
    Ok(Redirect::to("/ui/users?done=deleted"))
}
