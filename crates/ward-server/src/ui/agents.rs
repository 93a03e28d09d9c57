//! Agents and signing keys: the minted agent tokens the caller reaches
//! (filter by agent, sorted by issue or expiry either way), revoke one by
//! `jti` or all of an agent's, and the signing keys (sorted by creation
//! or retirement) with rotate and retire. Revoking and retiring ask first
//! (`confirm.rs`); the posts are here. Pages call `authority::mint`,
//! which needs `ward:mint` (and an admin to rotate or retire a key), as
//! the API does.

use super::error::UiResult;
use super::form::Posted;
use super::layout::{self, badge, time};
use super::session::Session;
use super::sort::{Column, Sort};
use crate::authority::input::MintRevoke;
use crate::authority::mint;
use crate::routes::views;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use maud::html;
use serde::Deserialize;
use ward_api::{MintRevokeRequest, MintedQuery};
use ward_core::TokenStatus;

/// The query of `/ui/agents`.
#[derive(Debug, Deserialize)]
pub struct AgentsQuery {
    pub agent: Option<String>,
    pub page: Option<usize>,
    pub done: Option<String>,
    /// The order of the minted tokens.
    pub sort: Option<String>,
    /// The order of the signing keys.
    pub ksort: Option<String>,
}

/// The date columns of the minted tokens' table.
const MINTED: [Column; 2] =
    [Column::newest_first("issued", "Issued"), Column::soonest_first("expires", "Expires")];
/// The date columns of the signing keys' table.
const KEYS: [Column; 2] =
    [Column::newest_first("created", "Created"), Column::newest_first("retired", "Retired")];

/// `/ui/agents?` with the agent filter and the given orders, ending in `?` or `&`.
fn link(agent: Option<&str>, sort: Option<&str>, ksort: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("agent", agent), ("sort", sort), ("ksort", ksort)] {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    let q = q.finish();
    if q.is_empty() { "/ui/agents?".to_owned() } else { format!("/ui/agents?{q}&") }
}

/// `GET /ui/agents`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<AgentsQuery>,
) -> UiResult<Html<String>> {
    let agent = q.agent.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
    let found =
        mint::list(&state, &session.caller, MintedQuery { agent: agent.clone(), limit: Some(1000) }).await?;
    let keys = mint::keys(&state, &session.caller).await?;
    let mut minted = views::minted_list(&found).tokens;
    let sort = Sort::parse(q.sort.as_deref(), &MINTED);
    sort.apply(&mut minted, |m, key| Some(if key == "expires" { m.expires_at } else { m.issued_at }));
    let mut keys = keys;
    let ksort = Sort::parse(q.ksort.as_deref(), &KEYS);
    ksort.apply(&mut keys, |k, key| if key == "retired" { k.retired_at } else { Some(k.created_at) });
    let (rows, at, pages) = layout::paginate(&minted, q.page);
    let admin = session.caller.is_admin();
    let (sort_value, ksort_value) = (sort.value(), ksort.value());
    let base = link(agent.as_deref(), Some(&sort_value), Some(&ksort_value));
    let minted_base = link(agent.as_deref(), None, Some(&ksort_value));
    let keys_base = link(agent.as_deref(), Some(&sort_value), None);
    let notice = match q.done.as_deref() {
        Some("revoked") => Some("Revoked."),
        Some("rotated") => Some("A new signing key is active; the old one still verifies."),
        Some("retired") => Some("The key is retired: every token it signed stopped working."),
        _ => None,
    };
    let body = html! {
        h1 { "Agents and keys" }
        @if let Some(n) = notice { (layout::notice(n)) }
        h2 { "Minted agent tokens" }
        form.filters method="get" action="/ui/agents" role="search" {
            label { "Agent" input type="search" name="agent" value=(agent.as_deref().unwrap_or("")); }
            button type="submit" { "Filter" }
        }
        @if rows.is_empty() { p.muted { "No agent tokens." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Minted agent tokens" { table {
                thead { tr {
                    th scope="col" { "Agent" } th scope="col" { "jti" } th scope="col" { "Status" } th scope="col" { "Scopes" }
                    @for c in MINTED { (sort.heading(&minted_base, c)) } th scope="col" { "Key" } th scope="col" { "Actions" }
                } }
                tbody { @for m in rows {
                    tr {
                        td { (m.agent) } td { code { (m.jti) } } td { (badge(m.status.as_str())) }
                        td.scopes { (m.scopes.join(" ")) } td { (time(m.issued_at)) } td { (time(m.expires_at)) }
                        td { code { (m.kid) } }
                        td { @if m.status == TokenStatus::Active {
                            a href={ "/ui/agents/revoke?jti=" (m.jti) } { "Revoke" span.sr { " " (m.jti) } }
                        } }
                    }
                } }
            } }
            (layout::pagination(&base, at, pages))
        }
        h2 { "Revoke every token of an agent" }
        form.filters method="get" action="/ui/agents/revoke" {
            label { "Agent" input type="text" name="agent" required value=(agent.as_deref().unwrap_or("")); }
            button.danger type="submit" { "Revoke all…" }
        }
        h2 { "Signing keys" }
        div.table-wrap tabindex="0" role="region" aria-label="Signing keys" { table {
            thead { tr {
                th scope="col" { "Key id" } th scope="col" { "Status" } @for c in KEYS { (ksort.heading_as(&keys_base, c, "ksort")) }
                @if admin { th scope="col" { "Actions" } }
            } }
            tbody { @for k in &keys {
                tr {
                    td { code { (k.kid) } } td { (badge(k.status.as_str())) } td { (time(k.created_at)) }
                    td { (layout::maybe_time(k.retired_at, "")) }
                    @if admin { td { @if k.retired_at.is_none() {
                        a href={ "/ui/keys/" (k.kid) "/retire" } { "Retire" span.sr { " " (k.kid) } }
                    } } }
                }
            } }
        } }
        @if admin {
            form.inline method="post" action="/ui/keys/rotate" {
                (session.csrf_field())
                button type="submit" { "Rotate the signing key" }
            }
        }
    };
    Ok(session.page("Agents and keys", body))
}

/// `POST /ui/agents/revoke`: `jti` or `agent`, as `POST /v1/mint/revoke`.
pub async fn revoke(State(state): State<AppState>, posted: Posted) -> UiResult<Redirect> {
    let Posted { session, fields } = posted;
    let req = MintRevokeRequest {
        jti: fields.text("jti").map(str::to_owned),
        agent: fields.text("agent").map(str::to_owned),
    };
    mint::revoke(&state, &session.caller, MintRevoke::try_from(req)?).await?;
    Ok(Redirect::to("/ui/agents?done=revoked"))
}

/// `POST /ui/keys/rotate` (admins).
pub async fn rotate_key(State(state): State<AppState>, posted: Posted) -> UiResult<Redirect> {
    mint::rotate(&state, &posted.session.caller).await?;
    Ok(Redirect::to("/ui/agents?done=rotated"))
}

/// `POST /ui/keys/{kid}/retire` (admins).
pub async fn retire_key(
    State(state): State<AppState>,
    Path(kid): Path<String>,
    posted: Posted,
) -> UiResult<Redirect> {
    mint::retire(&state, &posted.session.caller, &kid).await?;
    Ok(Redirect::to("/ui/agents?done=retired"))
}
