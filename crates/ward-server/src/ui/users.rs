//! Users and service users (admins): list, create, a user's tokens,
//! revoke all of a user's tokens, delete, and a service user's key
//! rotated with a grace period. Every page calls the API's authority
//! function first (`authority::users`, `authority::service_users`), so a
//! normal user gets the API's 403 before anything is looked up.

use super::error::UiResult;
use super::form::Posted;
use super::layout::{self, badge, maybe_time, time};
use super::session::Session;
use super::shown::Waiting;
use super::token_forms::hand_off;
use super::tokens::{ListQuery, MAX_LISTED, search_and_sort, table};
use crate::authority::input::{NewServiceUser, NewUser, Rotation};
use crate::authority::{service_users, users};
use crate::error::ApiError;
use crate::routes::views;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use ward_api::{CreateServiceUserRequest, CreateUserRequest, RotateRequest, UserRole};
use ward_core::Role;
use ward_store::UserKindFilter;

/// What the form before a listing did, for its notice.
#[derive(Debug, Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

fn done_notice(done: Option<&str>) -> Option<Markup> {
    let text = match done? {
        "created" => "Created.",
        "revoked" => "Every token of the user was revoked.",
        "deleted" => "Deleted, with everything the user held.",
        _ => return None,
    };
    Some(layout::notice(text))
}

/// A small POST form: CSRF field and one button.
fn action(session: &Session, to: &str, label: &str, danger: bool) -> Markup {
    html! {
        form.inline method="post" action=(to) {
            (session.csrf_field())
            button class=[danger.then_some("danger")] type="submit" { (label) }
        }
    }
}

/// `GET /ui/users`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(done): Query<Done>,
) -> UiResult<Html<String>> {
    let found = users::list(&state, &session.caller).await?;
    let body = html! {
        h1 { "Users" }
        @if let Some(n) = done_notice(done.done.as_deref()) { (n) }
        div.table-wrap tabindex="0" role="region" aria-label="Users" { table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Created" } th scope="col" { "Actions" } } }
            tbody { @for u in &found {
                @let shown = views::user(&state, u);
                @let role = match shown.role { UserRole::Human(r) => r.as_str(), UserRole::Service => "service", UserRole::Agent => "agent" };
                tr {
                    td { (u.name) }
                    td { (badge(role)) }
                    td { (time(u.created_at)) }
                    td.actions {
                        a href={ "/ui/users/" (u.name) "/tokens" } { "Tokens" span.sr { " of " (u.name) } }
                        (action(&session, &format!("/ui/users/{}/revoke-tokens", u.name), &format!("Revoke all tokens of {}", u.name), true))
                        @if u.id != session.caller.principal.id {
                            (action(&session, &format!("/ui/users/{}/delete", u.name), &format!("Delete {}", u.name), true))
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
    let rows = search_and_sort(rows, None, query.sort.as_deref());
    let (rows, at, pages) = layout::paginate(&rows, query.page);
    let path = format!("/ui/users/{who}/tokens");
    let body = html! {
        h1 { "Tokens of " (who) }
        (table(rows, &query, &path, session.caller.is_admin()))
        (layout::pagination(&format!("{path}?"), at, pages))
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

/// `GET /ui/service-users`.
pub async fn service_list(
    State(state): State<AppState>,
    session: Session,
    Query(done): Query<Done>,
) -> UiResult<Html<String>> {
    let found = service_users::list(&state, &session.caller).await?;
    let catalog = &state.settings.catalog;
    let body = html! {
        h1 { "Service users" }
        @if let Some(n) = done_notice(done.done.as_deref()) { (n) }
        div.table-wrap tabindex="0" role="region" aria-label="Service users" { table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Scopes" } th scope="col" { "Active keys" } th scope="col" { "Actions" } } }
            tbody { @for (u, keys) in &found.value {
                @let shown = views::user(&state, u);
                tr {
                    td { (u.name) br; span.muted { "created " (time(u.created_at)) } }
                    td.scopes { (shown.scopes.join(" ")) }
                    td { @for k in keys { code { (k.token.display) "…" } " expires " (maybe_time(k.token.expires_at, "never")) br; } }
                    td.actions {
                        form.inline method="post" action={ "/ui/service-users/" (u.name) "/rotate-key" } {
                            (session.csrf_field())
                            label { "Grace "
                                select name="grace" { option value="" { "none" } option value="1h" { "1 hour" } option value="1d" selected { "1 day" } option value="7d" { "7 days" } }
                            }
                            " " button type="submit" { "Rotate key of " (u.name) }
                        }
                        (action(&session, &format!("/ui/service-users/{}/delete", u.name), &format!("Delete {}", u.name), true))
                    }
                }
            } }
        } }
        h2 { "Create a service user" }
        form.stack method="post" action="/ui/service-users" {
            (session.csrf_field())
            label for="name" { "Name" }
            input id="name" name="name" type="text" required autocomplete="off";
            fieldset {
                legend { "Scopes" }
                @for scope in &session.caller.scopes {
                    @let id = format!("scope-{}", scope.as_str().replace([':', '*', '.'], "-"));
                    label for=(id) {
                        input id=(id) type="checkbox" name="scope" value=(scope.as_str());
                        " " code { (scope.as_str()) }
                        @if let Some(info) = catalog.info(scope) { " " (badge(info.risk.as_str())) }
                    }
                }
            }
            label for="days" { "Key lifetime in days (blank: no expiry)" }
            input id="days" name="days" type="text" inputmode="numeric" pattern="[0-9]*";
            button type="submit" { "Create service user" }
        }
    };
    Ok(session.page("Service users", body))
}

/// `POST /ui/service-users`: its first key is shown once.
pub async fn service_create(State(state): State<AppState>, posted: Posted) -> UiResult<Response> {
    let Posted { session, fields } = posted;
    let days = fields
        .text("days")
        .map(str::parse::<u32>)
        .transpose()
        .map_err(|_| ApiError::invalid("the key lifetime is a whole number of days"))?;
    let req = CreateServiceUserRequest {
        name: fields.get("name").unwrap_or_default().trim().to_owned(),
        scopes: fields.all("scope"),
        expires_in_days: days,
        ttl: None,
    };
    let new = NewServiceUser::parse(req, &state.settings.catalog)?;
    let (_, issued) = service_users::create(&state, &session.caller, new).await?;
    hand_off(&state, &session, Waiting { issued, heading: "Service user created: its key", note: None })
}

/// `POST /ui/service-users/{who}/rotate-key`: the new key is shown once.
pub async fn service_rotate(
    State(state): State<AppState>,
    Path(who): Path<String>,
    posted: Posted,
) -> UiResult<Response> {
    let Posted { session, fields } = posted;
    let rotation = Rotation::try_from(RotateRequest { grace: fields.text("grace").map(str::to_owned) })?;
    let rotated = service_users::rotate_key(&state, &session.caller, &who, rotation).await?;
    let previous = &rotated.value.previous.token;
    let note = format!(
        "The previous key {} ends {}.",
        previous.id,
        match previous.expires_at {
            Some(end) if previous.revoked_at.is_none() => end.format("%Y-%m-%d %H:%M UTC").to_string(),
            _ => "now".to_owned(),
        }
    );
    let waiting =
        Waiting { issued: rotated.value.successor, heading: "Service user key rotated", note: Some(note) };
    hand_off(&state, &session, waiting)
}

/// `POST /ui/service-users/{who}/delete`.
pub async fn service_delete(
    State(state): State<AppState>,
    Path(who): Path<String>,
    posted: Posted,
) -> UiResult<Redirect> {
    users::delete(&state, &posted.session.caller, &who, UserKindFilter::Service).await?;
    Ok(Redirect::to("/ui/service-users?done=deleted"))
}
