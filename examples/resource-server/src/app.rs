//! The service's routes: what the README's "Protect your service" shows.

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use ward_client::layer::{RequireOperation, RequireScopes, VerifyLayer};
use ward_client::{Principal, Verifier};

/// Every route but `/healthz` and `/public` needs a ward token.
pub fn app(verifier: Verifier) -> Router {
    let protected = Router::new()
        .route("/whoami", get(whoami))
        .merge(Router::new().route("/stacks", get(stacks)).route_layer(RequireScopes(["read:stacks"])))
        .merge(
            Router::new()
                .route("/containers/{id}/restart", post(restart))
                .route_layer(RequireOperation("restart_container")),
        )
        .layer(VerifyLayer::new(verifier));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/public", get(|| async { Json(json!({"stacks": ["web", "db"]})) }))
        .merge(protected)
}

/// Who called: the verified principal the layer put in the request.
async fn whoami(principal: Principal) -> Json<Value> {
    Json(json!({
        "subject": principal.subject(),
        "token_id": principal.token_id(),
        "scopes": principal.scopes(),
    }))
}

async fn stacks() -> Json<Value> {
    Json(json!({"stacks": ["web", "db"]}))
}

async fn restart(Path(id): Path<String>, principal: Principal) -> Json<Value> {
    Json(json!({"restarted": id, "by": principal.subject()}))
}
