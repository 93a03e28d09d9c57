//! The approvals queue (admins): pending requests with operation, risk,
//! who asked (the agent or token owner), the user behind it (the minter
//! of an agent), when asked and time left (sorted by either, both ways);
//! approve or deny with a reason through `authority::approvals::decide`.
//! The four-eyes rule is shown beforehand: each row carries the viewer's
//! answer from `ward_core::agent_rules::may_decide` (the API's own check,
//! through `authority::approvals::pending`), and a request the viewer may
//! not decide says why on its row instead of offering buttons. A refusal
//! at decision time (a race, a stale page) is still shown on the page.

use super::error::{UiError, UiResult};
use super::form::Posted;
use super::layout::{self, badge, time};
use super::session::Session;
use super::sort::{Column, Sort};
use crate::authority::approvals;
use crate::authority::input::Decide;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::html;
use serde::Deserialize;

/// The query of the queue: the notice of the form before, the order.
#[derive(Debug, Deserialize)]
pub struct Listing {
    pub done: Option<String>,
    pub sort: Option<String>,
}

/// The date columns of the queue.
const COLUMNS: [Column; 2] =
    [Column::newest_first("asked", "Asked"), Column::soonest_first("left", "Time left")];

/// How long until `end`, in words ("12 min", "expired").
fn left(now: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let secs = (end - now).num_seconds();
    match secs {
        ..=0 => "expired".into(),
        1..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// `GET /ui/approvals`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Listing>,
) -> UiResult<Response> {
    let notice = match q.done.as_deref() {
        Some("approved") => {
            Some("Approved. The requester's next authorize for that operation is allowed once.")
        }
        Some("denied") => Some("Denied."),
        _ => None,
    };
    let sort = Sort::parse(q.sort.as_deref(), &COLUMNS);
    queue(&state, &session, sort, StatusCode::OK, notice.map(layout::notice)).await
}

/// The queue, each row with the viewer's four-eyes answer
/// (`authority::approvals::pending`): a request this admin may not decide
/// says why on its row and offers no buttons.
async fn queue(
    state: &AppState,
    session: &Session,
    sort: Sort,
    status: StatusCode,
    message: Option<maud::Markup>,
) -> UiResult<Response> {
    let found = approvals::pending(state, &session.caller).await?;
    let now = found.now;
    let mut rows = found.value;
    sort.apply(&mut rows, |p, key| {
        Some(if key == "left" { p.record.expires_at } else { p.record.created_at })
    });
    let body = html! {
        h1 { "Approvals" }
        @if let Some(m) = message { (m) }
        p.muted {
            "Four eyes: you cannot decide a request that you made, that an agent you minted made, that a service user \
             you created made, or that a token you issued (or one up its line) made. Decisions need a login session. \
             A request you may not decide says why on its row."
        }
        @if rows.is_empty() {
            p { "No pending requests." }
        } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Pending requests" data-table="approvals" { table {
                thead { tr {
                    th scope="col" { "Operation" } th scope="col" { "Risk" } th scope="col" { "Asked by" }
                    th scope="col" { "On behalf of" } @for c in COLUMNS { (sort.heading("/ui/approvals?", c)) } th scope="col" { "Decide" }
                } }
                tbody { @for p in &rows {
                    @let a = &p.record;
                    tr data-approval-id=(a.id) data-may-decide=(if p.may_decide.is_ok() { "yes" } else { "no" }) {
                        td { code { (a.operation) } br; span.muted { (a.id) } }
                        td { (badge(a.risk.as_str())) }
                        td { (a.subject) }
                        td { @if let Some(b) = &p.behind { (b) } @else { span.muted { "unknown" } } }
                        td { (time(a.created_at)) }
                        td { (left(now, a.expires_at)) }
                        td {
                            @match &p.may_decide {
                                Ok(()) => {
                                    form.stack method="post" action={ "/ui/approvals/" (a.id) "/decide" } {
                                        (session.csrf_field())
                                        label for={ "reason-" (a.id) } { "Reason (optional)" }
                                        input id={ "reason-" (a.id) } name="reason" type="text" maxlength="200";
                                        div.actions {
                                            button type="submit" name="decision" value="approve" { "Approve " span.sr { (a.operation) " for " (a.subject) } }
                                            button.danger type="submit" name="decision" value="deny" { "Deny " span.sr { (a.operation) " for " (a.subject) } }
                                        }
                                    }
                                }
                                Err(why) => {
                                    p.four-eyes { strong { "Not yours to decide: " } (why.to_string()) }
                                }
                            }
                        }
                    }
                } }
            } }
        }
    };
    Ok((status, session.page("Approvals", body)).into_response())
}

/// `POST /ui/approvals/{id}/decide`: a refusal (four eyes, a decided or
/// expired request) is shown on the queue with its reason.
pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> UiResult<Response> {
    let Posted { session, fields } = posted;
    let approve = match fields.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => return Err(UiError::Api(ApiError::invalid("choose approve or deny"))),
    };
    let reason = fields.text("reason").map(|r| r.chars().take(200).collect());
    match approvals::decide(&state, &session.caller, &id, Decide { approve, reason }).await {
        Ok(_) => Ok(Redirect::to(if approve {
            "/ui/approvals?done=approved"
        } else {
            "/ui/approvals?done=denied"
        })
        .into_response()),
        Err(e @ (ApiError::Forbidden(_) | ApiError::Conflict(_))) if session.caller.is_admin() => {
            let why = format!("Not decided: {e}");
            let sort = Sort::parse(None, &COLUMNS);
            queue(&state, &session, sort, e.status(), Some(layout::alert(&why))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::left;
    use chrono::{DateTime, Duration};

    #[test]
    fn time_left_reads_in_the_largest_unit() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("present");
        assert_eq!(left(now, now - Duration::seconds(1)), "expired");
        assert_eq!(left(now, now + Duration::seconds(30)), "30 s");
        assert_eq!(left(now, now + Duration::minutes(12)), "12 min");
        assert_eq!(left(now, now + Duration::minutes(125)), "2 h 5 min");
    }
}
