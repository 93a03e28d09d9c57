//! "Expiring soon": the active tokens that end in the next 7 (or 30)
//! days, through `authority::tokens::expiring`: the caller's own, or, for
//! an admin (who may list other users' tokens), every user's with an
//! owner column. Sorted by expiry (soonest first) or creation, either way.

use super::error::{UiError, UiResult};
use super::layout;
use super::session::Session;
use super::sort::Sort;
use super::tokens::{COLUMNS, Table, search_and_sort, table};
use crate::authority::tokens;
use crate::error::ApiError;
use crate::routes::views;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::Duration;
use maud::html;
use serde::Deserialize;
use ward_api::TokenInfo;

/// The query of `/ui/expiring`.
#[derive(Debug, Deserialize)]
pub struct ExpiringQuery {
    pub days: Option<u32>,
    pub sort: Option<String>,
    pub page: Option<usize>,
}

/// `GET /ui/expiring`.
pub async fn expiring(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ExpiringQuery>,
) -> UiResult<Html<String>> {
    let days = match q.days.unwrap_or(7) {
        d @ (7 | 30) => d,
        _ => return Err(UiError::Api(ApiError::invalid("days must be 7 or 30"))),
    };
    let found = tokens::expiring(&state, &session.caller, Duration::days(i64::from(days))).await?;
    let everyone = found.value.everyone;
    let rows: Vec<TokenInfo> =
        found.value.tokens.iter().map(|t| views::token(&state, found.now, t)).collect();
    let sort = Sort::parse(q.sort.as_deref().or(Some("expires")), &COLUMNS);
    let rows = search_and_sort(rows, None, sort);
    let (rows_here, at, pages) = layout::paginate(&rows, q.page);
    let base = format!("/ui/expiring?days={days}&");
    let how = Table { sort, base: &base, actions: true, owner: everyone };
    let other = if days == 7 { 30 } else { 7 };
    let body = html! {
        h1 { "Expiring soon" }
        p {
            @if everyone { "Every user's active tokens" } @else { "Your active tokens" }
            " that expire in the next " (days) " days. "
            a href={ "/ui/expiring?days=" (other) "&sort=" (sort.value()) } { "Show " (other) " days" }
        }
        @if !found.value.complete {
            (layout::alert(&format!(
                "Only the newest {} active tokens were looked at; older ones may expire too (`ward token list --status active`).",
                tokens::EXPIRING_SCAN * crate::authority::input::TokenListing::MAX_PAGE as usize
            )))
        }
        (table(rows_here, how))
        (layout::pagination(&format!("{base}sort={}&", sort.value()), at, pages))
    };
    Ok(session.page("Expiring soon", body))
}
