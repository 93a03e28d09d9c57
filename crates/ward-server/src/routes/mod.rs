//! The router: every route is registered through `utoipa_axum`, so the
//! OpenAPI document at `/openapi.json` is built from the same list the
//! router serves and cannot miss one. One layer marks every `/v1` and
//! `/oauth` response `Cache-Control: no-store`: they carry credentials or
//! answers about them, which no browser or proxy may keep.

mod agents;
mod audit;
mod events;
mod forward_auth;
mod leaks;
mod oauth;
mod password;
mod responses;
mod served;
mod session;
mod tokens;
// --- issue 16: the idle-token policy ---
mod lifecycle;
mod users;
pub(crate) mod views;

use crate::observe;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::middleware::Next;
use axum::response::Response;
use axum::{Json, Router};
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ward_api::Health;

#[derive(OpenApi)]
#[openapi(
    info(title = "ward", description = "Issue, verify, revoke and audit API tokens."),
    modifiers(&BearerAuth),
    tags((name = "session"), (name = "tokens"), (name = "users"), (name = "service-users"), (name = "policy"), (name = "agents"), (name = "audit"), (name = "meta"), (name = "proxy"), (name = "oauth"))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // A service user's name and key, for `POST /oauth/introspect`.
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

/// Liveness: 200 while the process serves requests.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "meta", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// This document, with this server's scopes and operations.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi", tag = "meta", responses((status = 200, description = "the OpenAPI 3 document of this API")))]
async fn openapi_json(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> crate::error::ApiResult<Json<serde_json::Value>> {
    served::document(&state).map(Json)
}

/// The OpenAPI document, built once.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| api().1)
}

/// The OpenAPI document and the routes it describes.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let parts = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(openapi_json))
        .routes(routes!(observe::metrics_text))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::whoami))
        .routes(routes!(password::change))
        .routes(routes!(password::reset))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::show, tokens::delete))
        .routes(routes!(tokens::revoke))
        .routes(routes!(tokens::rotate))
        .routes(routes!(tokens::verify))
        .routes(routes!(users::create, users::list))
        .routes(routes!(users::tokens))
        .routes(routes!(users::revoke_tokens))
        .routes(routes!(users::delete))
        .routes(routes!(users::create_service_user, users::list_service_users))
        .routes(routes!(users::rotate_key))
        .routes(routes!(users::delete_service_user))
        .routes(routes!(agents::authorize_op))
        .routes(routes!(agents::list_approvals))
        .routes(routes!(agents::approve))
        .routes(routes!(agents::deny))
        .routes(routes!(agents::mint_token, agents::list_minted))
        .routes(routes!(agents::revoke_minted))
        .routes(routes!(agents::list_keys))
        .routes(routes!(agents::rotate_key))
        .routes(routes!(agents::retire_key))
        .routes(routes!(agents::jwks))
        .routes(routes!(audit::search))
        .routes(routes!(audit::verify))
        // --- issue 13: proxies and OAuth ---
        .routes(routes!(forward_auth::forward_auth))
        .routes(routes!(oauth::introspect))
        .routes(routes!(oauth::revoke))
        .routes(routes!(oauth::metadata))
        // --- issue 15: the revocation stream ---
        .routes(routes!(events::events))
        // --- issue 16: lifecycle ---
        .routes(routes!(lifecycle::list))
        .routes(routes!(lifecycle::revoke))
        // --- issue 16: leaked tokens, forensics ---
        .routes(routes!(leaks::report))
        .routes(routes!(tokens::identify))
        .split_for_parts();
    let (router, mut doc) = parts;
    responses::complete(&mut doc);
    served::declare(&mut doc);
    (router, doc)
}

pub use crate::error::MAX_BODY;

/// The full router, bound to `state`, reading at most [`MAX_BODY`] of any
/// body.
pub fn router(state: AppState) -> Router {
    api()
        .0
        .merge(crate::ui::router()) // the dashboard at /ui: HTML, not in the OpenAPI document
        // Unknown paths and methods answer ward's JSON error body too.
        .fallback(crate::error::no_route)
        .method_not_allowed_fallback(crate::error::wrong_method)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
        .layer(axum::middleware::from_fn(no_store))
        .layer(axum::middleware::from_fn(crate::ui::headers))
}

/// Whether responses to `path` must never be stored by a cache.
fn is_private(path: &str) -> bool {
    ["/v1", "/oauth"]
        .iter()
        .any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// `Cache-Control: no-store` on every `/v1` and `/oauth` response, errors
/// included, whatever the handler set.
async fn no_store(req: Request, next: Next) -> Response {
    let private = is_private(req.uri().path());
    let mut response = next.run(req).await;
    if private {
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::is_private;

    #[test]
    fn v1_and_oauth_are_private_and_nothing_else_is() {
        for p in ["/v1", "/v1/login", "/v1/tokens/tok_1/rotate", "/oauth/introspect", "/oauth"] {
            assert!(is_private(p), "{p}");
        }
        for p in ["/healthz", "/openapi.json", "/.well-known/jwks.json", "/v10/x", "/oauthx", "/"] {
            assert!(!is_private(p), "{p}");
        }
    }
}
