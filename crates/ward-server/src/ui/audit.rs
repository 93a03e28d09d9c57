//! The audit trail (`ward:audit`): filters (subject, action, risk,
//! decision, time range), newest or oldest first (the API's `order`, so
//! pages continue in that order), the chain's verification state, and an
//! export of the filtered events as JSON lines (the mirror's format). Both call
//! `audit::read`, the API's search and verify.

use super::error::UiResult;
use super::layout::{badge, time};
use super::session::Session;
use super::sort::{Column, Sort};
use crate::audit::read;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use ward_api::{AuditQuery, AuditRecord};

/// How many events one page shows.
const PAGE: u32 = 50;
/// The most events one export writes.
const MAX_EXPORT: usize = 100_000;

/// The filter form's fields; blank is absent.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    pub subject: Option<String>,
    pub action: Option<String>,
    pub risk: Option<String>,
    pub decision: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub cursor: Option<String>,
    /// `time_desc` (newest first, the default) or `time_asc`.
    pub sort: Option<String>,
}

/// The one date column of the trail.
const COLUMNS: [Column; 1] = [Column::newest_first("time", "Time")];

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

impl Filters {
    fn query(&self, limit: u32) -> AuditQuery {
        AuditQuery {
            subject: blank(&self.subject),
            token_id: None,
            action: blank(&self.action),
            decision: blank(&self.decision),
            risk: blank(&self.risk),
            since: blank(&self.since),
            until: blank(&self.until),
            limit: Some(limit),
            order: self.sort().ascending.then(|| "oldest".to_owned()),
            cursor: blank(&self.cursor),
        }
    }

    fn sort(&self) -> Sort {
        Sort::parse(self.sort.as_deref(), &COLUMNS)
    }

    /// The filters as a query string (no cursor, no order).
    fn encoded(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        let fields = [
            ("subject", &self.subject),
            ("action", &self.action),
            ("risk", &self.risk),
            ("decision", &self.decision),
            ("since", &self.since),
            ("until", &self.until),
        ];
        for (k, v) in fields {
            if let Some(v) = blank(v) {
                q.append_pair(k, &v);
            }
        }
        q.finish()
    }
}

/// `GET /ui/audit`.
pub async fn search(
    State(state): State<AppState>,
    session: Session,
    Query(filters): Query<Filters>,
) -> UiResult<Html<String>> {
    let found = read::search(&state, &session.caller, filters.query(PAGE)).await?;
    let chain = read::verify(&state, &session.caller).await?;
    let encoded = filters.encoded();
    let sort = filters.sort();
    let base = if encoded.is_empty() { "/ui/audit?".to_owned() } else { format!("/ui/audit?{encoded}&") };
    let next = found.next_cursor.as_ref().map(|next| format!("{base}sort={}&cursor={next}", sort.value()));
    let export = format!("/ui/audit/export?{}sort={}", base.trim_start_matches("/ui/audit?"), sort.value());
    let body = html! {
        h1 { "Audit trail" }
        @if chain.ok {
            p.notice role="status" data-chain="verified" { (badge("verified")) " The chain is intact: " (chain.checked) " events checked." }
        } @else {
            p.alert role="alert" data-chain="broken" {
                (badge("broken")) " The chain fails verification"
                @if let Some(bad) = &chain.first_bad { " at event " (bad.seq) " (" (bad.problem) "): " (bad.detail) }
                "."
            }
        }
        (form(&filters, sort))
        p { a href=(export) download="audit.jsonl" { "Export these events as JSON lines" } }
        (events(&found.events, sort, &base))
        @if let Some(next) = &next {
            nav.pages aria-label="Pages" {
                a rel="next" href=(next) { @if sort.ascending { "Newer events →" } @else { "Older events →" } }
            }
        }
    };
    Ok(session.page("Audit trail", body))
}

fn form(f: &Filters, sort: Sort) -> Markup {
    let v = |x: &Option<String>| blank(x).unwrap_or_default();
    let risk = v(&f.risk);
    html! {
        form.filters method="get" action="/ui/audit" role="search" {
            label { "Subject" input type="text" name="subject" value=(v(&f.subject)); }
            label { "Action" input type="text" name="action" value=(v(&f.action)) placeholder="token.create"; }
            label { "Risk"
                select name="risk" {
                    option value="" selected[risk.is_empty()] { "any" }
                    @for r in ["low", "moderate", "high", "critical"] { option value=(r) selected[risk == r] { (r) } }
                }
            }
            label { "Decision" input type="text" name="decision" value=(v(&f.decision)); }
            label { "Since" input type="text" name="since" value=(v(&f.since)) placeholder="24h or 2026-12-01T00:00:00Z"; }
            label { "Until" input type="text" name="until" value=(v(&f.until)); }
            input type="hidden" name="sort" value=(sort.value());
            button type="submit" { "Filter" }
        }
    }
}

fn events(events: &[AuditRecord], sort: Sort, base: &str) -> Markup {
    html! {
        @if events.is_empty() { p.muted { "No events match." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Audit events" data-table="audit" { table {
                thead { tr {
                    (sort.heading(base, COLUMNS[0])) th scope="col" { "Action" } th scope="col" { "Subject" } th scope="col" { "Risk" }
                    th scope="col" { "Decision" } th scope="col" { "Token" } th scope="col" { "Detail" }
                } }
                tbody { @for e in events {
                    tr data-seq=(e.seq) {
                        td { (time(e.time)) }
                        td { code { (e.action) } }
                        td { (e.subject.as_deref().unwrap_or("")) }
                        td { @if let Some(r) = &e.risk_level { (badge(r)) } }
                        td { (e.decision.as_deref().unwrap_or("")) }
                        td { @if let Some(t) = &e.token_id { code { (t) } } }
                        td { (e.operation.as_deref().unwrap_or("")) " " span.muted { (e.error.as_deref().unwrap_or("")) } }
                    }
                } }
            } }
        }
    }
}

/// `GET /ui/audit/export`: every event the filters match, in the page's order,
/// one JSON object a line.
pub async fn export(
    State(state): State<AppState>,
    session: Session,
    Query(mut filters): Query<Filters>,
) -> UiResult<Response> {
    let mut out = String::new();
    let mut written = 0;
    filters.cursor = None;
    loop {
        let found = read::search(&state, &session.caller, filters.query(ward_store::MAX_AUDIT_LIMIT)).await?;
        for e in &found.events {
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
            out.push('\n');
        }
        written += found.events.len();
        match found.next_cursor {
            Some(next) if written < MAX_EXPORT => filters.cursor = Some(next),
            _ => break,
        }
    }
    let mut response = out.into_response();
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/jsonl; charset=utf-8"));
    h.insert(CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"audit.jsonl\""));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::Filters;

    #[test]
    fn blank_filters_are_absent_and_the_rest_are_kept_in_links() {
        let f = Filters { subject: Some(" alice ".into()), risk: Some(String::new()), ..Filters::default() };
        let q = f.query(10);
        assert_eq!(q.subject.as_deref(), Some("alice"));
        assert_eq!(q.risk, None);
        assert_eq!(f.encoded(), "subject=alice");
    }
}
