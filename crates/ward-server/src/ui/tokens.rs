//! "My tokens": the table of `ward token list` (type,
//! status, created, last used, expires, scopes) with filters by type and
//! status, a search by name, sorting by date and pagination. Listing goes
//! through `authority::tokens::list` (the caller's own tokens; the API's
//! rules) and rows are rendered from `routes::views::token`, so a status
//! or a last-used time reads the same as in the API. The forms that
//! change tokens are in `token_forms.rs`, "Expiring soon" in
//! `expiring.rs`; both draw their rows with [`table`].

use super::error::UiResult;
use super::layout::{self, badge, maybe_time, paginate, time};
use super::session::Session;
use super::sort::{Column, Sort};
use crate::authority::input::TokenListing;
use crate::authority::tokens;
use crate::error::ApiError;
use crate::routes::views;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use ward_api::TokenInfo;
use ward_core::{TokenKind, TokenStatus};

/// The most tokens one listing reads; search, sort and pages work within it.
pub const MAX_LISTED: u32 = TokenListing::MAX_PAGE;

/// The query of `/ui/tokens` (every field optional; blank is absent).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub page: Option<usize>,
    /// What the form before this page did (`revoked`), for a notice.
    pub done: Option<String>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ListQuery {
    /// The API query this page asks: filters parsed as the API parses them.
    fn api(&self) -> UiResult<TokenListing> {
        let kind = blank(&self.kind).map(str::parse::<TokenKind>).transpose().map_err(ApiError::invalid)?;
        let status =
            blank(&self.status).map(str::parse::<TokenStatus>).transpose().map_err(ApiError::invalid)?;
        Ok(TokenListing {
            kind,
            status,
            owner: None,
            before: None,
            limit: MAX_LISTED,
            expiring: None,
            unused_for: None,
        })
    }

    /// This query as a link prefix without `page` (and without `sort`
    /// unless `keep_sort`), ending in `?` or `&`.
    pub fn base(&self, path: &str, keep_sort: bool) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("type", &self.kind), ("status", &self.status), ("q", &self.q)] {
            if let Some(v) = blank(v) {
                q.append_pair(k, v);
            }
        }
        if let Some(s) = blank(&self.sort).filter(|_| keep_sort) {
            q.append_pair("sort", s);
        }
        let q = q.finish();
        if q.is_empty() { format!("{path}?") } else { format!("{path}?{q}&") }
    }
}

/// The date columns of a token table.
pub const COLUMNS: [Column; 3] = [
    Column::newest_first("created", "Created"),
    Column::newest_first("last_used", "Last used"),
    Column::soonest_first("expires", "Expires"),
];

fn date(t: &TokenInfo, key: &str) -> Option<DateTime<Utc>> {
    match key {
        "last_used" => t.last_used_at,
        "expires" => t.expires_at,
        _ => Some(t.created_at),
    }
}

/// Rows whose name contains `q` (any case), in `sort`'s order.
pub fn search_and_sort(mut rows: Vec<TokenInfo>, q: Option<&str>, sort: Sort) -> Vec<TokenInfo> {
    if let Some(q) = q {
        let q = q.to_lowercase();
        rows.retain(|t| t.name.to_lowercase().contains(&q));
    }
    sort.apply(&mut rows, date);
    rows
}

/// `GET /ui/tokens`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ListQuery>,
) -> UiResult<Html<String>> {
    let found = tokens::list(&state, &session.caller, query.api()?).await?;
    let rows = found.value.tokens.iter().map(|t| views::token(&state, found.now, t)).collect();
    let sort = Sort::parse(blank(&query.sort), &COLUMNS);
    let rows = search_and_sort(rows, blank(&query.q), sort);
    let (shown, at, pages) = paginate(&rows, query.page);
    let body = html! {
        h1 { "My tokens" }
        @if blank(&query.done) == Some("revoked") { (layout::notice("The token was revoked.")) }
        p { a href="/ui/tokens/new" { "Create a token" } }
        (filters(&query))
        (table(shown, Table { sort, base: &query.base("/ui/tokens", false), actions: true, owner: false }))
        (layout::pagination(&query.base("/ui/tokens", true), at, pages))
    };
    Ok(session.page("My tokens", body))
}

fn filters(query: &ListQuery) -> Markup {
    let kind = blank(&query.kind).unwrap_or("");
    let status = blank(&query.status).unwrap_or("");
    html! {
        form.filters method="get" action="/ui/tokens" role="search" {
            label { "Type"
                select name="type" {
                    option value="" selected[kind.is_empty()] { "any" }
                    @for k in TokenKind::ALL {
                        option value=(k.as_str()) selected[kind == k.as_str()] { (k.as_str()) }
                    }
                }
            }
            label { "Status"
                select name="status" {
                    option value="" selected[status.is_empty()] { "any" }
                    @for s in TokenStatus::ALL {
                        option value=(s.as_str()) selected[status == s.as_str()] { (s.as_str()) }
                    }
                }
            }
            label { "Name contains"
                input type="search" name="q" value=(blank(&query.q).unwrap_or(""));
            }
            @if let Some(sort) = blank(&query.sort) { input type="hidden" name="sort" value=(sort); }
            button type="submit" { "Filter" }
        }
    }
}

/// How a token table is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    pub sort: Sort,
    /// The page's link without `sort`, ending in `?` or `&`.
    pub base: &'a str,
    /// Revoke and rotate links for active tokens.
    pub actions: bool,
    /// An owner column (a listing across users).
    pub owner: bool,
}

/// The token table.
pub fn table(rows: &[TokenInfo], how: Table<'_>) -> Markup {
    let Table { sort, base, actions, owner } = how;
    html! {
        @if rows.is_empty() {
            p.muted { "No tokens match." }
        } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Tokens" {
                table {
                    caption.muted { "Tokens, " (rows.len()) " on this page" }
                    thead { tr {
                        th scope="col" { "Name" }
                        @if owner { th scope="col" { "Owner" } }
                        th scope="col" { "Type" }
                        th scope="col" { "Status" }
                        @for column in COLUMNS { (sort.heading(base, column)) }
                        th scope="col" { "Scopes" }
                        @if actions { th scope="col" { "Actions" } }
                    } }
                    tbody {
                        @for t in rows {
                            tr data-token-id=(t.id) {
                                td { (t.name) br; code.muted { (t.prefix) "…" } }
                                @if owner { td.owner { (t.username) } }
                                td { (t.token_type.as_str()) }
                                td { (badge(t.status.as_str())) }
                                td { (time(t.created_at)) }
                                td { (maybe_time(t.last_used_at, "never")) }
                                td { (maybe_time(t.expires_at, "never")) }
                                td.scopes { (t.scopes.join(" ")) }
                                @if actions {
                                    td.actions {
                                        @if t.status == TokenStatus::Active {
                                            a href={ "/ui/tokens/" (t.id) "/revoke" } { "Revoke" span.sr { " " (t.name) } }
                                            @if t.token_type != TokenKind::Login {
                                                a href={ "/ui/tokens/" (t.id) "/rotate" } { "Rotate" span.sr { " " (t.name) } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
