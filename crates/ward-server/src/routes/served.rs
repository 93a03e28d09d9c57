//! The document as this server serves it: the one built from the code
//! ([`super::openapi`]), with the names only this server's config knows —
//! the scopes and meta-scopes it declares (`Scope`) and the operations of
//! its policy (`Operation`) — written into their schemas as `enum`s, so a
//! client or a fuzzer knows which names are accepted before it asks.

use crate::state::AppState;
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

/// The document for `state`'s config.
pub fn document(state: &AppState) -> OpenApi {
    let mut doc = super::openapi().clone();
    let scopes = state.settings.catalog.valid_names();
    let operations: Vec<String> = state.settings.policy.names().into_iter().map(str::to_owned).collect();
    if let Some(components) = doc.components.as_mut() {
        components
            .schemas
            .insert("Scope".to_owned(), names("a scope or meta-scope this server declares", scopes));
        components
            .schemas
            .insert("Operation".to_owned(), names("an operation of this server's policy", operations));
    }
    doc
}

fn names(description: &str, names: Vec<String>) -> RefOr<Schema> {
    let mut schema = ObjectBuilder::new().schema_type(Type::String).description(Some(description));
    if !names.is_empty() {
        schema = schema.enum_values(Some(names));
    }
    RefOr::T(Schema::Object(schema.build()))
}
