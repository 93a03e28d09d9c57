//! The document as this server serves it: the one built from the code
//! ([`super::openapi`]), with what the derive cannot say written in:
//!
//! - the names only this server's config knows — the scopes and
//!   meta-scopes it declares (`Scope`) and the operations of its policy
//!   (`Operation`) — as `enum`s, so a client or a fuzzer knows which names
//!   are accepted before it asks;
//! - `expires_in_days` and `ttl` given together (both non-null) are
//!   refused (`not`), as the server refuses them;
//! - `POST /v1/mint/revoke` takes no field but `jti` and `agent`
//!   and exactly one of them (`additionalProperties: false`,
//!   `minProperties: 1`, which the derive does not write).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Value, json};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, RefOr, Schema};

/// Declares `Scope` and `Operation` in the document built from the code:
/// any name, up to the 128 bytes a request field may hold.
pub fn declare(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, what) in [("Scope", "a scope or meta-scope"), ("Operation", "an operation name")] {
        let schema =
            ObjectBuilder::new().schema_type(Type::String).max_length(Some(128)).description(Some(what));
        components.schemas.insert(name.to_owned(), RefOr::T(Schema::Object(schema.build())));
    }
}

/// The document for `state`'s config, as JSON.
pub fn document(state: &AppState) -> ApiResult<Value> {
    let mut doc = serde_json::to_value(super::openapi())
        .map_err(|e| ApiError::Internal(format!("rendering the OpenAPI document: {e}")))?;
    let schemas = &mut doc["components"]["schemas"];
    let scopes = state.settings.catalog.valid_names();
    schemas["Scope"] = names("a scope or meta-scope this server declares", &scopes);
    let operations: Vec<String> = state.settings.policy.names().into_iter().map(str::to_owned).collect();
    schemas["Operation"] = names("an operation of this server's policy", &operations);
    for body in ["CreateTokenRequest", "CreateServiceUserRequest"] {
        if schemas[body].is_object() {
            schemas[body]["not"] = json!({
                "description": "expires_in_days and ttl are exclusive",
                "required": ["expires_in_days", "ttl"],
                "properties": {"expires_in_days": {"type": "integer"}, "ttl": {"type": "string"}}
            });
        }
    }
    if schemas["MintRevokeRequest"].is_object() {
        schemas["MintRevokeRequest"]["additionalProperties"] = json!(false);
        schemas["MintRevokeRequest"]["minProperties"] = json!(1);
    }
    Ok(doc)
}

fn names(description: &str, names: &[String]) -> Value {
    if names.is_empty() {
        return json!({"type": "string", "description": description, "maxLength": 128});
    }
    json!({"type": "string", "description": description, "enum": names})
}
