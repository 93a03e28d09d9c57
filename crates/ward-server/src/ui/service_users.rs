//! Service users (admins): list (sorted by date either way), create
//! with a first key shown once, rotate the key with a grace period, and
//! the post of delete, which `confirm.rs` asks for first. Every page calls
//! `authority::service_users` (or `authority::users` to delete) first, so
//! a normal user gets the API's 403 before anything is looked up.

use super::Transport;
use super::error::UiResult;
use super::form::Posted;
use super::layout::{badge, maybe_time, time};
use super::session::Session;
use super::shown::{Heading, Waiting};
use super::sort::Sort;
use super::token_forms::hand_off;
use super::users::{COLUMNS, Listing, done_notice};
use crate::authority::input::{NewServiceUser, Rotation};
use crate::authority::{service_users, users};
use crate::error::ApiError;
use crate::routes::views;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect, Response};
use maud::html;
use ward_api::{CreateServiceUserRequest, RotateRequest};
use ward_store::UserKindFilter;

/// `GET /ui/service-users`.
pub async fn service_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Listing>,
) -> UiResult<Html<String>> {
    let mut found = service_users::list(&state, &session.caller).await?.value;
    let sort = Sort::parse(q.sort.as_deref(), &COLUMNS);
    sort.apply(&mut found, |(u, _), _| Some(u.created_at));
    let catalog = &state.settings.catalog;
    let body = html! {
        h1 { "Service users" }
        @if let Some(n) = done_notice(q.done.as_deref()) { (n) }
        div.table-wrap tabindex="0" role="region" aria-label="Service users" data-table="service-users" { table {
            thead { tr {
                th scope="col" { "Name" } (sort.heading("/ui/service-users?", COLUMNS[0])) th scope="col" { "Scopes" }
                th scope="col" { "Active keys" } th scope="col" { "Actions" }
            } }
            tbody { @for (u, keys) in &found {
                @let shown = views::user(&state, u);
                tr data-user=(u.name) {
                    td { (u.name) }
                    td { (time(u.created_at)) }
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
                        " " a href={ "/ui/service-users/" (u.name) "/delete" } { "Delete" span.sr { " " (u.name) } }
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
pub async fn service_create(
    State(state): State<AppState>,
    transport: Transport,
    posted: Posted,
) -> UiResult<Response> {
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
    hand_off(
        &state,
        &session,
        transport,
        Waiting { issued, heading: Heading::ServiceUserCreated, note: None },
    )
}

/// `POST /ui/service-users/{who}/rotate-key`: the new key is shown once.
pub async fn service_rotate(
    State(state): State<AppState>,
    Path(who): Path<String>,
    transport: Transport,
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
        Waiting { issued: rotated.value.successor, heading: Heading::ServiceKeyRotated, note: Some(note) };
    hand_off(&state, &session, transport, waiting)
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
