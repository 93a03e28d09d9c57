//! The forms that change a token: create (name, type, scopes from the
//! catalogue as checkboxes with their risk, lifetime), revoke and rotate
//! behind a confirmation page that names the token, and the shown-once
//! page a new token is read from ([`super::shown`]). Each posts to the
//! same authority function as the API (`authority::tokens`), with the
//! body parsed by the API's own parser (`NewToken::parse`, `Rotation`).

use super::Transport;
use super::cookie;
use super::error::UiResult;
use super::form::Posted;
use super::layout::{badge, maybe_time, time};
use super::session::Session;
use super::shown::{self, Heading, Shown, Waiting};
use crate::authority::input::{NewToken, Rotation};
use crate::authority::tokens;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use ward_api::{CreateTokenRequest, RotateRequest};
use ward_core::TokenKind;

/// The kinds a person creates here (a login session comes from signing in).
const CREATABLE: [TokenKind; 4] =
    [TokenKind::Personal, TokenKind::Pipeline, TokenKind::Service, TokenKind::Registry];
/// Lifetimes offered, as `Ttl` text; the first is the default.
const LIFETIMES: [(&str, &str); 5] =
    [("30d", "30 days"), ("7d", "7 days"), ("1d", "1 day"), ("90d", "90 days"), ("365d", "1 year")];
/// Grace periods offered for a rotation; "" is none.
const GRACES: [(&str, &str); 4] =
    [("", "none: the old token stops now"), ("1h", "1 hour"), ("1d", "1 day"), ("7d", "7 days")];

/// `GET /ui/tokens/new`: the scopes offered are those the caller may give
/// a token of its own (`authority::tokens::grantable`).
pub async fn new_form(State(state): State<AppState>, session: Session) -> UiResult<Html<String>> {
    let grantable = tokens::grantable(&state, &session.caller).await?;
    let catalog = &state.settings.catalog;
    let body = html! {
        h1 { "Create a token" }
        form.stack method="post" action="/ui/tokens" {
            (session.csrf_field())
            label for="name" { "Name" }
            input id="name" name="name" type="text" required maxlength="64" aria-describedby="name-help";
            small.muted id="name-help" { "What the token is for, e.g. ci-deploy." }
            label for="type" { "Type" }
            select id="type" name="type" {
                @for k in CREATABLE { option value=(k.as_str()) { (k.as_str()) } }
            }
            fieldset {
                legend { "Scopes" }
                @if grantable.is_empty() { p.muted { "You hold no scopes to give." } }
                @for scope in &grantable {
                    @let info = catalog.info(scope);
                    @let id = format!("scope-{}", scope.as_str().replace([':', '*', '.'], "-"));
                    label for=(id) {
                        input id=(id) type="checkbox" name="scope" value=(scope.as_str());
                        " " code { (scope.as_str()) }
                        @if let Some(info) = info {
                            " " (badge(info.risk.as_str())) " " span.muted { (info.description) }
                        }
                    }
                }
                small.muted { "A personal token with no scope ticked gets all of yours; other types get none." }
            }
            label for="ttl" { "Lifetime" }
            select id="ttl" name="ttl" {
                @for (value, label) in LIFETIMES { option value=(value) { (label) } }
            }
            button type="submit" { "Create token" }
        }
    };
    Ok(session.page("Create a token", body))
}

/// `POST /ui/tokens`: `authority::tokens::create`, then the shown-once page.
pub async fn create(
    State(state): State<AppState>,
    transport: Transport,
    posted: Posted,
) -> UiResult<Response> {
    let Posted { session, fields } = posted;
    let kind = fields.get("type").unwrap_or("").parse::<TokenKind>().map_err(ApiError::invalid)?;
    if !CREATABLE.contains(&kind) {
        return Err(ApiError::invalid("choose personal, pipeline, service or registry").into());
    }
    let scopes = fields.all("scope");
    let req = CreateTokenRequest {
        name: fields.get("name").unwrap_or_default().trim().to_owned(),
        token_type: kind,
        scopes: (!scopes.is_empty() || kind != TokenKind::Personal).then_some(scopes),
        expires_in_days: None,
        ttl: fields.text("ttl").map(str::to_owned),
        user_id: None,
        max_uses: None,
        rate: None,
    };
    let new = NewToken::parse(req, &state.settings.catalog)?;
    let issued = tokens::create(&state, &session.caller, new).await?;
    hand_off(&state, &session, transport, Waiting { issued, heading: Heading::Created, note: None })
}

/// Seals a new token into a cookie for its one showing and redirects
/// there (`shown.rs`): whichever node answers the redirect can show it.
pub fn hand_off(
    state: &AppState,
    session: &Session,
    transport: Transport,
    waiting: Waiting,
) -> UiResult<Response> {
    let slot = shown::new_slot();
    let sealed = shown::seal(state, &session.caller.token_id, &slot, waiting)?;
    let mut response = Redirect::to(&format!("/ui/shown/{slot}")).into_response();
    response.headers_mut().append(SET_COOKIE, cookie::shown(&sealed, &slot, transport));
    Ok(response)
}

/// `GET /ui/shown/{slot}`: the token sealed in this slot's cookie, once
/// (the cookie is cleared); afterwards the page says it is gone (410).
pub async fn shown_once(
    State(state): State<AppState>,
    session: Session,
    transport: Transport,
    Path(slot): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let opened = shown::valid_slot(&slot)
        .then(|| cookie::get(&headers, cookie::SHOWN))
        .flatten()
        .and_then(|sealed| shown::open(&state, &session.caller.token_id, &slot, sealed));
    let mut response = match opened {
        Some(shown) => shown_page(&session, &shown).into_response(),
        None => {
            let body = html! {
                h1 { "Already shown" }
                p { "ward shows a token once. This one was shown already, or waited too long, and is not kept anywhere. \
                     If you did not copy it, revoke it and create another." }
                p { a href="/ui/tokens" { "Back to my tokens" } }
            };
            (StatusCode::GONE, session.page("Already shown", body)).into_response()
        }
    };
    if shown::valid_slot(&slot) {
        response.headers_mut().append(SET_COOKIE, cookie::clear_shown(&slot, transport));
    }
    Ok(response)
}

fn shown_page(session: &Session, shown: &Shown) -> Html<String> {
    let heading = shown.heading.text();
    let body = html! {
        h1 { (heading) }
        p.warning role="alert" {
            strong { "Copy this token now. " }
            "ward shows it only once: it is stored as a hash and cannot be shown again."
        }
        label for="token" { "Token " (shown.name) }
        input.shown-token id="token" type="text" readonly value=(shown.token.expose()) autocomplete="off" spellcheck="false";
        button type="button" data-copy="token" hidden { "Copy to clipboard" }
        span id="token-status" role="status" {}
        @if let Some(note) = &shown.note { p { (note) } }
        dl {
            dt { "Id" } dd { code { (shown.id) } }
            dt { "Type" } dd { (shown.kind) }
            dt { "Scopes" } dd { @for s in &shown.scopes { code { (s) } " " } }
            dt { "Created" } dd { (time(shown.created_at)) }
            dt { "Expires" } dd { (maybe_time(shown.expires_at, "never")) }
        }
        p { a href="/ui/tokens" { "Done: back to my tokens" } }
    };
    session.page(heading, body)
}

/// `GET /ui/tokens/{id}/revoke`: names the token and asks.
pub async fn confirm_revoke(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult<Html<String>> {
    let found = tokens::show(&state, &session.caller, &id).await?;
    let t = &found.value.token;
    let body = html! {
        h1 { "Revoke token " q { (t.name.as_str()) } "?" }
        p { "Token " code { (t.display) "…" } " (" (t.kind.as_str()) ", id " code { (t.id.as_str()) } ") and every credential obtained with it stop working at once. This cannot be undone." }
        form.inline method="post" action={ "/ui/tokens/" (t.id.as_str()) "/revoke" } {
            (session.csrf_field())
            button.danger type="submit" { "Revoke " (t.name.as_str()) }
        }
        " " a href="/ui/tokens" { "Cancel" }
    };
    Ok(session.page("Revoke a token", body))
}

/// `POST /ui/tokens/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> UiResult<Redirect> {
    tokens::revoke(&state, &posted.session.caller, &id).await?;
    Ok(Redirect::to("/ui/tokens?done=revoked"))
}

/// `GET /ui/tokens/{id}/rotate`: names the token, offers a grace period.
pub async fn confirm_rotate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult<Html<String>> {
    let found = tokens::show(&state, &session.caller, &id).await?;
    let t = &found.value.token;
    let body = html! {
        h1 { "Rotate token " q { (t.name.as_str()) } "?" }
        p { "A new token with the same name, type, scopes and lifetime replaces " code { (t.display) "…" } " (id " code { (t.id.as_str()) } ")." }
        form.stack method="post" action={ "/ui/tokens/" (t.id.as_str()) "/rotate" } {
            (session.csrf_field())
            label for="grace" { "The old token keeps working for" }
            select id="grace" name="grace" {
                @for (value, label) in GRACES { option value=(value) { (label) } }
            }
            button type="submit" { "Rotate " (t.name.as_str()) }
        }
        p { a href="/ui/tokens" { "Cancel" } }
    };
    Ok(session.page("Rotate a token", body))
}

/// `POST /ui/tokens/{id}/rotate`: the successor is shown once.
pub async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    transport: Transport,
    posted: Posted,
) -> UiResult<Response> {
    let Posted { session, fields } = posted;
    let rotation = Rotation::try_from(RotateRequest { grace: fields.text("grace").map(str::to_owned) })?;
    let rotated = tokens::rotate(&state, &session.caller, &id, rotation).await?;
    let previous = &rotated.value.previous.token;
    let note = match previous.expires_at.filter(|_| previous.revoked_at.is_none()) {
        Some(end) => {
            format!("The old token {} keeps working until {}.", previous.id, end.format("%Y-%m-%d %H:%M UTC"))
        }
        None => format!("The old token {} has stopped working.", previous.id),
    };
    let waiting = Waiting { issued: rotated.value.successor, heading: Heading::Rotated, note: Some(note) };
    hand_off(&state, &session, transport, waiting)
}
