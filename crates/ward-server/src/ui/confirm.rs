//! The pages that ask before a destructive admin action, each naming
//! what it ends: revoke all of a user's tokens, delete a user or a
//! service user, retire a signing key, revoke an agent's tokens (or one
//! by `jti`). A table's button is a link here; the page's one form posts
//! to the action. Each page calls the authority function that checks
//! exactly what the action will (`users::tokens`, `users::to_delete`,
//! `mint::to_retire`, `mint::to_revoke`), so a caller who may not act
//! gets the same 403 or 404 here, before anything is shown.

use super::error::UiResult;
use super::layout::time;
use super::session::Session;
use crate::authority::input::MintRevoke;
use crate::authority::{mint, users};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use maud::{Markup, html};
use serde::Deserialize;
use ward_api::MintRevokeRequest;
use ward_core::TokenStatus;
use ward_store::UserKindFilter;

/// What a confirmation page shows and where its form posts.
struct Ask<'a> {
    title: &'a str,
    heading: Markup,
    what: Markup,
    action: &'a str,
    hidden: &'a [(&'a str, &'a str)],
    button: String,
    cancel: &'a str,
}

fn page(session: &Session, ask: Ask<'_>) -> Html<String> {
    let body = html! {
        h1 { (ask.heading) }
        (ask.what)
        p { strong { "This cannot be undone." } }
        form.inline method="post" action=(ask.action) {
            (session.csrf_field())
            @for (name, value) in ask.hidden { input type="hidden" name=(name) value=(value); }
            button.danger type="submit" { (ask.button) }
        }
        " " a href=(ask.cancel) { "Cancel" }
    };
    session.page(ask.title, body)
}

/// `GET /ui/users/{who}/revoke-tokens`.
pub async fn user_revoke_tokens(
    State(state): State<AppState>,
    session: Session,
    Path(who): Path<String>,
) -> UiResult<Html<String>> {
    let found = users::tokens(&state, &session.caller, &who).await?;
    let active = found.value.iter().filter(|t| t.token.status(found.now) == TokenStatus::Active).count();
    let action = format!("/ui/users/{who}/revoke-tokens");
    let what = html! {
        p {
            "Every token and session of " strong { (who) } " stops working at once: "
            strong data-count="active" { (active) } " active now. "
            "So does every agent token " (who) " minted, and their pending approval requests are denied. "
            (who) " can sign in again with their password."
        }
    };
    let ask = Ask {
        title: "Revoke all tokens of a user",
        heading: html! { "Revoke every token of " q { (who) } "?" },
        what,
        action: &action,
        hidden: &[],
        button: format!("Revoke all tokens of {who}"),
        cancel: "/ui/users",
    };
    Ok(page(&session, ask))
}

/// `GET /ui/users/{who}/delete` and `GET /ui/service-users/{who}/delete`.
async fn delete(
    state: &AppState,
    session: &Session,
    who: &str,
    kind: UserKindFilter,
) -> UiResult<Html<String>> {
    let user = users::to_delete(state, &session.caller, who, kind).await?;
    let (noun, list) = match kind {
        UserKindFilter::Service => ("service user", "/ui/service-users"),
        _ => ("user", "/ui/users"),
    };
    let action = format!("{list}/{}/delete", user.name);
    let what = html! {
        p {
            "The " (noun) " " strong { (user.name) } " (id " code { (user.id.as_str()) } ", created " (time(user.created_at)) ") "
            "is deleted, and everything it holds stops working at once: its tokens and sessions, the agent tokens it minted, "
            "its pending approval requests."
        }
    };
    let ask = Ask {
        title: "Delete a user",
        heading: html! { "Delete " (noun) " " q { (user.name) } "?" },
        what,
        action: &action,
        hidden: &[],
        button: format!("Delete {}", user.name),
        cancel: list,
    };
    Ok(page(session, ask))
}

/// `GET /ui/users/{who}/delete`.
pub async fn user_delete(
    State(state): State<AppState>,
    session: Session,
    Path(who): Path<String>,
) -> UiResult<Html<String>> {
    delete(&state, &session, &who, UserKindFilter::Human).await
}

/// `GET /ui/service-users/{who}/delete`.
pub async fn service_user_delete(
    State(state): State<AppState>,
    session: Session,
    Path(who): Path<String>,
) -> UiResult<Html<String>> {
    delete(&state, &session, &who, UserKindFilter::Service).await
}

/// `GET /ui/keys/{kid}/retire` (admins).
pub async fn key_retire(
    State(state): State<AppState>,
    session: Session,
    Path(kid): Path<String>,
) -> UiResult<Html<String>> {
    let key = mint::to_retire(&state, &session.caller, &kid).await?;
    let action = format!("/ui/keys/{}/retire", key.kid);
    let what = html! {
        p {
            "Signing key " code { (key.kid) } " (" (key.status.as_str()) ", created " (time(key.created_at)) ") "
            "stops verifying: every agent token it signed stops working at once, and so does everything those obtained. "
            "Rotate first if no other key is active."
        }
    };
    let ask = Ask {
        title: "Retire a signing key",
        heading: html! { "Retire signing key " code { (key.kid) } "?" },
        what,
        action: &action,
        hidden: &[],
        button: format!("Retire {}", key.kid),
        cancel: "/ui/agents",
    };
    Ok(page(&session, ask))
}

/// The query of `GET /ui/agents/revoke`: one of them.
#[derive(Debug, Deserialize)]
pub struct RevokeQuery {
    pub agent: Option<String>,
    pub jti: Option<String>,
}

/// `GET /ui/agents/revoke?agent=…` or `?jti=…`, as `POST /v1/mint/revoke`.
pub async fn agent_revoke(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<RevokeQuery>,
) -> UiResult<Html<String>> {
    let text = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let which = MintRevoke::try_from(MintRevokeRequest { jti: text(q.jti), agent: text(q.agent) })?;
    let found = mint::to_revoke(&state, &session.caller, &which).await?;
    let active: Vec<_> =
        found.value.iter().filter(|m| m.revoked_at.is_none() && m.expires_at > found.now).collect();
    let (field, value, heading, button, what) = match &which {
        MintRevoke::Agent(agent) => (
            "agent",
            agent.as_str().to_owned(),
            html! { "Revoke every token of agent " q { (agent.as_str()) } "?" },
            format!("Revoke all tokens of {}", agent.as_str()),
            html! {
                p {
                    "Every token of agent " strong { (agent.as_str()) } " issued so far that you reach stops working at once: "
                    strong data-count="active" { (active.len()) } " active now. Tokens minted afterwards are not affected."
                }
            },
        ),
        MintRevoke::Jti(jti) => {
            let Some(m) = found.value.first() else { return Err(ApiError::NotFound("minted token").into()) };
            (
                "jti",
                jti.to_string(),
                html! { "Revoke agent token " code { (jti.as_str()) } "?" },
                format!("Revoke {}", jti.as_str()),
                html! {
                    p {
                        "The token of agent " strong { (m.agent) } " (issued " (time(m.issued_at)) ", expires " (time(m.expires_at))
                        ") stops working at once, and so does everything it obtained."
                    }
                },
            )
        }
    };
    let hidden = [(field, value.as_str())];
    let ask = Ask {
        title: "Revoke agent tokens",
        heading,
        what,
        action: "/ui/agents/revoke",
        hidden: &hidden,
        button,
        cancel: "/ui/agents",
    };
    Ok(page(&session, ask))
}
