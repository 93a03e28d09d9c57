//! Length bounds on request fields, applied while a body is read: a field
//! over its bound fails deserialization (422, naming the field), so nothing
//! of it reaches a lookup, the store or the audit trail. Fields whose
//! refusal must be counted (the login's) are bounded by their handler.
//!
//! Use with `#[serde(deserialize_with = "crate::bounds::name")]` (and
//! `#[serde(default)]` on the `opt_` forms).

use serde::de::Error;
use serde::{Deserialize, Deserializer};

/// Names and ids: agent names, jtis, approval and operation names.
pub const NAME: usize = 128;
/// Free text: reasons.
pub const TEXT: usize = 1024;

fn check<E: Error>(value: String, max: usize) -> Result<String, E> {
    if value.len() > max {
        return Err(E::custom(format_args!("longer than {max} bytes; shorten it")));
    }
    Ok(value)
}

/// A name of at most [`NAME`] bytes.
pub fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    check(String::deserialize(d)?, NAME)
}

/// An optional name of at most [`NAME`] bytes.
pub fn opt_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?.map(|v| check(v, NAME)).transpose()
}

/// Optional free text of at most [`TEXT`] bytes.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?.map(|v| check(v, TEXT)).transpose()
}
